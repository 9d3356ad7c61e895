/**
 * Feature binning for the histogram GBDT: up to `maxBins` bins per feature from the distinct values
 * of (a sample of) the training data. Thresholds are float32 values and a value goes to the first
 * bin whose threshold it does not exceed, comparing in float32 — exactly what an ONNX
 * TreeEnsemble does with a float input and a `BRANCH_LEQ` node, so the TypeScript predictor and
 * ONNX Runtime agree bit for bit on every split.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binColumn, fitBins } from "./binning.ts";
 * const edges = fitBins(Float64Array.of(1, 2, 3, 4), 255);
 * assert.deepEqual([...edges], [1.5, 2.5, 3.5]); // midpoints between distinct values
 * assert.deepEqual([...binColumn(Float64Array.of(2.5, 4, NaN), edges)], [1, 3, 3]);
 * ```
 */
import { Random } from "../core/random.ts";

/** Float32 thresholds of a feature: bin b holds values ≤ thresholds[b] (and > thresholds[b−1]). */
export type BinEdges = Float32Array;

/** Bin thresholds for one feature from its (float32-rounded, finite) values. */
export function fitBins(
  values: Float64Array,
  maxBins: number,
  sampleSize = 200_000,
  seed = 0,
): BinEdges {
  let sample = values;
  if (values.length > sampleSize) {
    const rng = new Random(seed);
    const idx = rng.sample(values.length, sampleSize);
    sample = Float64Array.from(idx, (i) => values[i]);
  }
  const { distinct, counts } = distinctCounts(sample);
  if (distinct.length <= 1) return new Float32Array(0);
  const cuts: number[] = [];
  const between = (k: number) => {
    // a threshold separating distinct[k] from distinct[k + 1], in float32
    const a = distinct[k], b = distinct[k + 1];
    const mid = Math.fround((a + b) / 2);
    return mid >= b || mid < a ? a : mid;
  };
  if (distinct.length <= maxBins) {
    for (let k = 0; k < distinct.length - 1; k++) cuts.push(between(k));
  } else {
    // equal-frequency cuts over the distinct values, weighted by their counts
    const total = counts.reduce((s, c) => s + c, 0);
    const per = total / maxBins;
    let acc = 0, next = per;
    for (let k = 0; k < distinct.length - 1 && cuts.length < maxBins - 1; k++) {
      acc += counts[k];
      if (acc >= next) {
        cuts.push(between(k));
        while (next <= acc) next += per;
      }
    }
  }
  return Float32Array.from(cuts);
}

/** Lowest value and span of a column of small integers (the common case of codes, counts and date
 * parts), or null. Such columns are counted and binned through a table instead of a sort and a
 * binary search per value — the same result, several times faster. */
function integerRange(values: Float64Array): { min: number; span: number } | null {
  let min = Infinity, max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== v) continue; // NaN
    if (v !== Math.floor(v)) return null; // also ±Infinity
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max || max - min > SMALL_INT_SPAN || Math.abs(min) > 2 ** 24) return null;
  return { min, span: max - min + 1 };
}
const SMALL_INT_SPAN = 1 << 16;

/** Distinct float32 values (ascending, NaN left out) and how often each occurs; `table`: false
 * forces the sort (tests compare both ways). */
export function distinctCounts(
  sample: Float64Array,
  table = true,
): { distinct: number[]; counts: number[] } {
  const distinct: number[] = [], counts: number[] = [];
  const ints = table ? integerRange(sample) : null;
  if (ints) {
    // integers with |v| ≤ 2^24 are exact in float32
    const tally = new Uint32Array(ints.span);
    for (let i = 0; i < sample.length; i++) {
      const v = sample[i];
      if (v === v) tally[v - ints.min]++;
    }
    for (let k = 0; k < ints.span; k++) {
      if (tally[k]) {
        distinct.push(k + ints.min);
        counts.push(tally[k]);
      }
    }
    return { distinct, counts };
  }
  const sorted = Float32Array.from(sample).sort();
  for (let i = 0; i < sorted.length; i++) {
    if (Number.isNaN(sorted[i])) continue;
    if (distinct.length && distinct[distinct.length - 1] === sorted[i]) counts[counts.length - 1]++;
    else {
      distinct.push(sorted[i]);
      counts.push(1);
    }
  }
  return { distinct, counts };
}

/** The bin of one float32-rounded value. */
export function binOf(x: number, edges: BinEdges): number {
  let lo = 0, hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x <= edges[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bins of a column (values are rounded to float32 first; NaN goes to the last bin). */
export function binColumn(values: Float64Array, edges: BinEdges): Uint8Array {
  const out = new Uint8Array(values.length);
  const ints = integerRange(values);
  if (ints) {
    const table = new Uint8Array(ints.span);
    for (let k = 0; k < ints.span; k++) table[k] = binOf(k + ints.min, edges);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] = v === v ? table[v - ints.min] : edges.length;
    }
    return out;
  }
  for (let i = 0; i < values.length; i++) {
    const v = Math.fround(values[i]);
    out[i] = Number.isNaN(v) ? edges.length : binOf(v, edges);
  }
  return out;
}
