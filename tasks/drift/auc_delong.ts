/**
 * ROC AUC with its DeLong standard error (DeLong, DeLong and Clarke-Pearson 1988, in the fast
 * midrank form of Sun and Xu 2014), and the one-sided test that the current batch's AUC is below the
 * reference's, using both sides' uncertainty: z = (ref − cur) / √(se_ref² + se_cur²). The two sides
 * are independent samples (the reference holdout and the current batch), so the variances add.
 * Hand-written: no npm package computes DeLong's variance.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { aucDropTest, aucWithSe } from "./auc_delong.ts";
 * const rng = new Random(1);
 * const y = Float64Array.from({ length: 400 }, (_, i) => i % 2);
 * const sharp = Float64Array.from(y, (v) => v + rng.normal() * 0.5); // AUC ≈ 0.92
 * const blurred = Float64Array.from(y, (v) => v + rng.normal() * 2); // AUC ≈ 0.64
 * const ref = aucWithSe(y, sharp), cur = aucWithSe(y, blurred);
 * assert.ok(ref.se > 0 && ref.positives === 200);
 * assert.ok(aucDropTest(ref, cur).pValue < 0.001); // small: the current AUC fell
 * ```
 */
import { sampleVariance } from "simple-statistics";
import { midranks } from "../../models/metrics.ts";
import { normalSf } from "./special.ts";

/** An AUC, its DeLong standard error and the class counts it rests on. */
export interface AucEstimate {
  auc: number;
  se: number;
  positives: number;
  negatives: number;
}

/** ROC AUC of scores for 0/1 labels, with DeLong's standard error; NaN without both classes. */
export function aucWithSe(y: ArrayLike<number>, score: ArrayLike<number>): AucEstimate {
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < y.length; i++) (y[i] === 1 ? pos : neg).push(score[i]);
  const m = pos.length, n = neg.length;
  if (m === 0 || n === 0) return { auc: NaN, se: NaN, positives: m, negatives: n };
  const all = midranks([...pos, ...neg]);
  const rp = midranks(pos), rn = midranks(neg);
  // structural components: v10 per positive (share of negatives it beats), v01 per negative
  const v10 = new Float64Array(m), v01 = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < m; i++) {
    v10[i] = (all[i] - rp[i]) / n;
    sum += v10[i];
  }
  for (let j = 0; j < n; j++) v01[j] = 1 - (all[m + j] - rn[j]) / m;
  const auc = sum / m;
  const variance = (v: Float64Array) => (v.length < 2 ? 0 : sampleVariance(Array.from(v)));
  const se = Math.sqrt(variance(v10) / m + variance(v01) / n);
  return { auc, se, positives: m, negatives: n };
}

/** The one-sided test of an AUC drop: z = (ref − cur)/√(se_ref² + se_cur²), p = P(Z ≥ z). */
export function aucDropTest(
  ref: AucEstimate,
  cur: AucEstimate,
): { drop: number; se: number; z: number; pValue: number } {
  const drop = ref.auc - cur.auc;
  const se = Math.sqrt(ref.se ** 2 + cur.se ** 2);
  if (!Number.isFinite(drop) || !(se > 0)) {
    return { drop, se, z: 0, pValue: Number.isFinite(drop) && drop > 0 ? 0 : 1 };
  }
  const z = drop / se;
  return { drop, se, z, pValue: normalSf(z) };
}
