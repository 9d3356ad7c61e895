/**
 * Sequential change detectors over per-batch statistics (river's CUSUM and Page–Hinkley), so a
 * drift too small for any one batch's test is caught by accumulated evidence while a one-batch blip
 * is not. Each detector reads a standardised statistic z (≈ N(0, 1) while nothing changes, larger
 * = more drift) and keeps plain-JSON state: `nextDetector(state, z) → { state, alarm }`, so the
 * stream can store it between batches and resume after a restart.
 *
 * Standardising (the caller's part, helpers here):
 * - a statistic with an exact null p-value (a column's KS or pooled χ² test, KS on the scores):
 *   `zFromPValue(p)` = Φ⁻¹(1 − p), exactly N(0, 1) under the null (discrete tests: conservative);
 * - any other statistic (the estimated AUC): `standardise(x, null)` with the null mean and sd
 *   estimated on the reference (random subsets of the batch's size, `nullModel`).
 *
 * The stated false-alarm rate is the in-control average run length ARL0 (batches between false
 * alarms; false alarms per 100 batches ≈ 100 / ARL0):
 * - CUSUM: Sₜ = max(0, Sₜ₋₁ + zₜ − k), alarm when Sₜ > h, then S restarts at 0. h is chosen for the
 *   target ARL0 by Siegmund's approximation for N(0, 1) increments,
 *   ARL0 ≈ (e^{2kb} − 2kb − 1) / (2k²), b = h + 1.166 (Siegmund 1985; Basseville & Nikiforov 1993).
 * - Page–Hinkley (river's form): the stream's own running mean x̄ replaces the null mean,
 *   Uₜ = Σ (zᵢ − x̄ᵢ − δ), alarm when Uₜ − min U > λ (after `minBatches`); λ for the target ARL0
 *   comes from a seeded simulation table under N(0, 1) (computed on first use, memoised), since no
 *   closed form covers the running mean.
 * - Both clip z to ±`clip` (default 2.5): no single batch, however extreme, can alarm from a clean
 *   state (clip − k < h); it can only add to evidence already accumulating. The per-batch tests
 *   judge single batches. Clipping only lowers the null rate.
 * Tested over many seeds in tests/tasks/drift/sequential_test.ts: false alarms per 100 clean
 * batches against 100 / ARL0, delay after a known change point, an incremental drift, a blip.
 * No ADWIN: its cut bounds (Hoeffding or Bernstein, Bifet & Gavaldà 2007) need windows of hundreds
 * of points to see a shift under 1 sd, while a batch stream is tens to hundreds of batches long,
 * and it states a per-step bound rather than a run length; CUSUM is optimal for a shift of the
 * size it is tuned for (Lorden 1971) and Page–Hinkley covers an unknown starting level.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DetectorState, initDetector, nextDetector, zFromPValue } from "./sequential.ts";
 * // five clean batches, then a drift no single batch's test calls (p = 0.05 each time)
 * const pValues = [0.5, 0.3, 0.8, 0.6, 0.4, 0.05, 0.05, 0.05, 0.05, 0.05];
 * let state = initDetector("cusum", { arl0: 500 }); // a false alarm every 500 batches on average
 * const alarms: number[] = [];
 * for (const [batch, p] of pValues.entries()) {
 *   const r = nextDetector(state, zFromPValue(p));
 *   const stored = JSON.stringify(r.state); // kept between batches as JSON
 *   state = DetectorState.parse(JSON.parse(stored));
 *   if (r.alarm) alarms.push(batch);
 * }
 * assert.deepEqual(alarms, [8]); // the fourth drifted batch: accumulated evidence
 * ```
 */
import { mean as average, sampleStandardDeviation } from "simple-statistics";
import { z } from "zod";
import { Random } from "../../models/core/random.ts";
import { normalSf } from "./special.ts";

const Common = {
  /** Target in-control average run length (batches between false alarms). */
  arl0: z.number().positive(),
  clip: z.number().positive(),
  /** Batches seen in total. */
  batches: z.number().int().nonnegative(),
  alarms: z.number().int().nonnegative(),
  /** Batch index (0-based, over `batches`) of the last alarm. */
  lastAlarm: z.number().int().nullable(),
  /** The last z read (after clipping). */
  lastZ: z.number().nullable(),
};

export const CusumState = z.object({
  kind: z.literal("cusum"),
  k: z.number().nonnegative(),
  h: z.number().positive(),
  s: z.number().nonnegative(),
  ...Common,
});
export type CusumState = z.infer<typeof CusumState>;

export const PageHinkleyState = z.object({
  kind: z.literal("page_hinkley"),
  delta: z.number().nonnegative(),
  lambda: z.number().positive(),
  minBatches: z.number().int().nonnegative(),
  /** Batches since the last reset, their running mean, the cumulative sum and its minimum. */
  n: z.number().int().nonnegative(),
  mean: z.number(),
  sum: z.number(),
  min: z.number(),
  ...Common,
});
export type PageHinkleyState = z.infer<typeof PageHinkleyState>;

export const DetectorState = z.discriminatedUnion("kind", [CusumState, PageHinkleyState]);
export type DetectorState = z.infer<typeof DetectorState>;
export type DetectorKind = DetectorState["kind"];

export const DetectorOptions = z.object({
  arl0: z.number().min(2).default(500),
  /** CUSUM reference value k, and Page–Hinkley's δ: half the shift (in sd) tuned for. */
  k: z.number().nonnegative().default(0.5),
  clip: z.number().positive().default(2.5),
  /** Page–Hinkley: no alarm before this many batches since a reset. */
  minBatches: z.number().int().nonnegative().default(5),
}).strict();
export type DetectorOptions = z.input<typeof DetectorOptions>;

/** Siegmund's approximation of CUSUM's in-control ARL for N(0, 1) increments. */
export function siegmundArl0(k: number, h: number): number {
  const b = h + 1.166;
  if (k === 0) return b * b;
  return (Math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k);
}

/** CUSUM's threshold h for a target ARL0 (bisection on Siegmund's approximation). */
export function cusumThreshold(arl0: number, k = 0.5): number {
  let lo = 0, hi = 100;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (siegmundArl0(k, mid) < arl0) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Φ⁻¹(1 − p): a p-value as a standard normal statistic (p = 1 → −∞, clipped by the detector). */
export function zFromPValue(p: number): number {
  if (!(p < 1)) return -Infinity;
  if (!(p > 0)) return Infinity;
  let lo = -40, hi = 40;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (normalSf(mid) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** A statistic's null mean and sd (from the reference). */
export const NullModel = z.object({ mean: z.number(), sd: z.number().positive() });
export type NullModel = z.infer<typeof NullModel>;

/** (x − mean) / sd, signed so that larger = more drift when `higherIsDrift` (else negated). */
export function standardise(x: number, nullModel: NullModel, higherIsDrift = true): number {
  const zv = (x - nullModel.mean) / nullModel.sd;
  return higherIsDrift ? zv : -zv;
}

/** The null mean and sd of `statistic` over `rounds` values (e.g. on random reference subsets). */
export function nullModel(values: readonly number[]): NullModel {
  const v = values.filter(Number.isFinite);
  if (v.length < 3) {
    throw new RangeError(`nullModel: ${v.length} finite null values; at least 3 are needed`);
  }
  const sd = sampleStandardDeviation(v);
  return { mean: average(v), sd: sd > 0 ? sd : 1e-12 };
}

/** A fresh detector for a target ARL0. */
export function initDetector(kind: DetectorKind, options: DetectorOptions = {}): DetectorState {
  const o = DetectorOptions.parse(options);
  const common = {
    arl0: o.arl0,
    clip: o.clip,
    batches: 0,
    alarms: 0,
    lastAlarm: null,
    lastZ: null,
  };
  if (kind === "cusum") {
    return { kind, k: o.k, h: cusumThreshold(o.arl0, o.k), s: 0, ...common };
  }
  return {
    kind,
    delta: o.k,
    lambda: pageHinkleyThreshold(o.arl0, o.k, o.clip, o.minBatches),
    minBatches: o.minBatches,
    n: 0,
    mean: 0,
    sum: 0,
    min: 0,
    ...common,
  };
}

/** One step of a detector: the new state (plain JSON) and whether it alarmed on this batch. */
export function nextDetector(
  state: DetectorState,
  zIn: number,
): { state: DetectorState; alarm: boolean; statistic: number; threshold: number } {
  if (Number.isNaN(zIn)) {
    throw new RangeError(`nextDetector: z is NaN; pass a standardised statistic (a number)`);
  }
  const zv = Math.max(-state.clip, Math.min(state.clip, zIn));
  const batches = state.batches + 1;
  if (state.kind === "cusum") {
    const s = Math.max(0, state.s + zv - state.k);
    const alarm = s > state.h;
    return {
      state: {
        ...state,
        s: alarm ? 0 : s,
        batches,
        alarms: state.alarms + (alarm ? 1 : 0),
        lastAlarm: alarm ? batches - 1 : state.lastAlarm,
        lastZ: zv,
      },
      alarm,
      statistic: s,
      threshold: state.h,
    };
  }
  const ph = phStep(state, zv, state.minBatches);
  return {
    state: {
      ...state,
      ...(ph.alarm ? { n: 0, mean: 0, sum: 0, min: 0 } : ph.next),
      batches,
      alarms: state.alarms + (ph.alarm ? 1 : 0),
      lastAlarm: ph.alarm ? batches - 1 : state.lastAlarm,
      lastZ: zv,
    },
    alarm: ph.alarm,
    statistic: ph.statistic,
    threshold: state.lambda,
  };
}

function phStep(
  st: { n: number; mean: number; sum: number; min: number; delta: number; lambda: number },
  zv: number,
  minBatches: number,
) {
  const n = st.n + 1;
  const mean = st.mean + (zv - st.mean) / n;
  const sum = st.sum + zv - mean - st.delta;
  const min = Math.min(st.min, sum);
  const statistic = sum - min;
  return {
    next: { n, mean, sum, min },
    statistic,
    alarm: n >= minBatches && statistic > st.lambda,
  };
}

const PH_TABLE = new Map<string, number>();

/**
 * Page–Hinkley's λ for a target ARL0 under N(0, 1) input (clipped): bisection on the mean run
 * length of 300 seeded simulated runs truncated at 6 × ARL0 (common random numbers, so monotone
 * in λ), memoised.
 */
export function pageHinkleyThreshold(
  arl0: number,
  delta = 0.5,
  clip = 2.5,
  minBatches = 5,
): number {
  const key = `${arl0}|${delta}|${clip}|${minBatches}`;
  const known = PH_TABLE.get(key);
  if (known !== undefined) return known;
  const runs = 300, cap = Math.ceil(arl0 * 6);
  const rng = new Random(20_260_714);
  const draws: Float64Array[] = [];
  const draw = (r: number, t: number): number => {
    let d = draws[r];
    if (d === undefined || t >= d.length) {
      const more = new Float64Array(Math.max(256, (d?.length ?? 0) * 2));
      if (d) more.set(d);
      for (let i = d?.length ?? 0; i < more.length; i++) {
        more[i] = Math.max(-clip, Math.min(clip, rng.normal()));
      }
      draws[r] = d = more;
    }
    return d[t];
  };
  // mean run length (truncated at `cap`, which only makes λ larger: conservative)
  const meanRunLength = (lambda: number) => {
    let total = 0;
    for (let r = 0; r < runs; r++) {
      let n = 0, mean = 0, sum = 0, min = 0, t = 0;
      for (; t < cap; t++) {
        const zv = draw(r, t);
        n++;
        mean += (zv - mean) / n;
        sum += zv - mean - delta;
        if (sum < min) min = sum;
        if (n >= minBatches && sum - min > lambda) break;
      }
      total += t + 1;
    }
    return total / runs;
  };
  let lo = 0, hi = cusumThreshold(arl0, delta) + 4;
  for (let i = 0; i < 25; i++) {
    const mid = (lo + hi) / 2;
    if (meanRunLength(mid) < arl0) lo = mid;
    else hi = mid;
  }
  PH_TABLE.set(key, hi);
  return hi;
}

/** A detector's false-alarm statement for reports. */
export function falseAlarmStatement(state: DetectorState): string {
  const name = state.kind === "cusum"
    ? `CUSUM (k = ${state.k}, h = ${state.h.toFixed(2)}, Siegmund)`
    : `Page–Hinkley (δ = ${state.delta}, λ = ${state.lambda.toFixed(2)}, simulated)`;
  return `${name}: ARL0 ${state.arl0} batches ≈ ${
    (100 / state.arl0).toFixed(2)
  } false alarms per 100 clean batches`;
}
