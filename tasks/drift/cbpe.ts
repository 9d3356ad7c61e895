/**
 * Confidence-based performance estimation (CBPE, as NannyML): the champion's ROC AUC, accuracy and
 * F1 on a batch WITHOUT labels, from its scores calibrated on the honest out-of-time reference.
 *
 * - Calibrate: isotonic regression of the reference labels on the reference scores
 *   (calibration.ts says why isotonic).
 * - Expected confusion matrix at the model's threshold (0.5 on the raw score, as the realized
 *   metrics use): TP = Σ_{ŷ=1} pᵢ, FP = Σ_{ŷ=1} (1 − pᵢ), FN = Σ_{ŷ=0} pᵢ, TN = Σ_{ŷ=0} (1 − pᵢ),
 *   with pᵢ the calibrated probability; accuracy and F1 from it.
 * - Expected ROC AUC (NannyML's expected ROC): each row counts as pᵢ of a positive and 1 − pᵢ of a
 *   negative, ranked by the model's raw score (ties half):
 *   AUC = Σ_{i≠j} pᵢ(1 − pⱼ)·[sᵢ > sⱼ] / Σ_{i≠j} pᵢ(1 − pⱼ) (self-pairs left out: they are not pairs).
 * - Interval: a prediction interval for the REALIZED metric once labels arrive. Its sampling part is
 *   the spread of the metric when the labels are drawn as Bernoulli(pᵢ) (`simulations` draws: the
 *   batch's own sampling error at its size), its calibration part the spread of the estimate over
 *   calibrators refitted on bootstrap weights of the reference, and its calibration-shift part τ
 *   the drift of P(y | score) from one period to the next, measured out-of-time on the reference:
 *   the calibrator is fitted on K − 1 contiguous time blocks (the reference's row order is its time
 *   order: pass it sorted by date), the metric estimated on the held-out block and compared with
 *   its realized value, r = realized − estimated; τ² = max(0, mean r² − mean se²) with se² the
 *   block's own sampling² + calibration² (so τ is the error the two bootstrap parts do not
 *   explain). se = √(sampling² + calibration² + τ²), interval = estimate ± z(1 − α/2)·se.
 *
 * What it assumes: P(y | score) on the batch is the reference's. A shift in x leaves that intact
 * only insofar as the score captures it — a shift onto rows the score summarises poorly (features
 * the model under-uses) bends P(y | score) even when P(y | x) holds, and a concept shift
 * (P(y | x) moves) breaks it outright. τ widens the interval by the calibration drift the
 * reference itself showed between its periods; a larger bend than that is not covered, and
 * `compareEstimate` tests the difference once labels arrive — a departure is itself a concept (or
 * calibration) signal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { estimatePerformance, fitCbpe } from "./cbpe.ts";
 * // calibrated scores: each row is positive with the probability its score says
 * const rng = new Random(1);
 * const scores = (n: number) => Float64Array.from({ length: n }, () => rng.next());
 * const referenceScores = scores(2000);
 * const referenceLabels = referenceScores.map((p) => (rng.next() < p ? 1 : 0)); // in time order
 * const cbpe = fitCbpe(referenceScores, referenceLabels, { bootstrapRounds: 10 });
 * const est = estimatePerformance(cbpe, scores(500), { simulations: 50 }); // no labels needed
 * const auc = est.metrics.roc_auc; // { estimated, se, seShift, ciLow, ciHigh, … }
 * assert.ok(Math.abs(auc.estimated - 0.83) < 0.03); // the AUC of such scores is 5/6
 * assert.ok(auc.ciLow < auc.estimated && auc.estimated < auc.ciHigh);
 * ```
 */
import { z } from "zod";
import { aucFromRanks, midranks } from "../../models/metrics.ts";
import { Random } from "../../models/core/random.ts";
import {
  applyCalibrator,
  bootstrapCalibrators,
  fitIsotonic,
  IsotonicCalibrator,
} from "./calibration.ts";
import { normalSf, tTwoSidedP } from "./special.ts";

/** What CBPE assumes, stated in every result. */
export const CBPE_ASSUMPTION =
  "valid while P(y | score) is the reference's: covariate shift in x is fine only insofar as the score captures it (a shift onto rows the score summarises poorly bends P(y | score), and concept shift breaks it); the interval covers the calibration drift seen between the reference's own periods (τ), no more — compare with the realized value once labels arrive";

/**
 * The calibration-shift sd τ of each metric, measured out-of-time on the reference (`blocks`
 * held-out time blocks gave a residual; 0 blocks: too small a reference, τ unmeasured and 0).
 */
export const CalibrationShift = z.object({
  blocks: z.number().int().nonnegative(),
  threshold: z.number(),
  roc_auc: z.number().nonnegative(),
  accuracy: z.number().nonnegative(),
  f1: z.number().nonnegative(),
});
export type CalibrationShift = z.infer<typeof CalibrationShift>;

/** A CBPE model: the reference calibrator, its bootstrap refits and the calibration-shift τ. */
export interface CbpeModel {
  calibrator: IsotonicCalibrator;
  bootstrap: IsotonicCalibrator[];
  referenceRows: number;
  shift: CalibrationShift;
}

/** Fewest held-out blocks with a residual for τ to be estimated (else it is 0, and says so). */
const MIN_SHIFT_BLOCKS = 3;

/**
 * Fits CBPE on the reference's raw scores and 0/1 labels (rows with a missing one dropped), IN
 * TIME ORDER: `shiftBlocks` contiguous blocks of that order measure τ (0 turns τ off).
 * `threshold` is the one accuracy and F1 will be estimated at (τ is measured at it).
 */
export function fitCbpe(
  score: ArrayLike<number>,
  y: ArrayLike<number>,
  { bootstrapRounds = 20, seed = 0, shiftBlocks = 10, threshold = 0.5 }: {
    bootstrapRounds?: number;
    seed?: number;
    shiftBlocks?: number;
    threshold?: number;
  } = {},
): CbpeModel {
  const s: number[] = [], l: number[] = [];
  for (let i = 0; i < score.length; i++) {
    if (Number.isFinite(score[i]) && (y[i] === 0 || y[i] === 1)) {
      s.push(score[i]);
      l.push(y[i]);
    }
  }
  const pos = l.reduce((a, b) => a + b, 0);
  if (pos === 0 || pos === l.length) {
    throw new RangeError(
      `fitCbpe: the reference has ${pos} positive of ${l.length} labelled rows; calibration needs both classes`,
    );
  }
  const bootstrap = bootstrapCalibrators(s, l, { rounds: bootstrapRounds, seed });
  return {
    calibrator: fitIsotonic(s, l),
    bootstrap,
    referenceRows: l.length,
    shift: calibrationShift(s, l, bootstrap, shiftBlocks, threshold, seed),
  };
}

const NO_SHIFT = (threshold: number, blocks = 0): CalibrationShift => ({
  blocks,
  threshold,
  roc_auc: 0,
  accuracy: 0,
  f1: 0,
});

/** Realized AUC, accuracy and F1 of 0/1 labels at `threshold` on the raw scores. */
function realized(y: number[], score: Float64Array, threshold: number) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < y.length; i++) {
    if (score[i] >= threshold) {
      if (y[i]) tp++;
      else fp++;
    } else if (y[i]) fn++;
    else tn++;
  }
  return {
    roc_auc: aucFromRanks(y, midranks(score)),
    accuracy: (tp + tn) / y.length,
    f1: tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0,
  };
}

/**
 * τ per metric, out-of-time: for each of `blocks` contiguous blocks, the calibrator fitted on the
 * others estimates the block and its realized value gives r = realized − estimated; τ² =
 * max(0, mean r² − mean se²), se² the block's sampling² + calibration² (the reference's bootstrap
 * spread scaled by K/(K−1) to the smaller fitting set).
 */
function calibrationShift(
  s: number[],
  l: number[],
  bootstrap: IsotonicCalibrator[],
  blocks: number,
  threshold: number,
  seed: number,
): CalibrationShift {
  if (blocks < 2) return NO_SHIFT(threshold);
  const n = s.length;
  const sums = { roc_auc: [0, 0], accuracy: [0, 0], f1: [0, 0] };
  let used = 0;
  for (let k = 0; k < blocks; k++) {
    const lo = Math.floor((k * n) / blocks), hi = Math.floor(((k + 1) * n) / blocks);
    const heldY = l.slice(lo, hi);
    const trainY = [...l.slice(0, lo), ...l.slice(hi)];
    const heldPos = heldY.reduce((a, b) => a + b, 0);
    const trainPos = trainY.reduce((a, b) => a + b, 0);
    if (heldPos === 0 || heldPos === heldY.length || trainPos === 0) continue;
    if (trainPos === trainY.length || heldY.length < 2) continue;
    const fold: CbpeModel = {
      calibrator: fitIsotonic([...s.slice(0, lo), ...s.slice(hi)], trainY),
      bootstrap,
      referenceRows: trainY.length,
      shift: NO_SHIFT(threshold),
    };
    const heldS = Float64Array.from(s.slice(lo, hi));
    const est = estimatePerformance(fold, heldS, { threshold, seed: seed + 1 + k });
    const real = realized(heldY, heldS, threshold);
    for (const m of ESTIMATED_METRICS) {
      const e = est.metrics[m];
      const r = real[m] - e.estimated;
      if (!Number.isFinite(r)) continue;
      sums[m][0] += r * r;
      sums[m][1] += e.seSampling ** 2 + (e.seCalibration ** 2 * blocks) / (blocks - 1);
    }
    used++;
  }
  if (used < MIN_SHIFT_BLOCKS) return NO_SHIFT(threshold, 0);
  const tau = (m: EstimatedMetric) => Math.sqrt(Math.max(0, (sums[m][0] - sums[m][1]) / used));
  return {
    blocks: used,
    threshold,
    roc_auc: tau("roc_auc"),
    accuracy: tau("accuracy"),
    f1: tau("f1"),
  };
}

/** One estimated metric and its prediction interval for the realized value. */
export const MetricEstimate = z.object({
  estimated: z.number(),
  se: z.number(),
  seSampling: z.number(),
  seCalibration: z.number(),
  /** τ: the calibration drift between periods, measured out-of-time on the reference. */
  seShift: z.number(),
  /**
   * Effective degrees of freedom of se (Welch–Satterthwaite: τ² is estimated from the reference's
   * held-out blocks, the other parts count as known); null when τ = 0 (a normal interval).
   */
  df: z.number().positive().nullable(),
  ciLow: z.number(),
  ciHigh: z.number(),
});
export type MetricEstimate = z.infer<typeof MetricEstimate>;

export const ESTIMATED_METRICS = ["roc_auc", "accuracy", "f1"] as const;
export type EstimatedMetric = typeof ESTIMATED_METRICS[number];

/** CBPE's estimate for one batch. */
export const PerformanceEstimate = z.object({
  method: z.literal("cbpe"),
  calibration: z.literal("isotonic"),
  rows: z.number().int(),
  referenceRows: z.number().int(),
  /** Expected share of positives (mean calibrated probability). */
  expectedPositiveShare: z.number(),
  threshold: z.number(),
  alpha: z.number(),
  /** Held-out time blocks of the reference τ was measured on (0: not measured, τ = 0). */
  shiftBlocks: z.number().int().nonnegative(),
  metrics: z.object({
    roc_auc: MetricEstimate,
    accuracy: MetricEstimate,
    f1: MetricEstimate,
  }),
  assumption: z.string(),
});
export type PerformanceEstimate = z.infer<typeof PerformanceEstimate>;

/** The ordering of a batch's raw scores, shared by every probability vector estimated on it. */
interface Ranking {
  /** Tie groups in ascending score order: [start, end) into `order`. */
  groups: Uint32Array;
  order: Uint32Array;
}

function ranking(score: ArrayLike<number>): Ranking {
  const order = Uint32Array.from({ length: score.length }, (_, i) => i)
    .sort((a, b) => score[a] - score[b]);
  const groups: number[] = [0];
  for (let k = 1; k < order.length; k++) {
    if (score[order[k]] !== score[order[k - 1]]) groups.push(k);
  }
  groups.push(order.length);
  return { groups: Uint32Array.from(groups), order };
}

/**
 * Expected AUC over distinct pairs for probabilities `p` ranked by the raw scores; with `counts`,
 * of the resample that drew row i `counts[i]` times (each draw added once, in the same order as the
 * drawn rows would be, so the sums are the same term for term).
 */
function expectedAuc(r: Ranking, p: ArrayLike<number>, counts?: ArrayLike<number>): number {
  const { groups, order } = r;
  let negBelow = 0, num = 0, pos = 0, neg = 0, self = 0;
  for (let g = 0; g + 1 < groups.length; g++) {
    let gp = 0, gn = 0, drawn = 0;
    for (let k = groups[g]; k < groups[g + 1]; k++) {
      const i = order[k], c = counts ? counts[i] : 1, q = p[i];
      drawn += c;
      for (let t = 0; t < c; t++) {
        gp += q;
        gn += 1 - q;
        self += q * (1 - q);
      }
    }
    if (drawn === 0) continue;
    num += gp * negBelow + 0.5 * gp * gn;
    negBelow += gn;
    pos += gp;
    neg += gn;
  }
  const den = pos * neg - self;
  return den > 0 ? (num - 0.5 * self) / den : NaN;
}

function expectedAccF1(p: ArrayLike<number>, score: ArrayLike<number>, threshold: number) {
  let tp = 0, fp = 0, fn = 0, tn = 0;
  for (let i = 0; i < p.length; i++) {
    if (score[i] >= threshold) {
      tp += p[i];
      fp += 1 - p[i];
    } else {
      fn += p[i];
      tn += 1 - p[i];
    }
  }
  const n = tp + fp + fn + tn;
  return { accuracy: (tp + tn) / n, f1: tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0 };
}

function sd(values: number[]): number {
  const v = values.filter(Number.isFinite);
  if (v.length < 2) return 0;
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
}

/** z(1 − α/2) by bisection on the normal tail (α in (0, 1)). */
export function normalUpper(alphaTail: number): number {
  let lo = 0, hi = 40;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (normalSf(mid) > alphaTail) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** The two-sided (1 − α) quantile of Student's t with `df` degrees of freedom (bisection). */
export function tUpper(alpha: number, df: number): number {
  let lo = 0, hi = 1e6;
  for (let i = 0; i < 200 && hi - lo > 1e-10; i++) {
    const mid = (lo + hi) / 2;
    if (tTwoSidedP(mid, df) > alpha) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** CBPE's point estimate of ROC AUC alone (no interval): cheap enough for null resampling. */
export function estimateAuc(model: CbpeModel, score: ArrayLike<number>): number {
  return expectedAuc(ranking(score), applyCalibrator(model.calibrator, score));
}

/** A pool of raw scores resamples are drawn from, ranked and calibrated once. */
export interface ScorePool {
  ranking: Ranking;
  /** Each pool row's calibrated probability. */
  calibrated: Float64Array;
}

/**
 * Ranks and calibrates `pool` once for {@link estimateAucOfDraws}; null when a resample's estimate
 * could not be reproduced from counts (a non-finite score or a −0 among the pool, whose order or
 * calibration may differ from an equal +0's).
 */
export function scorePool(model: CbpeModel, pool: ArrayLike<number>): ScorePool | null {
  for (let i = 0; i < pool.length; i++) {
    if (!Number.isFinite(pool[i]) || Object.is(pool[i], -0)) return null;
  }
  return { ranking: ranking(pool), calibrated: applyCalibrator(model.calibrator, pool) };
}

/**
 * {@link estimateAuc} of a resample of the pool given as how often each pool row was drawn
 * (`counts[i]`): exactly the number estimateAuc gives on the drawn scores in any order, without
 * sorting them. Rows of equal score form one tie group there; every row of a group has the same
 * calibrated probability, so adding it once per draw, group by group in ascending order, repeats
 * estimateAuc's sums term for term.
 */
export function estimateAucOfDraws(pool: ScorePool, counts: ArrayLike<number>): number {
  return expectedAuc(pool.ranking, pool.calibrated, counts);
}

/** Estimates ROC AUC, accuracy and F1 of a batch's raw scores without labels. */
export function estimatePerformance(
  model: CbpeModel,
  score: ArrayLike<number>,
  { alpha = 0.05, threshold = 0.5, simulations = 200, seed = 0 }: {
    alpha?: number;
    threshold?: number;
    simulations?: number;
    seed?: number;
  } = {},
): PerformanceEstimate {
  const s = Float64Array.from(Array.prototype.filter.call(score, Number.isFinite) as number[]);
  if (s.length < 2) {
    throw new RangeError(
      `estimatePerformance: ${s.length} finite scores in the batch; at least 2 are needed`,
    );
  }
  const p = applyCalibrator(model.calibrator, s);
  const r = ranking(s);
  const auc = expectedAuc(r, p);
  const { accuracy, f1 } = expectedAccF1(p, s, threshold);

  // sampling: labels drawn as Bernoulli(p), realized metrics on the batch's own scores
  const ranks = midranks(s);
  const rng = new Random(seed);
  const y = new Float64Array(s.length);
  const simAuc: number[] = [], simAcc: number[] = [], simF1: number[] = [];
  for (let b = 0; b < simulations; b++) {
    let tp = 0, fp = 0, fn = 0, tn = 0;
    for (let i = 0; i < s.length; i++) {
      y[i] = rng.next() < p[i] ? 1 : 0;
      if (s[i] >= threshold) {
        if (y[i]) tp++;
        else fp++;
      } else if (y[i]) fn++;
      else tn++;
    }
    simAuc.push(aucFromRanks(y, ranks));
    simAcc.push((tp + tn) / s.length);
    simF1.push(tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0);
  }
  // calibration: the estimate under each bootstrap calibrator
  const calAuc: number[] = [], calAcc: number[] = [], calF1: number[] = [];
  for (const cal of model.bootstrap) {
    const q = applyCalibrator(cal, s);
    calAuc.push(expectedAuc(r, q));
    const m = expectedAccF1(q, s, threshold);
    calAcc.push(m.accuracy);
    calF1.push(m.f1);
  }
  const z = normalUpper(alpha / 2);
  // τ was measured at the model's threshold; at another one accuracy and F1 have none measured
  const sameCut = model.shift.threshold === threshold;
  const tauDf = Math.max(1, model.shift.blocks - 1);
  const one = (
    estimated: number,
    sim: number[],
    cal: number[],
    seShift: number,
  ): MetricEstimate => {
    const seSampling = sd(sim), seCalibration = sd(cal);
    const se = Math.sqrt(seSampling ** 2 + seCalibration ** 2 + seShift ** 2);
    const df = seShift > 0 ? se ** 4 / (seShift ** 4 / tauDf) : null;
    const q = df === null ? z : tUpper(alpha, df);
    return {
      estimated,
      se,
      seSampling,
      seCalibration,
      seShift,
      df,
      ciLow: Math.max(0, estimated - q * se),
      ciHigh: Math.min(1, estimated + q * se),
    };
  };
  let share = 0;
  for (const q of p) share += q;
  return {
    method: "cbpe",
    calibration: "isotonic",
    rows: s.length,
    referenceRows: model.referenceRows,
    expectedPositiveShare: share / s.length,
    threshold,
    alpha,
    shiftBlocks: model.shift.blocks,
    metrics: {
      roc_auc: one(auc, simAuc, calAuc, model.shift.roc_auc),
      accuracy: one(accuracy, simAcc, calAcc, sameCut ? model.shift.accuracy : 0),
      f1: one(f1, simF1, calF1, sameCut ? model.shift.f1 : 0),
    },
    assumption: CBPE_ASSUMPTION,
  };
}

/** Estimated against realized for one metric once labels arrive. */
export const EstimateComparison = z.object({
  estimated: z.number(),
  realized: z.number(),
  /** realized − estimated */
  difference: z.number(),
  se: z.number(),
  z: z.number(),
  /** Two-sided p-value of "the realized value is what CBPE predicted" (t with the se's df). */
  pValue: z.number(),
  alpha: z.number(),
  /** p < alpha: the estimate and the realized value parted (concept shift or miscalibration). */
  departed: z.boolean(),
});
export type EstimateComparison = z.infer<typeof EstimateComparison>;

/**
 * Tests realized = estimated with the estimate's prediction-interval se (the batch's sampling
 * error, the calibration's, and the calibration drift τ the reference showed between its
 * periods). It flags at about rate alpha while P(y | score) moves no more than it did within the
 * reference; a departure means P(y | score) moved further — a concept shift, or a covariate shift
 * the score does not capture.
 */
export function compareEstimate(
  estimate: MetricEstimate,
  realized: number,
  alpha = 0.05,
): EstimateComparison {
  const difference = realized - estimate.estimated;
  const zv = estimate.se > 0 ? difference / estimate.se : (difference === 0 ? 0 : Infinity);
  const pValue = !Number.isFinite(difference)
    ? NaN
    : estimate.df === null
    ? Math.min(1, 2 * normalSf(Math.abs(zv)))
    : tTwoSidedP(zv, estimate.df);
  return {
    estimated: estimate.estimated,
    realized,
    difference,
    se: estimate.se,
    z: zv,
    pValue,
    alpha,
    departed: pValue < alpha,
  };
}
