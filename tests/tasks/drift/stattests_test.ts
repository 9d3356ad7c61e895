/**
 * Every statistic against scipy / Evidently reference values (tests/fixtures/drift/stattests.json,
 * made by make_fixtures.py): statistics within 1e-9 relative, p-values within 1e-6 absolute.
 */
import assert from "node:assert/strict";
import fixtures from "../../fixtures/drift/stattests.json" with { type: "json" };
import {
  andersonDarlingTest,
  chiSquareTest,
  cramerVonMisesTest,
  energyDistance,
  hellingerDistance,
  jensenShannonDistance,
  klDivergence,
  ksTest,
  mannWhitneyTest,
  psi,
  wassersteinDistance,
  wassersteinNormed,
  welchTTest,
  zTestProportions,
} from "../../../tasks/drift/stattests.ts";
import { categoricalSample, numericSample, type SampleSpec } from "./fixture_samples.ts";

function close(actual: number, expected: number | string, what: string): void {
  if (typeof expected === "string") {
    assert.equal(actual, expected === "inf" ? Infinity : -Infinity, what);
    return;
  }
  const tol = 1e-9 * Math.max(1, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs scipy ${expected}`);
}
function closeP(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-6, `${what} p-value: ${actual} vs scipy ${expected}`);
}
const label = (r: SampleSpec, c: SampleSpec) =>
  `${r.kind} n=${r.n} vs n=${c.n} (seeds ${r.seed},${c.seed})`;

for (const fx of fixtures.numeric) {
  const ref = numericSample(fx.ref as SampleSpec), cur = numericSample(fx.cur as SampleSpec);
  const name = label(fx.ref as SampleSpec, fx.cur as SampleSpec);
  Deno.test(`stattests numeric ${name}`, () => {
    const tests = [
      ["ks", ksTest, fx.ks],
      ["cramer-von mises", cramerVonMisesTest, fx.cvm],
      ["mann-whitney", mannWhitneyTest, fx.mannw],
      ["welch t", welchTTest, fx.t],
      ["anderson-darling", andersonDarlingTest, fx.anderson],
    ] as const;
    for (const [what, fn, expected] of tests) {
      if (!expected) continue;
      const r = fn(ref, cur);
      close(r.statistic, expected[0], what);
      closeP(r.pValue, expected[1], what);
    }
    close(wassersteinDistance(ref, cur), fx.wasserstein, "wasserstein");
    close(wassersteinNormed(ref, cur), fx.wassersteinNormed, "wasserstein normed");
    close(energyDistance(ref, cur), fx.energy, "energy");
    close(psi(ref, cur), fx.psi, "psi");
    close(klDivergence(ref, cur), fx.kl, "kl");
    close(jensenShannonDistance(ref, cur), fx.js, "jensen-shannon");
    close(hellingerDistance(ref, cur), fx.hellinger, "hellinger");
  });
}

for (const fx of fixtures.categorical) {
  const ref = categoricalSample(fx.ref as SampleSpec),
    cur = categoricalSample(fx.cur as SampleSpec);
  Deno.test(`stattests categorical ${label(fx.ref as SampleSpec, fx.cur as SampleSpec)}`, () => {
    const chi = chiSquareTest(ref, cur);
    close(chi.statistic, fx.chisquare[0], "chi-square");
    closeP(chi.pValue, Number(fx.chisquare[1]), "chi-square");
    close(psi(ref, cur), fx.psi, "psi");
    close(klDivergence(ref, cur), fx.kl, "kl");
    close(jensenShannonDistance(ref, cur), fx.js, "jensen-shannon");
    close(hellingerDistance(ref, cur), fx.hellinger, "hellinger");
    if ("z" in fx && fx.z) {
      const z = zTestProportions(ref, cur);
      close(z.statistic, fx.z[0], "z");
      closeP(z.pValue, fx.z[1], "z");
    }
  });
}

Deno.test("stattests drop and count missing values", () => {
  const r = ksTest([1, 2, null, NaN, 3, 4], [2, 3, Infinity, 5]);
  assert.ok(r.nRef === 4 && r.missingRef === 2 && r.nCur === 3 && r.missingCur === 1);
  const c = chiSquareTest(["a", null, "b"], ["a", "b", undefined]);
  assert.ok(c.missingRef === 1 && c.missingCur === 1);
});

Deno.test("stattests say which sample is empty", () => {
  assert.throws(() => ksTest([NaN, null], [1, 2]), /reference sample has no values/);
  assert.throws(() => zTestProportions(["a", "b"], ["c"]), /binary column/);
});
