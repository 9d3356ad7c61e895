/**
 * `text_monitoring`: the text pipeline, run when new mail files land in the inbox (data-aware
 * scheduling: the scheduler watches the inbox folder as an asset; `deno task assets touch <inbox
 * URI>` or `POST /api/v1/assets/events` trigger it too).
 *
 * extract (the CSV files that landed — those the asset events name, else those modified in the
 * run's data interval; a manual run takes the hour from its logical date — under the inbox, local
 * or s3://; validated
 * against a schema, bad rows quarantined; written as Parquet to the processed prefix) → has_files?
 * → ensure_model (the champion spam filter; trained on the reference mails when there is none) →
 * transform (embeddings + the champion; predictions written out) → monitor (PSI and KS of the model
 * output against the baseline, and embedding drift through a domain classifier; WARNING above 0.2,
 * CRITICAL above 0.3) → route → alert or all_clear.
 *
 * Run it: `deno task run text_monitoring --param allFiles=true` (every file of the inbox).
 */
import { type ArtifactStore, dag, type SqlClient, z } from "driftflow";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { fingerprintTable, loadModel, registerModel } from "../models/package.ts";
import { ModelNotFoundError, ModelRegistry } from "../models/registry/registry.ts";
import { Alerter } from "../tasks/alert/alerter.ts";
import { AlertConfig } from "../tasks/alert/types.ts";
import { readCsv, writeCsv } from "../tasks/data/csv.ts";
import { list } from "../tasks/data/location.ts";
import { writeParquet } from "../tasks/data/parquet.ts";
import { dataDir, dataPaths } from "../tasks/data/prepare.ts";
import { TableSchema } from "../tasks/data/schema.ts";
import { concatTables, rowCount, type Table } from "../models/core/table.ts";
import { detectDrift } from "../tasks/drift/detect.ts";
import { ksTest, psi } from "../tasks/drift/stattests.ts";
import { embedMails, spamScores, trainTextModel } from "../tasks/monitoring/text.ts";
import { getTable, putTable } from "../tasks/monitoring/tables.ts";

const MAIL_SCHEMA = TableSchema.parse({
  columns: {
    id: { type: "categorical", required: true, nullable: false },
    text: { type: "text", required: true, nullable: false },
    label: { type: "categorical", required: false, values: ["spam", "ham"] },
  },
});

/** The champion the run works with (the version ensure_model settled on). */
async function champion(
  ctx: { db: SqlClient; artifacts: ArtifactStore },
  name: string,
  version: number,
) {
  const registry = await ModelRegistry.open(ctx.db);
  return await loadModel(`${name}@${version}`, { registry, artifacts: ctx.artifacts });
}

const params = z.object({
  inbox: z.string().default(dataPaths().textInbox),
  processed: z.string().default(`${dataDir()}/text/processed`),
  predictions: z.string().default(`${dataDir()}/text/predictions`),
  reference: z.string().default(dataPaths().textReference),
  textModels: z.string().default(dataPaths().textModels),
  textModel: z.string().default(dataPaths().textModel),
  model: z.string().default("spam_filter"),
  /** Take every file of the inbox, not only those of the run's hour. */
  allFiles: z.boolean().default(false),
  warning: z.number().positive().default(0.2),
  critical: z.number().positive().default(0.3),
  seed: z.number().int().default(0),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
});

/** The inbox as an asset URI: the folder new mail files land in. */
export const INBOX_ASSET = folderUri(dataPaths().textInbox);

function folderUri(path: string): string {
  const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? path : pathToFileURL(resolve(path)).href;
  return uri.endsWith("/") ? uri : `${uri}/`;
}

/** The files the run's asset events name (by base name), if any. */
function landedFiles(conf: Readonly<Record<string, unknown>>): Set<string> {
  const events = Array.isArray(conf.assetEvents) ? conf.assetEvents : [];
  const names = new Set<string>();
  for (const e of events as { extra?: { files?: unknown } }[]) {
    const files = e.extra?.files;
    if (Array.isArray(files)) { for (const f of files) names.add(String(f).split("/").pop()!); }
  }
  return names;
}

export default dag({
  id: "text_monitoring",
  description:
    "Text pipeline, run when mail files land: extract, embed and score, monitor outputs and embeddings, alert",
  onAssets: [INBOX_ASSET],
  watchAssets: true,
  maxActiveRuns: 1,
  params,
  defaults: { retries: 1, retryDelay: "10s", timeout: "20m" },
})
  .task("extract", {
    run: async (ctx) => {
      const p = ctx.params;
      const landed = landedFiles(ctx.conf);
      const { start } = ctx.dataInterval;
      // a manual run (an empty interval) takes the hour from its logical date
      const end = ctx.dataInterval.end > start
        ? ctx.dataInterval.end
        : new Date(start.getTime() + 3_600_000);
      const files = (await list(p.inbox, { suffix: ".csv" }))
        .filter((f) =>
          f.uri.endsWith(".csv") &&
          (p.allFiles || landed.has(f.uri.split("/").pop()!) ||
            (landed.size === 0 && f.modified >= start && f.modified < end))
        )
        .sort((a, b) => (a.uri < b.uri ? -1 : 1));
      const processed: string[] = [];
      let rows = 0, quarantined = 0;
      for (const f of files) {
        const name = f.uri.split("/").pop()!.replace(/\.csv$/, "");
        const r = await readCsv(f.uri, {
          schema: MAIL_SCHEMA,
          quarantine: `${p.processed}/quarantine/${name}.csv`,
        });
        rows += r.rows;
        quarantined += r.quarantined.length;
        if (r.rows === 0) continue;
        const out = `${p.processed}/${name}.parquet`;
        if (!out.startsWith("s3://")) await Deno.mkdir(p.processed, { recursive: true });
        await writeParquet(out, r.table);
        processed.push(out);
        ctx.log(
          `${f.uri}: ${r.rows} rows${
            r.quarantined.length ? `, ${r.quarantined.length} quarantined → ${r.quarantineUri}` : ""
          }`,
        );
      }
      return { files: files.length, processed, rows, quarantined };
    },
  })
  .branch("has_files", {
    deps: ["extract"],
    run: (ctx) => (ctx.xcom("extract").processed.length > 0 ? "ensure_model" : "nothing_new"),
  })
  .task("nothing_new", {
    deps: ["has_files"],
    run: (ctx) => ctx.log("no new mail files this hour"),
  })
  .task("ensure_model", {
    deps: ["has_files"],
    run: async (ctx) => {
      const p = ctx.params;
      const registry = await ModelRegistry.open(ctx.db);
      try {
        const v = await registry.resolve(`${p.model}@champion`);
        return { version: v.version, baseline: String(v.params.baselineData) };
      } catch (e) {
        if (!(e instanceof ModelNotFoundError)) throw e;
        ctx.log(`no champion for ${p.model}: training one on ${p.reference}`);
      }
      const reference = await getTable(ctx, p.reference);
      const { model, baseline } = await trainTextModel(reference, {
        model: p.textModel,
        localModelPath: p.textModels,
        seed: p.seed,
      });
      const baselineKey = await putTable(ctx, baseline);
      model.params = { ...model.params, baselineData: baselineKey, textModel: p.textModel };
      const v = await registerModel({ registry, artifacts: ctx.artifacts }, model, {
        name: p.model,
        fingerprint: await fingerprintTable(reference),
        lineage: { runId: ctx.runId, taskId: ctx.taskId },
        description: "spam filter on text embeddings",
      });
      await registry.setAlias(p.model, "champion", v.version, {
        reason: "first text model",
        runId: ctx.runId,
      });
      ctx.log(`trained ${p.model} v${v.version}: ${JSON.stringify(model.metrics)}`);
      return { version: v.version, baseline: baselineKey };
    },
  })
  .task("transform", {
    deps: ["ensure_model"],
    run: async (ctx) => {
      const p = ctx.params;
      const { model, onnx } = await champion(ctx, p.model, ctx.xcom("ensure_model").version);
      const mails = concatTables(
        await Promise.all(ctx.xcom("extract").processed.map((f) => getTable(ctx, f))),
      );
      const embedded = await embedMails(mails, {
        model: p.textModel,
        localModelPath: p.textModels,
      });
      const scores = await spamScores(model, onnx, embedded);
      const out = `${p.predictions}/run-${ctx.runId}.csv`;
      if (!out.startsWith("s3://")) await Deno.mkdir(p.predictions, { recursive: true });
      const predictions: Table = {
        id: mails.id,
        p_spam: scores,
        predicted: Array.from(scores, (s) => (s >= 0.5 ? "spam" : "ham")),
      };
      await writeCsv(out, predictions);
      ctx.log(`scored ${rowCount(mails)} mails → ${out}`);
      return {
        predictions: out,
        embedded: await putTable(ctx, { ...embedded, p_spam: scores }),
        rows: rowCount(mails),
      };
    },
  })
  .task("monitor", {
    deps: ["transform"],
    run: async (ctx) => {
      const p = ctx.params;
      const { model, onnx } = await champion(ctx, p.model, ctx.xcom("ensure_model").version);
      const baseline = await getTable(ctx, ctx.xcom("ensure_model").baseline);
      const baseScores = await spamScores(model, onnx, baseline);
      const current = await getTable(ctx, ctx.xcom("transform").embedded);
      const cur = current.p_spam as Float64Array;
      const outputPsi = psi(baseScores, cur);
      const ks = ksTest(baseScores, cur);
      const emb = Object.keys(baseline).filter((c) => c.startsWith("text_emb_"));
      const report = detectDrift(baseline, current, {
        only: emb,
        multivariate: true,
        seed: p.seed,
        histograms: false,
      });
      const domain = report.multivariate!;
      const level = outputPsi > p.critical
        ? "CRITICAL"
        : outputPsi > p.warning || domain.drifted
        ? "WARNING"
        : "OK";
      const summary = {
        level,
        psi: outputPsi,
        ks: ks.statistic,
        ksP: ks.pValue,
        embeddingAuc: domain.rocAuc,
        embeddingDrift: domain.drifted,
        spamShareBaseline: baseScores.filter((s) => s >= 0.5).length / baseScores.length,
        spamShareNow: cur.filter((s) => s >= 0.5).length / cur.length,
      };
      ctx.log(JSON.stringify(summary));
      return summary;
    },
  })
  .branch("route", {
    deps: ["monitor"],
    run: (ctx) => (ctx.xcom("monitor").level === "OK" ? "all_clear" : "alert"),
  })
  .task("all_clear", {
    deps: ["route"],
    run: (ctx) => ctx.log("model outputs and embeddings are stable"),
  })
  .task("alert", {
    deps: ["route"],
    run: async (ctx) => {
      const m = ctx.xcom("monitor");
      const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
      return await alerter.send({
        level: m.level === "CRITICAL" ? "CRITICAL" : "WARNING",
        key: `text:${ctx.params.model}`,
        title: `${ctx.params.model}: output PSI ${m.psi.toFixed(3)}, embedding AUC ${
          m.embeddingAuc.toFixed(3)
        }`,
        message: `spam share ${(m.spamShareBaseline * 100).toFixed(1)}% → ${
          (m.spamShareNow * 100).toFixed(1)
        }%; KS ${m.ks.toFixed(3)} (p ${m.ksP.toExponential(2)})`,
        dagId: ctx.dagId,
        runId: ctx.runId,
        details: m,
      });
    },
  });
