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
export { FLIGHT_FEATURES, FLIGHT_MODEL, FLIGHT_TARGET, WEEK_OF_FLIGHTS } from "./flights.ts";
export { ActionOverrides, JudgePolicy } from "./judge.ts";
export { getTable, pick, putTable } from "./tables.ts";

// state kept between runs, by stream or feedback source
export { keyedState, type KeyedStates, withKeyedState } from "./keyed_state.ts";
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
export { championOrSkip, currentChampion, noChampionReason } from "./current_champion.ts";
export { championScorer, type Scorer, type ScorerOptions } from "./champion_scorer.ts";
export { type BatchDrift, columnSummaries, detectBatchDrift } from "./batch_drift.ts";
export { judgeLandedLabels, type LandedLabels, landedLabelsBatch } from "./landed_labels.ts";
export { evaluateBatchSeverity, type SeverityOutcome, strongerOutcome } from "./batch_severity.ts";
export { driftAlert, type DriftAlertSubject, sendDriftAlert } from "./drift_alert.ts";
export { recordRetrainOutcome, type RetrainOutcome } from "./retrain_outcome.ts";
export { labelledPathOf, recalibrateOnBatch } from "./recalibrate_batch.ts";

// feedback_loop: the champion against collected feedback labels
export { feedbackKey, type FeedbackParams, feedbackStream } from "./feedback_params.ts";
export {
  type CollectedFeedback,
  collectFeedback,
  type FeedbackEvaluation,
  feedbackRows,
  feedbackState,
} from "./feedback_rows.ts";
export {
  type Confusion,
  confusionAt,
  evaluateFeedback,
  type FeedbackVerdict,
} from "./feedback_evaluation.ts";
export { feedbackAlert, notifyFeedbackOutcome } from "./feedback_alert.ts";

// training: fit, search, evaluate, register, gate, notify
export type { TrainingParams } from "./training_params.ts";
export { loadTrainingWindow, type TrainingWindow, windowBatches } from "./training_window.ts";
export {
  bestTrial,
  planTrials,
  runTrial,
  type TrialOutcome,
  type TrialSpec,
} from "./training_trials.ts";
export { measureRetrainNoise, type RetrainNoise } from "./training_noise.ts";
export { fitAndRegisterBest } from "./training_register.ts";
export { gateChallenger, type GateResult, notifyTraining, trainingAlert } from "./training_gate.ts";

// hp_search: successive halving, one mapped task per trial
export {
  MAX_RUNGS,
  planSearch,
  registerSearchWinner,
  rungSurvivors,
  runSearchTrial,
  type SearchParams,
  searchRungs,
  searchTable,
} from "./search_rungs.ts";

// text_monitoring: mail files landing, embedded, scored and monitored
export type { TextMonitorParams } from "./text_params.ts";
export {
  type ExtractedMails,
  extractMailFiles,
  folderUri,
  landedFiles,
  MAIL_SCHEMA,
} from "./mail_inbox.ts";
export { ensureTextChampion, type TextChampion, textChampion } from "./text_champion.ts";
export { scoreMailFiles, spamPredictions } from "./mail_scoring.ts";
export {
  monitorTextDrift,
  sendTextAlert,
  textAlert,
  type TextDrift,
  textDriftLevel,
} from "./text_drift.ts";

// drift_experiment: the detection benchmark as a DAG
export type { ExperimentParams } from "./experiment_params.ts";
export { BENCH_POLICY, BenchShift, type CellVerdict, DEFAULT_SHIFTS } from "./detection.ts";
export { DEFAULT_SCENARIOS, Scenario } from "./stream_protocol.ts";
export { type BenchSetupKeys, loadBenchSetup, storeBenchSetup } from "./bench_artifacts.ts";
export { gridChunks, runCellChunk, runScenario, writeDetectionSummary } from "./bench_tasks.ts";
