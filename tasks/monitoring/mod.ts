/**
 * The monitoring glue's public entry — what the DAG files call: each task of `drift_monitoring`,
 * `feedback_loop`, `training`, `hp_search`, `text_monitoring` and `drift_experiment` as a named
 * library function (given the task's context and its upstream values), with the types and
 * constants their params schemas use. The drift statistics are in tasks/drift (its mod.ts), the
 * models in models/.
 *
 * @example
 * ```ts
 * import { batchPath, FLIGHT_MODEL, labelledBatches, nextStreamState } from "./mod.ts";
 * const state = nextStreamState(undefined, { log: () => {} });
 * const path = batchPath({ batchDir: "data/batches", streamName: "flights" }, state.index);
 * if (path !== "data/batches/flights-batch-0000.parquet" || FLIGHT_MODEL !== "flights_delay") {
 *   throw new Error(path);
 * }
 * if (labelledBatches([path], 1).length !== 0) throw new Error("its labels have not landed");
 * ```
 */
export { AlertConfig } from "../alert/types.ts";
export type { TaskEnv } from "./task_env.ts";
export { FLIGHT_FEATURES, FLIGHT_MODEL, FLIGHT_TARGET } from "./flights.ts";
export { ActionOverrides, JudgePolicy } from "./judge.ts";
export { getTable, pick, putTable } from "./tables.ts";

// drift_monitoring: one stream batch per run
export type { StreamMonitorParams } from "./stream_params.ts";
export {
  batchPath,
  labelledBatches,
  nextStreamState,
  savedStreamState,
  type StreamState,
} from "./stream_state.ts";
export { type SimulatedBatch, writeStreamBatch } from "./stream_batch_file.ts";
export { currentChampion } from "./current_champion.ts";
export { championScorer, type Scorer, type ScorerOptions } from "./champion_scorer.ts";
export { type BatchDrift, columnSummaries, detectBatchDrift, SCORE } from "./batch_drift.ts";
export { judgeLandedLabels, type LandedLabels, landedLabelsBatch } from "./landed_labels.ts";
export { evaluateBatchSeverity, type SeverityOutcome, strongerOutcome } from "./batch_severity.ts";
export { driftAlert, type DriftAlertSubject, sendDriftAlert } from "./drift_alert.ts";
export { recordRetrainOutcome, type RetrainOutcome } from "./retrain_outcome.ts";
export { labelledPathOf, recalibrateOnBatch } from "./recalibrate_batch.ts";
