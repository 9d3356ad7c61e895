/**
 * Isotonic calibration of a classifier's scores (the probability of the positive class), fitted on
 * the honest out-of-time reference, for confidence-based performance estimation (cbpe.ts).
 *
 * Why isotonic and not Platt: isotonic regression assumes only that the calibrated probability
 * rises with the score; Platt scaling assumes the miscalibration is a sigmoid of the score, which
 * boosted trees (our default model) do not obey. Isotonic is monotone, so it keeps the model's
 * ranking (the AUC it is used to estimate) and it is NannyML's default for CBPE. Its cost is
 * variance on small references (a step function with many steps), which cbpe.ts accounts for by
 * refitting on Poisson-bootstrap weights (`bootstrapCalibrators`).
 *
 * Hand-written (pool-adjacent-violators, weighted, with ties grouped) because no maintained npm
 * package fits a weighted isotonic regression; it is forty lines and is checked against known
 * answers in tests/tasks/drift/calibration_test.ts. Prediction interpolates linearly between the
 * blocks' end points and clips outside the fitted range, as scikit-learn's
 * `IsotonicRegression(out_of_bounds="clip")` does.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyCalibrator, fitIsotonic } from "./calibration.ts";
 * // raw scores that overstate class 1: the calibrator maps them to observed shares
 * const referenceScores = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8, 0.9, 0.95];
 * const referenceLabels = [0, 0, 0, 0, 1, 0, 1, 1]; // 0/1
 * const cal = fitIsotonic(referenceScores, referenceLabels);
 * const p = applyCalibrator(cal, [0.15, 0.92]); // calibrated probabilities
 * assert.equal(p[0], 0);
 * assert.ok(p[1] > 0.5 && p[1] <= 1);
 * assert.equal(cal.positiveShare, 3 / 8);
 * ```
 */
import { z } from "zod";
import { Random } from "../../models/core/random.ts";

/** A fitted isotonic calibrator: increasing knots (x = score, y = calibrated probability). */
export const IsotonicCalibrator = z.object({
  method: z.literal("isotonic"),
  x: z.array(z.number()),
  y: z.array(z.number().min(0).max(1)),
  /** Rows the calibrator was fitted on (weight total for bootstrap fits). */
  rows: z.number().nonnegative(),
  /** Share of positive labels in the fitting rows. */
  positiveShare: z.number().min(0).max(1),
});
export type IsotonicCalibrator = z.infer<typeof IsotonicCalibrator>;

interface Block {
  w: number;
  wy: number;
  xLo: number;
  xHi: number;
}

/**
 * Fits a weighted isotonic regression of 0/1 labels on scores by pool-adjacent-violators.
 * `order` (indices sorted by score ascending) may be passed to reuse one sort across refits.
 */
export function fitIsotonic(
  score: ArrayLike<number>,
  y: ArrayLike<number>,
  weights?: ArrayLike<number>,
  order?: ArrayLike<number>,
): IsotonicCalibrator {
  if (score.length !== y.length) {
    throw new RangeError(
      `fitIsotonic: ${score.length} scores but ${y.length} labels; pass one label per score`,
    );
  }
  const idx = order ?? sortedOrder(score);
  // ties first: equal scores are one point (their weighted mean label)
  const points: Block[] = [];
  let total = 0, positives = 0;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    const w = weights ? weights[i] : 1;
    if (!(w > 0) || !Number.isFinite(score[i])) continue;
    if (y[i] !== 0 && y[i] !== 1) {
      throw new RangeError(`fitIsotonic: label ${y[i]} at row ${i}; labels must be 0 or 1`);
    }
    total += w;
    positives += w * y[i];
    const last = points.at(-1);
    if (last && last.xHi === score[i]) {
      last.w += w;
      last.wy += w * y[i];
    } else points.push({ w, wy: w * y[i], xLo: score[i], xHi: score[i] });
  }
  // pool adjacent violators: merge while a block's mean is not above its predecessor's
  const blocks: Block[] = [];
  for (const pt of points) {
    blocks.push(pt);
    while (blocks.length > 1) {
      const b = blocks[blocks.length - 1], a = blocks[blocks.length - 2];
      if (a.wy / a.w < b.wy / b.w) break;
      a.w += b.w;
      a.wy += b.wy;
      a.xHi = b.xHi;
      blocks.pop();
    }
  }
  if (total === 0) {
    throw new RangeError("fitIsotonic: no rows with a finite score and a positive weight");
  }
  const x: number[] = [], yy: number[] = [];
  for (const b of blocks) {
    const m = b.wy / b.w;
    x.push(b.xLo);
    yy.push(m);
    if (b.xHi > b.xLo) {
      x.push(b.xHi);
      yy.push(m);
    }
  }
  return { method: "isotonic", x, y: yy, rows: total, positiveShare: positives / total };
}

/** Indices of `values` sorted ascending (NaN last). */
export function sortedOrder(values: ArrayLike<number>): Uint32Array {
  const idx = Uint32Array.from({ length: values.length }, (_, i) => i);
  const key = (i: number) => (Number.isFinite(values[i]) ? values[i] : Infinity);
  return idx.sort((a, b) => key(a) - key(b));
}

/** Calibrated probabilities: linear between knots, clipped outside them; NaN score → NaN. */
export function applyCalibrator(cal: IsotonicCalibrator, score: ArrayLike<number>): Float64Array {
  const { x, y } = cal;
  const out = new Float64Array(score.length);
  for (let i = 0; i < score.length; i++) {
    const s = score[i];
    if (!Number.isFinite(s)) {
      out[i] = NaN;
      continue;
    }
    if (s <= x[0]) {
      out[i] = y[0];
      continue;
    }
    if (s >= x[x.length - 1]) {
      out[i] = y[y.length - 1];
      continue;
    }
    let lo = 0, hi = x.length - 1; // x[lo] < s < x[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (x[mid] <= s) lo = mid;
      else hi = mid;
    }
    const t = x[hi] === x[lo] ? 0 : (s - x[lo]) / (x[hi] - x[lo]);
    out[i] = y[lo] + t * (y[hi] - y[lo]);
  }
  return out;
}

/**
 * `rounds` calibrators refitted on Poisson(1) bootstrap weights of the same rows: their spread is
 * the calibration's own uncertainty, which a finite reference adds to every estimate.
 */
export function bootstrapCalibrators(
  score: ArrayLike<number>,
  y: ArrayLike<number>,
  { rounds = 20, seed = 0 }: { rounds?: number; seed?: number } = {},
): IsotonicCalibrator[] {
  const order = sortedOrder(score);
  const rng = new Random(seed);
  const w = new Float64Array(score.length);
  const out: IsotonicCalibrator[] = [];
  for (let r = 0; r < rounds; r++) {
    let total = 0;
    for (let tries = 0; total === 0 && tries < 100; tries++) {
      for (let i = 0; i < w.length; i++) total += w[i] = poisson1(rng);
    }
    if (total > 0) out.push(fitIsotonic(score, y, w, order));
  }
  return out;
}

const E_INV = Math.exp(-1);
/** A Poisson(1) draw by inversion. */
function poisson1(rng: Random): number {
  let k = 0, p = E_INV, cdf = p;
  const u = rng.next();
  while (u > cdf && k < 20) {
    k++;
    p /= k;
    cdf += p;
  }
  return k;
}
