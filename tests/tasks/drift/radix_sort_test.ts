// The radix sort gives the native order of Float64Array.prototype.sort on finite values (−0 before
// +0, subnormals, huge and tiny magnitudes, ties, already sorted input), and refuses NaN and
// ±Infinity without changing the array.
import assert from "node:assert/strict";
import { Random } from "../../../models/core/random.ts";
import { sortFinite } from "../../../tasks/drift/radix_sort.ts";

const rng = new Random(7);
const SHAPES: Record<string, () => number> = {
  normal: () => rng.normal(),
  wide: () => (rng.next() < 0.5 ? -1 : 1) * Math.exp((rng.next() - 0.5) * 1400),
  subnormal: () => (rng.next() - 0.5) * 1e-310,
  integers: () => Math.round(rng.normal() * 20),
  zeros: () => [0, -0, 5e-324, -5e-324][rng.int(4)],
  constant: () => 3.25,
  mixedSigns: () => (rng.next() - 0.5) * 1e6,
};

function same(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return a.length === b.length;
}

for (const [name, gen] of Object.entries(SHAPES)) {
  Deno.test(`sortFinite gives the native order: ${name}`, () => {
    for (const n of [0, 1, 100, 5000, 70000]) {
      const a = Float64Array.from({ length: n }, gen);
      const expected = a.slice().sort();
      assert.equal(sortFinite(a), true);
      assert.ok(same(a, expected), `${name} n=${n}`);
      const again = a.slice();
      assert.equal(sortFinite(again), true); // sorted input stays sorted
      assert.ok(same(again, expected));
    }
  });
}

Deno.test("sortFinite refuses NaN and infinities and leaves the array as it was", () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const n of [10, 9000]) {
      const a = Float64Array.from({ length: n }, () => rng.normal());
      a[rng.int(n)] = bad;
      const before = a.slice();
      assert.equal(sortFinite(a), false);
      assert.ok(same(a, before), `${bad} n=${n}`);
    }
  }
});
