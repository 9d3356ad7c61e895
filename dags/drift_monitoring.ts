/**
 * `drift_monitoring`: one batch of the stream per run (scheduled hourly, or one-off).
 *
 * get_iteration_state → simulate_batch (the next `batchSize` rows of the stream, drift events from
 * conf injected and recorded) → has_data? no: end_pipeline; yes: get_champion → detect_drift (data,
 * prediction and performance drift of the champion; HTML + JSON report as artifacts; a row in the
 * monitoring table) → evaluate_severity → route by severity: none → log_only; minor → warn;
 * moderate / major / concept → alert → retrain (triggers `training` with the batches seen so far
 * and waits) → record_outcome (did the champion change?).
 *
 * Conf: `{ "events": [{ "atBatch": 6, "drift": { "kind": "mean_shift", "column": "distance", "k": 1.5 } }],
 * "policy": { "sensitivity": "medium" }, "actions": { "minor": "warn", "moderate": "retrain" } }`.
 */
import { dag, type SqlClient, z } from "driftflow";
import { loadModel } from "../models/package.ts";
import { runOnnx } from "../models/onnx/runtime.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import { Alerter } from "../tasks/alert/alerter.ts";
import { AlertConfig } from "../tasks/alert/types.ts";
import { parquetRowCount, readParquet } from "../tasks/data/parquet.ts";
import { dataDir, dataPaths } from "../tasks/data/prepare.ts";
import { writeParquet } from "../tasks/data/parquet.ts";
import { rowCount, sampleRows, type Table } from "../tasks/data/table.ts";
import { ColumnOptions, detectDrift } from "../tasks/drift/detect.ts";
import { applyEvents, DriftEvent } from "../tasks/drift/inject.ts";
import { renderDriftReportHtml } from "../tasks/drift/report_html.ts";
import { DriftReport, Severity } from "../tasks/drift/schema.ts";
import { evaluateSeverity, SeverityPolicy } from "../tasks/drift/severity.ts";
import { FLIGHT_FEATURES, FLIGHT_MODEL, FLIGHT_TARGET } from "../tasks/monitoring/flights.ts";
import { MonitoringTable } from "../tasks/monitoring/metrics_table.ts";
import { getTable, pick } from "../tasks/monitoring/tables.ts";

const Action = z.enum(["log", "warn", "retrain"]);
const params = z.object({
  stream: z.string().default(dataPaths().flightsStream),
  streamName: z.string().default("flights"),
  batchSize: z.number().int().positive().default(5000),
  /** Rows between batch starts (default batchSize: contiguous batches). */
  stride: z.number().int().positive().optional(),
  /**
   * Rows a batch is drawn from (default batchSize: the batch is the whole window). A window of a
   * week of traffic sampled down to batchSize avoids flagging the hour and weekday of a short slice.
   */
  window: z.number().int().positive().optional(),
  /** Where batches are written. */
  batchDir: z.string().default(`${dataDir()}/batches`),
  features: z.array(z.string()).default(FLIGHT_FEATURES),
  target: z.string().default(FLIGHT_TARGET),
  model: z.string().default(FLIGHT_MODEL),
  referenceRows: z.number().int().positive().default(20_000),
  /** Per-column drift settings (test, threshold, skip), as detectDrift's `columns` option. */
  columns: z.record(z.string(), ColumnOptions).default({}),
  events: z.array(DriftEvent).default([]),
  /** Start again from batch 0 instead of after the previous run's batch. */
  restart: z.boolean().default(false),
  seed: z.number().int().default(0),
  policy: SeverityPolicy.prefault({}),
  actions: z.partialRecord(Severity, Action).default({}),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
  /** Conf passed on to `training` when it is triggered (window, trials…). */
  training: z.record(z.string(), z.unknown()).default({}),
});

const DEFAULT_ACTIONS: Record<Severity, z.infer<typeof Action>> = {
  none: "log",
  minor: "warn",
  moderate: "retrain",
  major: "retrain",
  // no recalibration route here yet: a prior shift warns (tasks/drift DEFAULT_ACTIONS says recalibrate)
  prior: "warn",
  concept: "retrain",
};

type State = { index: number; batches: string[] };

/** Sends the batch's drift alert at `level`. */
async function driftAlert(
  ctx: {
    db: SqlClient;
    dagId: string;
    runId: number;
    params: z.infer<typeof params>;
    xcom(id: "evaluate_severity"): { severity: string; reasons: string[] };
    xcom(id: "get_iteration_state"): State;
    xcom(id: "detect_drift"): { html: string };
  },
  level: "WARNING" | "CRITICAL",
  suffix: string,
) {
  const s = ctx.xcom("evaluate_severity");
  const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
  return await alerter.send({
    level,
    key: `drift:${ctx.params.streamName}`,
    title: `${ctx.params.streamName}: ${s.severity} drift${suffix}`,
    message: s.reasons.join("\n"),
    dagId: ctx.dagId,
    runId: ctx.runId,
    details: { batch: ctx.xcom("get_iteration_state").index, html: ctx.xcom("detect_drift").html },
  });
}

export default dag({
  id: "drift_monitoring",
  description: "One stream batch per run: drift, severity, alert, retrain",
  schedule: "@hourly",
  startDate: "2026-01-01",
  catchup: false,
  maxActiveRuns: 1,
  params,
  defaults: { retries: 1, retryDelay: "5s", timeout: "30m" },
})
  .task("get_iteration_state", {
    run: async (ctx): Promise<State> => {
      const prior = ctx.params.restart ? undefined : await ctx.priorXcom<State>("save_state");
      const state = prior
        ? { index: prior.index + 1, batches: prior.batches }
        : { index: 0, batches: [] };
      ctx.log(`batch ${state.index}`);
      return state;
    },
  })
  .task("simulate_batch", {
    deps: ["get_iteration_state"],
    run: async (ctx) => {
      const p = ctx.params;
      const { index } = ctx.xcom("get_iteration_state");
      const total = await parquetRowCount(p.stream);
      const start = index * (p.stride ?? p.batchSize);
      if (start >= total) return { done: true as const, index, rows: 0 };
      const end = Math.min(total, start + (p.window ?? p.batchSize));
      const slice = (await readParquet(p.stream, { rowStart: start, rowEnd: end })).table;
      const raw = sampleRows(slice, p.batchSize, p.seed * 7919 + index);
      const { table, truth } = applyEvents(raw, p.events, index, p.seed);
      await Deno.mkdir(p.batchDir, { recursive: true });
      const path = `${p.batchDir}/${p.streamName}-batch-${String(index).padStart(4, "0")}.parquet`;
      await writeParquet(path, table);
      const dates = table.date as Float64Array | undefined;
      ctx.log(
        `rows ${start}..${end} → ${path}; injected: ${
          truth.events.map((e) => e.kind).join(", ") || "nothing"
        }`,
      );
      return {
        done: false as const,
        index,
        rows: rowCount(table),
        path,
        truth,
        from: dates ? new Date(dates[0]).toISOString() : null,
        to: dates ? new Date(dates[dates.length - 1]).toISOString() : null,
      };
    },
  })
  .branch("has_data", {
    deps: ["simulate_batch"],
    run: (ctx) => (ctx.xcom("simulate_batch").done ? "end_pipeline" : "get_champion"),
  })
  .task("end_pipeline", {
    deps: ["has_data"],
    run: (ctx) => ctx.log("the stream has no more rows"),
  })
  .task("get_champion", {
    deps: ["has_data"],
    run: async (ctx) => {
      const registry = await ModelRegistry.open(ctx.db);
      const v = await registry.resolve(`${ctx.params.model}@champion`);
      const reference = String(v.params.holdoutData ?? v.params.trainingData ?? "");
      if (!reference) {
        throw new Error(
          `${ctx.params.model} v${v.version} records no holdoutData or trainingData to compare with`,
        );
      }
      return { version: v.version, reference };
    },
  })
  .task("detect_drift", {
    deps: ["get_champion"],
    run: async (ctx) => {
      const p = ctx.params;
      const batch = ctx.xcom("simulate_batch");
      if (batch.done) throw new Error("unreachable: no batch");
      const champion = ctx.xcom("get_champion");
      const registry = await ModelRegistry.open(ctx.db);
      const { model, onnx } = await loadModel(`${p.model}@${champion.version}`, {
        registry,
        artifacts: ctx.artifacts,
      });
      const columns = [...p.features, p.target];
      const reference = sampleRows(
        pick(await getTable(ctx, champion.reference), columns, "reference"),
        p.referenceRows,
        p.seed,
      );
      const current = pick(await getTable(ctx, batch.path), columns, batch.path);
      const withScores = async (t: Table): Promise<Table> => {
        const out = await runOnnx(onnx, t, model.spec);
        const k = model.spec.target.classes!.indexOf("yes");
        return {
          ...t,
          p_late: Float64Array.from(
            { length: rowCount(t) },
            (_, i) => out.probabilities![i * out.width + k],
          ),
        };
      };
      const report = detectDrift(await withScores(reference), await withScores(current), {
        only: p.features,
        target: p.target,
        prediction: "p_late",
        positiveLabel: "yes",
        seed: p.seed,
        columns: p.columns,
      });
      const title = `${p.streamName} batch ${batch.index} (${
        batch.from?.slice(0, 10) ?? ""
      }) vs ${p.model} v${champion.version}`;
      const html = await ctx.putArtifact(renderDriftReportHtml(report, { title }));
      const json = await ctx.putArtifact(JSON.stringify(report));
      const auc = report.performance?.metrics.find((m) => m.name === "roc_auc")?.current.value ??
        null;
      const metrics = await MonitoringTable.open(ctx.db);
      const row = await metrics.insert({
        dagId: ctx.dagId,
        runId: ctx.runId,
        stream: p.streamName,
        batch: batch.index,
        rows: batch.rows,
        driftedShare: report.driftedShare,
        datasetDrift: report.datasetDrift,
        model: p.model,
        championVersion: champion.version,
        rocAuc: auc,
        reportHtml: html,
        reportJson: json,
        details: {
          truth: batch.truth,
          drifted: report.columns.filter((c) => c.drifted).map((c) => c.column),
          from: batch.from,
          to: batch.to,
          columns: Object.fromEntries(
            report.columns.map((
              c,
            ) => [c.column, { test: c.test, statistic: c.statistic, drifted: c.drifted }]),
          ),
        },
      });
      ctx.log(
        `drifted ${
          report.columns.filter((c) => c.drifted).map((c) => c.column).join(", ") || "nothing"
        }; ROC AUC ${auc?.toFixed(4)}`,
      );
      return { report: json, html, row, rocAuc: auc, driftedShare: report.driftedShare };
    },
  })
  .task("evaluate_severity", {
    deps: ["detect_drift"],
    run: async (ctx) => {
      const d = ctx.xcom("detect_drift");
      const report = DriftReport.parse(
        JSON.parse(new TextDecoder().decode(await ctx.getArtifact(d.report))),
      );
      const s = evaluateSeverity(report, ctx.params.policy);
      const action = { ...DEFAULT_ACTIONS, ...ctx.params.actions }[s.severity];
      await (await MonitoringTable.open(ctx.db)).update(d.row, { severity: s.severity, action });
      for (const r of s.reasons) ctx.log(r);
      return { ...s, action };
    },
  })
  .branch("route", {
    deps: ["evaluate_severity"],
    run: (ctx) =>
      ({ log: "log_only", warn: "warn", retrain: "alert" })[ctx.xcom("evaluate_severity").action],
  })
  .task("log_only", {
    deps: ["route"],
    run: (ctx) => ctx.log(`severity ${ctx.xcom("evaluate_severity").severity}: nothing to do`),
  })
  .task("warn", { deps: ["route"], run: (ctx) => driftAlert(ctx, "WARNING", "") })
  .task("alert", { deps: ["route"], run: (ctx) => driftAlert(ctx, "CRITICAL", " — retraining") })
  .triggerDag("retrain", {
    deps: ["alert"],
    dagId: "training",
    wait: true,
    conf: (ctx) => {
      const batch = ctx.xcom("simulate_batch");
      const seen = [
        ...ctx.xcom("get_iteration_state").batches,
        ...(batch.done ? [] : [batch.path]),
      ];
      return { ...ctx.params.training, batches: seen, model: ctx.params.model };
    },
  })
  .task("record_outcome", {
    deps: ["retrain"],
    run: async (ctx) => {
      const before = ctx.xcom("get_champion").version;
      const after =
        (await (await ModelRegistry.open(ctx.db)).resolve(`${ctx.params.model}@champion`)).version;
      const changed = after !== before;
      await (await MonitoringTable.open(ctx.db)).update(ctx.xcom("detect_drift").row, {
        action: changed ? `retrained: v${after} promoted` : `retrained: v${before} kept`,
      });
      ctx.log(changed ? `champion changed: v${before} → v${after}` : `champion kept: v${before}`);
      return { before, after, changed, training: ctx.xcom("retrain") };
    },
  })
  .task("save_state", {
    deps: ["log_only", "warn", "record_outcome", "end_pipeline"],
    triggerRule: "none_failed_min_one_success",
    run: (ctx): State => {
      const s = ctx.xcom("get_iteration_state");
      const batch = ctx.xcom("simulate_batch");
      return { index: s.index, batches: batch.done ? s.batches : [...s.batches, batch.path] };
    },
  });
