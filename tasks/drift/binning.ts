/**
 * Histograms with numpy's semantics, and the binned shares Evidently's divergence tests compare:
 * `np.histogram_bin_edges(…, bins="sturges")` (equal-width edges by `linspace`), `np.histogram` with
 * explicit edges (left-closed bins, the last closed on both sides) and `get_binned_data` (one bin per
 * value when the reference has at most 20 distinct values or is categorical; empty cells optionally
 * filled with a small share).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binnedShares } from "./binning.ts";
 * import { NumericSample } from "./sample.ts";
 * const { ref, cur, labels } = binnedShares(
 *   NumericSample.from([1, 2, 3]),
 *   NumericSample.from([2, 3, 4]),
 *   true, // fill empty bins with 0.0001, as Evidently does
 * );
 * assert.deepEqual(labels, ["1", "2", "3", "4"]); // few distinct values: one bin each
 * assert.deepEqual([...ref].map((v) => +v.toFixed(4)), [0.3333, 0.3333, 0.3333, 0.0001]);
 * assert.equal(cur[0], 0.0001);
 * ```
 */
import { CategoricalSample, NumericSample } from "./sample.ts";

/** Sturges edges over the union of sorted samples (numpy: width = ptp / (log2 N + 1), ⌈ptp / width⌉ bins). */
export function sturgesEdges(samples: Float64Array[]): Float64Array {
  let min = Infinity, max = -Infinity, size = 0;
  for (const s of samples) {
    if (s.length === 0) continue;
    min = Math.min(min, s[0]);
    max = Math.max(max, s[s.length - 1]);
    size += s.length;
  }
  if (size === 0) throw new RangeError("cannot bin an empty sample");
  const ptp = max - min;
  let first = min, last = max;
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const width = ptp / (Math.log2(size) + 1);
  const bins = width ? Math.ceil((last - first) / width) : 1;
  return linspace(first, last, bins + 1);
}

/** numpy's `linspace(start, stop, num)` with its rounding: start + i·step, the last value exactly stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const step = (stop - start) / div;
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

/** First index whose value is ≥ x (or > x when `right`), in a sorted array. */
export function searchSorted(sorted: Float64Array, x: number, right = false): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (right ? sorted[mid] <= x : sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Counts per bin of a sorted sample for explicit edges, as `np.histogram(a, edges)`. */
export function histogram(sorted: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  let prev = searchSorted(sorted, edges[0]);
  for (let i = 1; i <= bins; i++) {
    const at = searchSorted(sorted, edges[i], i === bins);
    counts[i - 1] = at - prev;
    prev = at;
  }
  return counts;
}

/** Evidently's fill for empty cells: the smallest non-zero share / 1e6 when it is ≤ 1e-4, else 1e-4. */
function fillZeroes(shares: Float64Array): void {
  let min = Infinity;
  for (const v of shares) if (v !== 0 && v < min) min = v;
  const fill = min <= 0.0001 ? min / 10 ** 6 : 0.0001;
  for (let i = 0; i < shares.length; i++) if (shares[i] === 0) shares[i] = fill;
}

/** Distinct values of sorted samples, merged. */
function distinctUnion(samples: Float64Array[]): Float64Array {
  const all = new Set<number>();
  for (const s of samples) {
    for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) all.add(s[i]);
  }
  return Float64Array.from(all).sort();
}

/** Counts of each value of `values` in a sorted sample. */
function valueCounts(sorted: Float64Array, values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    out[i] = searchSorted(sorted, values[i], true) - searchSorted(sorted, values[i]);
  }
  return out;
}

/** Reference and current shares per bin, as Evidently's `get_binned_data`. */
export function binnedShares(
  ref: NumericSample | CategoricalSample,
  cur: NumericSample | CategoricalSample,
  fill: boolean,
): { ref: Float64Array; cur: Float64Array; labels: string[] } {
  let r: Float64Array, c: Float64Array, labels: string[];
  if (ref instanceof NumericSample && cur instanceof NumericSample) {
    if (ref.distinct > 20) {
      const edges = sturgesEdges([ref.sorted, cur.sorted]);
      r = histogram(ref.sorted, edges);
      c = histogram(cur.sorted, edges);
      labels = Array.from(edges.subarray(0, -1), (e) => String(e));
    } else {
      const values = distinctUnion([ref.sorted, cur.sorted]);
      r = valueCounts(ref.sorted, values);
      c = valueCounts(cur.sorted, values);
      labels = Array.from(values, String);
    }
  } else if (ref instanceof CategoricalSample && cur instanceof CategoricalSample) {
    labels = [...new Set([...ref.counts.keys(), ...cur.counts.keys()])].sort();
    r = Float64Array.from(labels, (k) => ref.counts.get(k) ?? 0);
    c = Float64Array.from(labels, (k) => cur.counts.get(k) ?? 0);
  } else {
    throw new TypeError("reference and current must both be numeric or both categorical");
  }
  for (let i = 0; i < r.length; i++) r[i] /= ref.n;
  for (let i = 0; i < c.length; i++) c[i] /= cur.n;
  if (fill) {
    fillZeroes(r);
    fillZeroes(c);
  }
  return { ref: r, cur: c, labels };
}
