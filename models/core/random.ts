/**
 * A seeded pseudo-random generator (sfc32, from PractRand) for everything that must replay
 * identically: drift injection, bootstrap intervals, data splits, subsampling. Hand-written because
 * it is a dozen lines and the npm packages that offer it add nothing but a dependency.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "./random.ts";
 * const a = new Random(42), b = new Random(42);
 * const x = a.next(); // uniform in [0, 1)
 * assert.ok(x >= 0 && x < 1);
 * assert.equal(b.next(), x); // the same seed replays the same numbers
 * assert.equal(a.permutation(5).length, 5);
 * ```
 */
export class Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  #spare: number | null = null;

  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = (seed >>> 0) ^ Math.floor(seed / 2 ** 32);
    for (let i = 0; i < 15; i++) this.#u32();
  }

  #u32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.#u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Marsaglia's polar method). */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u: number, v: number, s: number;
    do {
      u = this.next() * 2 - 1;
      v = this.next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.#spare = v * f;
    return u * f;
  }

  /** A permutation of 0..n−1 (Fisher–Yates). */
  permutation(n: number): Uint32Array {
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }

  /** `k` distinct indices of 0..n−1 in random order (all of them when k ≥ n). */
  sample(n: number, k: number): Uint32Array {
    return this.permutation(n).subarray(0, Math.min(n, k));
  }
}

/** The 32-bit FNV-1a hash of a string's UTF-16 code units: stable across runs and machines. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
