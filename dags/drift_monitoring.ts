/**
 * `drift_monitoring`: one batch of the stream per run (scheduled hourly, or one-off).
 *
 * get_iteration_state → simulate_batch (the next `batchSize` rows of the stream, drift events from
 * conf injected and recorded; under the home: `DRIFTFLOW_HOME`/batches) → has_data? no:
 * end_pipeline; yes: get_champion (and its honest reference: the out-of-time holdout `training`
 * recorded; with no champion yet it skips, saying to run `training` first, and the rest of the
 * run is skipped with it) → detect_drift (data, data quality,
 * prediction and performance drift of the champion under the policy; HTML + JSON report; a row in
 * the monitoring table) → evaluate_severity (the grade with its reasons, given the earlier verdicts
 * of the same champion) → route by the grade's action: log → log_only; warn → warn; retrain →
 * alert → retrain (triggers `training` with the batches seen so far and waits) → record_outcome;
 * recalibrate → recalibrate (the champion's log-odds shifted to the batch's prior, gated on it).
 *
 * Default actions: none/minor → log, moderate → warn, major → retrain, prior → recalibrate,
 * concept → retrain. Each task is one call into tasks/monitoring (its mod.ts): stream_state,
 * stream_batch_file, current_champion, batch_drift (with landed_labels), batch_severity,
 * drift_alert, retrain_outcome, recalibrate_batch.
 *
 * Conf: `{ "events": [{ "atBatch": 6, "drift": { "kind": "mean_shift", "column": "distance", "k": 1.5 } }],
 * "policy": { "alpha": 0.05, "severity": { "persistence": 2 } }, "actions": { "moderate": "log" } }`.
 */
import { dag, z } from "driftflow";
import { dataPaths, homePaths } from "../tasks/data/mod.ts";
import { ColumnOptions, DriftEvent } from "../tasks/drift/mod.ts";
import {
  ActionOverrides,
  AlertConfig,
  currentChampion,
  detectBatchDrift,
  evaluateBatchSeverity,
  FLIGHT_FEATURES,
  FLIGHT_MODEL,
  FLIGHT_TARGET,
  JudgePolicy,
  keyedState,
  type KeyedStates,
  labelledBatches,
  nextStreamState,
  recalibrateOnBatch,
  recordRetrainOutcome,
  savedStreamState,
  sendDriftAlert,
  type StreamState,
  WEEK_OF_FLIGHTS,
  withKeyedState,
  writeStreamBatch,
} from "../tasks/monitoring/mod.ts";

type Saved = KeyedStates<StreamState> | StreamState;

const params = z.object({
  stream: z.string().default(dataPaths().flightsStream),
  streamName: z.string().default("flights"),
  batchSize: z.number().int().positive().default(5000),
  /** Rows between batch starts (default: the window, so batches do not overlap). */
  stride: z.number().int().positive().optional(),
  /**
   * Rows a batch is drawn from, sampled down to batchSize (at least batchSize). The default is a
   * week of the flights stream (~116,000 rows): a batch then mixes weekdays and hours as the
   * reference does. A contiguous slice of a few hours (window = batchSize) differs from it in
   * hour and weekday, and its ROC AUC in that day's weather — real, and nothing a retrain fixes.
   */
  window: z.number().int().positive().default(WEEK_OF_FLIGHTS),
  /** Where batches are written (under the home: `DRIFTFLOW_HOME`/batches). */
  batchDir: z.string().default(homePaths().batches),
  features: z.array(z.string()).default(FLIGHT_FEATURES),
  target: z.string().default(FLIGHT_TARGET),
  positiveLabel: z.string().default("yes"),
  model: z.string().default(FLIGHT_MODEL),
  referenceRows: z.number().int().positive().default(20_000),
  /** Per-column drift settings (test, threshold, skip); shorthand for policy.columns. */
  columns: z.record(z.string(), ColumnOptions).default({}),
  events: z.array(DriftEvent).default([]),
  /** Start again from batch 0 instead of after the previous run's batch. */
  restart: z.boolean().default(false),
  seed: z.number().int().default(0),
  /** The judgement policy: preset (default | evidently), α, correction, severity policy. */
  policy: JudgePolicy.prefault({}),
  actions: ActionOverrides.default({}),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
  /**
   * Batches until a batch's labels arrive (0: with the batch). Batch t is judged first without
   * its labels (covariates, scores, CBPE's estimated performance; no concept or prior grade), and
   * again when batch t + labelsDelay runs: realized metrics, estimated vs realized, the labelled
   * grade — a second verdict that can retrain or recalibrate through the same routes.
   */
  labelsDelay: z.number().int().nonnegative().default(0),
  /** The sequential detectors: family ARL0 (batches between false alarms) and the detector. */
  sequential: z.object({
    arl0: z.number().min(2).default(200),
    detector: z.enum(["cusum", "page_hinkley"]).default("cusum"),
  }).prefault({}),
  /** Conf passed on to `training` when it is triggered (window, trials…). */
  training: z.record(z.string(), z.unknown()).default({}),
});

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
    run: async (ctx) =>
      nextStreamState(
        // each stream's state is its own (streams by name from one home)
        ctx.params.restart ? undefined : keyedState(
          await ctx.priorXcom<Saved>("save_state"),
          ctx.params.streamName,
        ),
        ctx,
      ),
  })
  .task("simulate_batch", {
    deps: ["get_iteration_state"],
    run: (ctx) => writeStreamBatch(ctx, ctx.xcom("get_iteration_state").index),
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
    run: (ctx) => currentChampion(ctx),
  })
  .task("detect_drift", {
    deps: ["get_champion"],
    run: (ctx) => detectBatchDrift(ctx, ctx.xcom("simulate_batch"), ctx.xcom("get_champion")),
  })
  .task("evaluate_severity", {
    deps: ["detect_drift"],
    run: (ctx) =>
      evaluateBatchSeverity(
        ctx,
        ctx.xcom("get_iteration_state").index,
        ctx.xcom("simulate_batch"),
        ctx.xcom("get_champion").version,
        ctx.xcom("detect_drift"),
      ),
  })
  .branch("route", {
    deps: ["evaluate_severity"],
    run: (ctx) =>
      ({ log: "log_only", warn: "warn", retrain: "alert", recalibrate: "recalibrate" } as const)[
        ctx.xcom("evaluate_severity").action
      ],
  })
  .task("log_only", {
    deps: ["route"],
    run: (ctx) => ctx.log(`severity ${ctx.xcom("evaluate_severity").severity}: nothing to do`),
  })
  .task("warn", {
    deps: ["route"],
    run: (ctx) =>
      sendDriftAlert(ctx, "WARNING", "", {
        ...ctx.xcom("evaluate_severity"),
        batch: ctx.xcom("get_iteration_state").index,
        html: ctx.xcom("detect_drift").html,
      }),
  })
  .task("alert", {
    deps: ["route"],
    run: (ctx) =>
      sendDriftAlert(ctx, "CRITICAL", " — retraining", {
        ...ctx.xcom("evaluate_severity"),
        batch: ctx.xcom("get_iteration_state").index,
        html: ctx.xcom("detect_drift").html,
      }),
  })
  .triggerDag("retrain", {
    deps: ["alert"],
    dagId: "training",
    wait: true,
    conf: (ctx) => ({
      ...ctx.params.training,
      batches: labelledBatches(
        savedStreamState(ctx.xcom("get_iteration_state"), ctx.xcom("simulate_batch")).batches,
        ctx.params.labelsDelay,
      ),
      model: ctx.params.model,
    }),
  })
  .task("record_outcome", {
    deps: ["retrain"],
    run: (ctx) =>
      recordRetrainOutcome(ctx, {
        before: ctx.xcom("get_champion").version,
        row: ctx.xcom("evaluate_severity").actedOn.row,
        training: ctx.xcom("retrain"),
      }),
  })
  .task("recalibrate", {
    deps: ["route"],
    run: (ctx) =>
      recalibrateOnBatch(
        ctx,
        ctx.xcom("evaluate_severity").actedOn,
        ctx.xcom("evaluate_severity").reasons[0],
      ),
  })
  .task("save_state", {
    deps: ["log_only", "warn", "record_outcome", "recalibrate", "end_pipeline"],
    triggerRule: "none_failed_min_one_success",
    run: async (ctx) =>
      withKeyedState(
        await ctx.priorXcom<Saved>("save_state"),
        ctx.params.streamName,
        savedStreamState(ctx.xcom("get_iteration_state"), ctx.xcom("simulate_batch")),
      ),
  });
