/**
 * The model library's public entry: the columnar Table (models/core), metrics, training and
 * scoring, the search spaces, the registry and model packages, the gate, recalibration.
 *
 * @example
 * ```ts
 * import { higherIsBetter, METRICS, rowCount } from "./mod.ts";
 * if (!higherIsBetter("roc_auc") || !("roc_auc" in METRICS)) throw new Error("ROC AUC: higher is better");
 * if (rowCount({ x: Float64Array.of(1, 2) }) !== 2) throw new Error("two rows");
 * ```
 */
export * from "./core/table.ts";
export { Random } from "./core/random.ts";
export { accuracy, f1, higherIsBetter, type MetricName, METRICS } from "./metrics.ts";
export { scoreModel, type TrainedModel, trainModel } from "./model.ts";
export { fingerprintTable, loadModel, registerModel } from "./package.ts";
export { ModelNotFoundError, ModelRegistry } from "./registry/registry.ts";
export {
  bestOf,
  evaluateTrial,
  GBDT_SPACE,
  halvingPlan,
  sampleTrials,
  SearchSpace,
  type TrialResult,
} from "./search.ts";
export { compareChallenger } from "./gate.ts";
export { recalibrateChampion } from "./recalibrate.ts";
