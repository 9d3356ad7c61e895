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
import { dag, z } from "driftflow";
import { dataPaths, homePaths } from "../tasks/data/mod.ts";
import {
  AlertConfig,
  ensureTextChampion,
  extractMailFiles,
  folderUri,
  monitorTextDrift,
  scoreMailFiles,
  sendTextAlert,
} from "../tasks/monitoring/mod.ts";

const params = z.object({
  inbox: z.string().default(dataPaths().textInbox),
  processed: z.string().default(homePaths().textProcessed),
  predictions: z.string().default(homePaths().textPredictions),
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
  .task("extract", { run: (ctx) => extractMailFiles(ctx, ctx.conf, ctx.dataInterval) })
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
    run: (ctx) => ensureTextChampion(ctx),
  })
  .task("transform", {
    deps: ["ensure_model"],
    run: (ctx) =>
      scoreMailFiles(ctx, ctx.xcom("ensure_model").version, ctx.xcom("extract").processed),
  })
  .task("monitor", {
    deps: ["transform"],
    run: (ctx) => monitorTextDrift(ctx, ctx.xcom("ensure_model"), ctx.xcom("transform").embedded),
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
    run: (ctx) => sendTextAlert(ctx, ctx.xcom("monitor")),
  });
