/**
 * Samples prepared once for many tests: a numeric sample is sorted once (typed array) with its
 * missing values counted; a categorical sample is a table of counts. detectDrift builds each column's
 * sample once and hands it to every test it runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NumericSample } from "./sample.ts";
 * const s = NumericSample.from([3, null, 1, NaN, 2]);
 * assert.deepEqual([...s.sorted], [1, 2, 3]);
 * assert.equal(s.missing, 2); // null and NaN
 * assert.equal(s.mean, 2);
 * ```
 */
import { RadixScratch, sortFinite } from "./radix_sort.ts";

/** A value that counts as missing: null, undefined, NaN or ±Infinity (Evidently treats infinities as missing). */
export type Missing = null | undefined;

/** Numeric input of the tests: any array-like of numbers, or a prepared sample. */
export type NumericInput = ArrayLike<number | Missing> | NumericSample;

/** Categorical input of the tests: any array-like of labels, or a prepared sample. */
export type CategoricalInput = ArrayLike<string | Missing> | CategoricalSample;

/** A numeric sample: its finite values sorted ascending, and how many values were dropped. */
export class NumericSample {
  #mean?: number;
  #m2?: number;
  #distinct?: number;

  private constructor(
    readonly sorted: Float64Array,
    readonly missing: number,
    private readonly borrowed = false,
  ) {}

  /**
   * Sorts the finite values of `values`, counting the rest as missing. With `scratch` (a column
   * after another: detectDrift) the sorted values live in the scratch's buffer for `side`, valid
   * until that side's next sample.
   */
  static from(
    values: NumericInput,
    scratch?: SampleScratch,
    side: "ref" | "cur" = "ref",
  ): NumericSample {
    if (values instanceof NumericSample) return values;
    if (scratch && values instanceof Float64Array) {
      const buffer = scratch.buffer(side, values.length);
      buffer.set(values);
      if (sortFinite(buffer, scratch.radix)) return new NumericSample(buffer, 0, true);
      const { values: finite, missing } = compactFinite(buffer);
      sortFinite(finite, scratch.radix);
      return new NumericSample(finite, missing, true);
    }
    if (values instanceof Float64Array) {
      // a column without missing values is copied whole (a memcpy), not value by value; the sort
      // finds out (and leaves the copy as it was when a value is missing)
      const copy = values.slice();
      if (sortFinite(copy)) return new NumericSample(copy, 0);
      free(copy);
    }
    const out = new Float64Array(values.length);
    let k = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v === "number" && Number.isFinite(v)) out[k++] = v;
    }
    let sorted = out;
    if (k < out.length) {
      sorted = out.slice(0, k);
      free(out);
    }
    sortFinite(sorted);
    return new NumericSample(sorted, values.length - k);
  }

  /** Number of non-missing values. */
  get n(): number {
    return this.sorted.length;
  }

  /**
   * Frees the sorted copy now rather than at the next garbage collection (its buffer is detached),
   * which keeps peak memory near one column's copy when many columns are compared in turn. The
   * sample must not be used afterwards.
   */
  dispose(): void {
    if (!this.borrowed) free(this.sorted);
  }

  /** Arithmetic mean (compensated sum). */
  get mean(): number {
    if (this.#mean === undefined) this.#mean = kahanSum(this.sorted) / this.n;
    return this.#mean;
  }

  /** Sum of squared deviations from the mean (two-pass, compensated). */
  get sumSquares(): number {
    if (this.#m2 === undefined) {
      const mean = this.mean;
      let sum = 0, c = 0;
      for (const v of this.sorted) {
        const d = (v - mean) * (v - mean);
        const t = sum + d;
        c += Math.abs(sum) >= Math.abs(d) ? (sum - t) + d : (d - t) + sum;
        sum = t;
      }
      this.#m2 = sum + c;
    }
    return this.#m2;
  }

  /** Population standard deviation (numpy's default ddof = 0). */
  get std(): number {
    return Math.sqrt(this.sumSquares / this.n);
  }

  /** Number of distinct values. */
  get distinct(): number {
    if (this.#distinct === undefined) {
      let d = 0;
      const s = this.sorted;
      for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) d++;
      this.#distinct = d;
    }
    return this.#distinct;
  }
}

/**
 * Buffers that samples of one column after another reuse (the reference's and the current's
 * values, the radix sort's scratch), so a report over many large columns allocates them once.
 */
export class SampleScratch {
  readonly radix = new RadixScratch();
  #buffers: Record<"ref" | "cur", Float64Array | undefined> = { ref: undefined, cur: undefined };

  /** The buffer of `side`, at least `length` long (a view of that length). */
  buffer(side: "ref" | "cur", length: number): Float64Array {
    const b = this.#buffers[side];
    if (b && b.length >= length) return b.subarray(0, length);
    if (b) free(b);
    const fresh = new Float64Array(length);
    this.#buffers[side] = fresh;
    return fresh;
  }

  /** Frees every buffer now. */
  release(): void {
    for (const side of ["ref", "cur"] as const) {
      const b = this.#buffers[side];
      if (b) free(b);
      this.#buffers[side] = undefined;
    }
    this.radix.release();
  }
}

/** A categorical sample: counts per label, and how many values were missing. */
export class CategoricalSample {
  private constructor(
    readonly counts: Map<string, number>,
    readonly n: number,
    readonly missing: number,
  ) {}

  /** Counts the labels of `values`; numbers are labelled by their shortest round-trip text. */
  static from(values: CategoricalInput | ArrayLike<number | Missing>): CategoricalSample {
    if (values instanceof CategoricalSample) return values;
    // one hash lookup a value: labels map to slots of a tally (first-seen order, as the counts)
    const slots = new Map<string, number>();
    const tally: number[] = [];
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      if (typeof v === "number" && !Number.isFinite(v)) continue;
      const key = typeof v === "string" ? v : String(v);
      const slot = slots.get(key);
      if (slot === undefined) {
        slots.set(key, tally.length);
        tally.push(1);
      } else tally[slot]++;
      n++;
    }
    const counts = new Map<string, number>();
    for (const [key, slot] of slots) counts.set(key, tally[slot]);
    return new CategoricalSample(counts, n, values.length - n);
  }

  /** Number of distinct labels. */
  get distinct(): number {
    return this.counts.size;
  }
}

/**
 * Moves the finite values of `values` to its start, in order (in place); that prefix and how many
 * values were left out.
 */
export function compactFinite(values: Float64Array): { values: Float64Array; missing: number } {
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v === 0) values[k++] = v;
  }
  return { values: values.subarray(0, k), missing: values.length - k };
}

/**
 * Frees a typed array's memory now rather than at the next garbage collection, by detaching its
 * buffer when the array spans all of it (large columns' copies would otherwise pile up between
 * collections and raise the peak). The array must not be used afterwards.
 */
export function free(a: Float64Array | Uint32Array): void {
  const buffer = a.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (buffer instanceof ArrayBuffer && buffer.byteLength === a.byteLength) buffer.transfer?.(0);
}

/** Neumaier-compensated sum: error independent of length (numpy sums pairwise; both are ~1e-16 relative). */
export function kahanSum(values: ArrayLike<number>): number {
  let sum = 0, c = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    c += Math.abs(sum) >= Math.abs(v) ? (sum - t) + v : (v - t) + sum;
    sum = t;
  }
  return sum + c;
}

/** Whether input holds numbers (true) or labels (false), by its first non-missing value. */
export function isNumericInput(values: NumericInput | CategoricalInput): boolean {
  if (values instanceof NumericSample) return true;
  if (values instanceof CategoricalSample) return false;
  if (values instanceof Float64Array || values instanceof Float32Array) return true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) return typeof v === "number";
  }
  return true;
}
