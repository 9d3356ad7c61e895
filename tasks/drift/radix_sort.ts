/**
 * Sorts a Float64Array of finite numbers ascending by an LSD radix sort on the IEEE-754 bits (16
 * bits a pass, passes whose digit is the same for every value skipped): for a million values it
 * takes about half the time of `Float64Array.prototype.sort`, which is the largest cost of a drift
 * report (every numeric column is sorted). Written by hand because no maintained npm package sorts
 * typed arrays by radix. The order is exactly the native one for finite values, −0 before +0
 * included; NaN is not supported (the samples hold finite values only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortFinite } from "./radix_sort.ts";
 * const a = Float64Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 1e3);
 * const expected = a.slice().sort();
 * sortFinite(a);
 * assert.deepEqual(a, expected);
 * ```
 */

/** Below this length the native sort is faster (the radix counts cost 1 MB to clear). */
const RADIX_MIN = 4096;

const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;

/** Sorts `a` (finite values) in place, ascending, in the native order. */
export function sortFinite(a: Float64Array): Float64Array {
  const n = a.length;
  if (n < RADIX_MIN || !LITTLE_ENDIAN || a.byteOffset % 4 !== 0) return a.sort();
  const u = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
  const tmp: Uint32Array = new Uint32Array(2 * n);
  // order-preserving map to unsigned keys: flip every bit of negatives, the sign bit of the rest
  for (let i = 1; i < 2 * n; i += 2) {
    const hi = u[i];
    if (hi & 0x80000000) {
      u[i] = ~hi;
      u[i - 1] = ~u[i - 1];
    } else u[i] = hi | 0x80000000;
  }
  const counts = new Uint32Array(4 << 16);
  for (let i = 0; i < 2 * n; i += 2) {
    const lo = u[i], hi = u[i + 1];
    counts[lo & 0xffff]++;
    counts[65536 + (lo >>> 16)]++;
    counts[131072 + (hi & 0xffff)]++;
    counts[196608 + (hi >>> 16)]++;
  }
  let from: Uint32Array = u, to: Uint32Array = tmp;
  for (let p = 0; p < 4; p++) {
    const off = p << 16;
    // a digit shared by every value leaves the order as it is
    let skip = false;
    let sum = 0;
    for (let d = 0; d < 65536; d++) {
      const c = counts[off + d];
      if (c === n) skip = true;
      counts[off + d] = sum;
      sum += c;
    }
    if (skip) continue;
    const word = p >> 1, shift = (p & 1) << 4;
    for (let i = 0; i < 2 * n; i += 2) {
      const d = (from[i + word] >>> shift) & 0xffff;
      const at = counts[off + d]++ << 1;
      to[at] = from[i];
      to[at + 1] = from[i + 1];
    }
    const t = from;
    from = to;
    to = t;
  }
  if (from !== u) u.set(from);
  // detached now, not at the next collection: the scratch is as large as the sample, and a
  // report sorts a column after another
  for (const scratch of [tmp, counts]) {
    (scratch.buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer }).transfer?.(0);
  }
  for (let i = 1; i < 2 * n; i += 2) {
    const hi = u[i];
    if (hi & 0x80000000) u[i] = hi & 0x7fffffff;
    else {
      u[i] = ~hi;
      u[i - 1] = ~u[i - 1];
    }
  }
  return a;
}
