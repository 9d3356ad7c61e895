/**
 * Performance drift when labels exist: each metric on reference and current rows with a bootstrap
 * confidence interval, and its change (current − reference). Classification expects 0/1 labels and
 * the predicted probability of class 1; regression expects values and predictions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { performanceDrift } from "./performance.ts";
 * const y = [0, 0, 0, 0, 1, 1, 1, 1];
 * const pRef = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9]; // ranks every row right
 * const pCur = [0.1, 0.6, 0.3, 0.7, 0.2, 0.4, 0.8, 0.9]; // mixes some up
 * const p = performanceDrift("classification", { y, score: pRef }, { y, score: pCur }, {
 *   rounds: 50,
 * });
 * const auc = p.metrics.find((m) => m.name === "roc_auc")!;
 * assert.equal(auc.reference.value, 1);
 * assert.equal(auc.current.value, 11 / 16); // 11 of the 16 (positive, negative) pairs in order
 * assert.equal(auc.change, 11 / 16 - 1); // current − reference
 * ```
 */
import { bootstrapMetrics, type MetricName, METRICS } from "../../models/metrics.ts";
import type { PerformanceDrift } from "./schema.ts";

/** Labels and scores of one side, rows with a missing label or score already dropped. */
export interface Labelled {
  y: ArrayLike<number>;
  score: ArrayLike<number>;
}

const CLASSIFICATION: MetricName[] = ["accuracy", "f1", "roc_auc", "log_loss"];
const REGRESSION: MetricName[] = ["rmse", "mae"];

/** Metrics with bootstrap intervals on both sides. */
export function performanceDrift(
  task: "classification" | "regression",
  reference: Labelled,
  current: Labelled,
  { rounds = 200, seed = 0 }: { rounds?: number; seed?: number } = {},
): PerformanceDrift {
  const names = task === "classification" ? CLASSIFICATION : REGRESSION;
  // every metric on the same resamples of a side (as each one's bootstrapMetric would draw them)
  const fns = names.map((name) => METRICS[name]);
  const refs = bootstrapMetrics(fns, reference.y, reference.score, { rounds, seed });
  const curs = bootstrapMetrics(fns, current.y, current.score, { rounds, seed: seed + 1 });
  const metrics = names.flatMap((name, i) => {
    const ref = refs[i], cur = curs[i];
    if (!Number.isFinite(ref.value) || !Number.isFinite(cur.value)) return [];
    return [{ name, reference: ref, current: cur, change: cur.value - ref.value }];
  });
  return { task, metrics };
}
