/**
 * The default policy's statistics on small data with known answers (scipy's chi2_contingency with
 * correction=False, binomial tails, hand-computed DeLong components) and the corrections on
 * hand-computed p-values.
 */
import assert from "node:assert/strict";
import { aucDropTest, aucWithSe } from "../../../tasks/drift/auc_delong.ts";
import { adjustPValues } from "../../../tasks/drift/correction.ts";
import { detectDrift } from "../../../tasks/drift/detect.ts";
import { evaluateSeverity } from "../../../tasks/drift/severity.ts";
import {
  chiSquarePooledTest,
  fisherExactTest,
  ksNullEffect,
  missingShareTest,
  twoProportionTest,
  unseenShareTest,
} from "../../../tasks/drift/policy_stats.ts";
import { ruleVerdict, STAT_TESTS, TEST_NAMES } from "../../../tasks/drift/registry.ts";
import { TestName } from "../../../tasks/drift/schema.ts";
import { Random } from "../../../models/core/random.ts";

const rep = (label: string, n: number): string[] => Array.from({ length: n }, () => label);
const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("chiSquarePooledTest: a 2×2 table equals scipy chi2_contingency (no continuity correction)", () => {
  const r = chiSquarePooledTest([...rep("a", 30), ...rep("b", 20)], [
    ...rep("a", 10),
    ...rep("b", 40),
  ]);
  near(r.statistic, 16.666666666666668, 1e-12, "statistic");
  near(r.pValue, 4.455709060405612e-05, 1e-12, "p");
  assert.equal(r.df, 1);
  near(r.effect, 0.4, 1e-12, "total variation");
  // expected TV under no change: ½·Σ √(2/π·p(1−p)·(1/50 + 1/50)) over the cells p = 0.4, 0.6
  near(r.nullEffect, 0.07817640190446719, 1e-12, "null total variation");
});

Deno.test("ksNullEffect: the Kolmogorov mean √(π/2)·ln 2 times √(1/n + 1/m)", () => {
  near(ksNullEffect(100, 5000), 0.08773754646953907, 1e-12, "E[D] at n = 100, m = 5000");
});

Deno.test("chiSquarePooledTest: a category absent from the reference gives a finite statistic", () => {
  const ref = [...rep("a", 100), ...rep("b", 100)];
  const cur = [...rep("a", 90), ...rep("b", 90), ...rep("new", 20)];
  const r = chiSquarePooledTest(ref, cur);
  near(r.statistic, 21.05263157894737, 1e-10, "statistic (scipy)");
  near(r.pValue, 2.682125763637133e-05, 1e-12, "p (scipy)");
  assert.equal(r.df, 2);
  near(r.effect, 0.1, 1e-12, "total variation");
});

Deno.test("chiSquarePooledTest pools rare categories: 300 singletons do not explode the test", () => {
  // expected count of each singleton in the smaller sample is < 5: they are pooled into one cell
  const ref = [...rep("a", 500), ...Array.from({ length: 300 }, (_, i) => `r${i}`)];
  const cur = [...rep("a", 500), ...Array.from({ length: 300 }, (_, i) => `s${i}`)];
  const r = chiSquarePooledTest(ref, cur);
  assert.equal(r.cells, 2);
  assert.equal(r.statistic, 0);
  assert.equal(r.pValue, 1);
  // a pooled cell still too small is tested exactly (Fisher), not merged away
  const tiny = chiSquarePooledTest([...rep("a", 50)], [...rep("a", 45), ...rep("new", 5)]);
  near(tiny.pValue, 0.05628449442882433, 1e-12, "Fisher p (scipy fisher_exact)");
  assert.ok(Number.isFinite(tiny.statistic));
});

Deno.test("chiSquarePooledTest: a large shift into a rare category is not pooled away to p = 1", () => {
  // reference 9,990 a + 10 b; batch of 100 with 40 b: b's expected count in the batch is 0.5
  const r = chiSquarePooledTest([...rep("a", 9990), ...rep("b", 10)], [
    ...rep("a", 60),
    ...rep("b", 40),
  ]);
  near(r.pValue, 7.88622206784258e-75, 1e-80, "Fisher p (scipy fisher_exact)");
  assert.equal(r.cells, 2);
  near(r.effect, 0.399, 1e-12, "total variation");
  // with other kept cells, the small cell's exact p is Bonferroni-combined with the χ²
  const three = chiSquarePooledTest(
    [...rep("a", 5000), ...rep("c", 4990), ...rep("b", 10)],
    [...rep("a", 30), ...rep("c", 30), ...rep("b", 40)],
  );
  assert.ok(three.pValue < 1e-60, `p ${three.pValue}`);
  assert.equal(three.cells, 3);
});

Deno.test("fisherExactTest: two-sided p equals scipy fisher_exact", () => {
  near(fisherExactTest(3, 1, 1, 3).pValue, 0.48571428571428527, 1e-12, "tea tasting");
  near(fisherExactTest(10, 9990, 40, 60).pValue, 7.88622206784258e-75, 1e-80, "rare cell");
  assert.equal(fisherExactTest(0, 10, 0, 5).pValue, 1, "empty column: p = 1");
});

Deno.test("chiSquarePooledTest stays calibrated on clean data with rare categories (seeded)", () => {
  // reference: 9,990 a + 10 b (0.1 %); 2,000 clean batches of 100 from the same shares
  const ref = [...rep("a", 9990), ...rep("b", 10)];
  const rng = new Random(11);
  const draws = 2000;
  let at05 = 0;
  for (let d = 0; d < draws; d++) {
    const cur = Array.from({ length: 100 }, () => (rng.next() < 0.001 ? "b" : "a"));
    if (chiSquarePooledTest(ref, cur).pValue < 0.05) at05++;
  }
  // binomial upper bound: α + 3·√(α(1−α)/draws)
  assert.ok(at05 / draws <= 0.05 + 3 * Math.sqrt(0.05 * 0.95 / draws), `rejects ${at05 / draws}`);
});

Deno.test("missingShareTest: conditional binomial test, exact answer", () => {
  const r = missingShareTest({ missing: 0, total: 1000 }, { missing: 10, total: 1000 });
  near(r.pValue, 2 * 0.5 ** 10, 1e-15, "p = 2·0.5^10");
  near(r.effect, 0.01, 1e-15, "effect");
  assert.equal(r.informative, true);
  const none = missingShareTest({ missing: 0, total: 50 }, { missing: 0, total: 70 });
  assert.equal(none.pValue, 1);
  assert.equal(none.informative, false);
  const same = missingShareTest({ missing: 50, total: 1000 }, { missing: 50, total: 1000 });
  assert.equal(same.pValue, 1);
});

Deno.test("unseenShareTest: Berger–Boos binomial against the reference's own unseen rate", () => {
  // reference: a×10, b×10, c, d (2 singletons of 22); current: a×5, e×5 (5 unseen of 10)
  const ref = [...rep("a", 10), ...rep("b", 10), "c", "d"];
  const cur = [...rep("a", 5), ...rep("e", 5)];
  const r = unseenShareTest(ref, cur);
  near(r.reference, 2 / 22, 1e-15, "leave-one-out unseen rate");
  near(r.bound, 0.37469441157483907, 1e-12, "upper bound of the missing mass");
  near(r.pValue, 0.30510226024592124, 1e-10, "P(Bin(10, bound) ≥ 5) + 1e-4 (scipy)");
  near(r.current, 0.5, 1e-15, "current unseen share");
  assert.equal(unseenShareTest(ref, rep("a", 10)).pValue, 1, "no unseen value: p = 1");
  // a reference without singletons still gives a finite, small p for many unseen values
  const big = unseenShareTest(rep("a", 5000), [...rep("a", 950), ...rep("z", 50)]);
  assert.ok(big.pValue < 0.001 && big.pValue > 0, `p ${big.pValue}`);
});

Deno.test("twoProportionTest: conditional binomial p, pooled z for display", () => {
  const r = twoProportionTest(30, 100, 50, 100);
  near(r.statistic, 0.2 / Math.sqrt(0.24 * 0.02), 1e-12, "z");
  // 2·P(Binomial(80, 0.5) ≥ 50) (scipy binomtest)
  near(r.pValue, 0.03299261842647619, 1e-12, "p");
});

Deno.test("twoProportionTest holds its level when positives are rare (n = 100, p = 1 %)", () => {
  // the pooled z-test rejected 7.7 % at 0.05 and 1.7 % at 0.05/16 (5.5× nominal) here
  const rng = new Random(5);
  const draws = 4000, nRef = 10_000, nCur = 100, p = 0.01;
  const refPos = Math.round(nRef * p);
  let at05 = 0, atBonf = 0;
  for (let d = 0; d < draws; d++) {
    let x = 0;
    for (let i = 0; i < nCur; i++) if (rng.next() < p) x++;
    const t = twoProportionTest(refPos, nRef, x, nCur).pValue;
    if (t < 0.05) at05++;
    if (t < 0.05 / 16) atBonf++;
  }
  const slack = (a: number) => a + 3 * Math.sqrt(a * (1 - a) / draws);
  assert.ok(at05 / draws <= slack(0.05), `rejects ${at05 / draws} at 0.05`);
  assert.ok(atBonf / draws <= slack(0.05 / 16), `rejects ${atBonf / draws} at 0.05/16`);
});

Deno.test("aucWithSe: DeLong components by hand; aucDropTest combines both sides", () => {
  const r = aucWithSe([1, 1, 0, 0], [0.9, 0.4, 0.5, 0.1]);
  assert.equal(r.auc, 0.75);
  // v10 = [1, 0.5], v01 = [0.5, 1]: variances 0.125 each; se² = 0.125/2 + 0.125/2
  near(r.se, Math.sqrt(0.125), 1e-15, "se");
  const t = aucDropTest(
    { auc: 0.8, se: 0.02, positives: 1, negatives: 1 },
    { auc: 0.7, se: 0.03, positives: 1, negatives: 1 },
  );
  near(t.z, 0.1 / Math.sqrt(0.0013), 1e-12, "z");
  near(t.pValue, 0.0027728336576220243, 1e-12, "p (one-sided)");
  assert.ok(Number.isNaN(aucWithSe([1, 1], [0.2, 0.3]).auc), "one class: NaN");
});

Deno.test("corrections on hand-computed p-values: Bonferroni, Holm, Benjamini–Hochberg", () => {
  const p = [0.01, 0.04, 0.03, 0.005];
  const round = (xs: number[]) => xs.map((x) => Math.round(x * 1e12) / 1e12);
  assert.deepEqual(round(adjustPValues(p, "bonferroni")), [0.04, 0.16, 0.12, 0.02]);
  // Holm: sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, max(0.04·1, 0.06) = 0.06
  assert.deepEqual(round(adjustPValues(p, "holm")), [0.03, 0.06, 0.06, 0.02]);
  // BH: 4·0.005/1 = 0.02, 4·0.01/2 = 0.02, 4·0.03/3 = 0.04, 4·0.04/4 = 0.04, cumulative min from the top
  assert.deepEqual(round(adjustPValues(p, "bh")), [0.02, 0.04, 0.04, 0.02]);
  assert.deepEqual(adjustPValues(p, "none"), p);
  assert.deepEqual(adjustPValues([0.5, 0.9], "bonferroni"), [1, 1], "capped at 1");
  assert.deepEqual(adjustPValues([], "holm"), []);
  // at α = 0.05 Holm rejects two (0.02, 0.03), Bonferroni two, BH all four
  const count = (xs: number[]) => xs.filter((x) => x < 0.05).length;
  assert.equal(count(adjustPValues(p, "holm")), 2);
  assert.equal(count(adjustPValues(p, "bonferroni")), 2);
  assert.equal(count(adjustPValues(p, "bh")), 4);
});

Deno.test("registry: one record per test drives TestName, rules and thresholds", () => {
  assert.deepEqual(TestName.options, TEST_NAMES);
  for (
    const name of ["ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi", "kl_div"] as const
  ) {
    assert.ok(TestName.options.includes(name), `${name} still a TestName`);
  }
  assert.equal(STAT_TESTS.ks.rule, "p_value");
  assert.equal(STAT_TESTS.wasserstein.rule, "distance");
  assert.equal(STAT_TESTS.wasserstein.defaultThreshold, 0.1);
  assert.equal(ruleVerdict("ks", { statistic: 0.3, pValue: 0.04 }), true);
  assert.equal(ruleVerdict("ks", { statistic: 0.3, pValue: 0.06 }), false);
  assert.equal(ruleVerdict("psi", { statistic: 0.1, pValue: null }), true, "distance ≥ threshold");
  assert.equal(ruleVerdict("psi", { statistic: 0.09, pValue: null }), false);
  for (const [name, t] of Object.entries(STAT_TESTS)) {
    assert.equal(t.name, name);
    assert.ok(t.kinds.length > 0 && t.description.length > 0, name);
  }
});

Deno.test("null calibration: pooled χ², missing share and unseen share reject ≤ α on fresh samples", () => {
  // 400 independent reference/current pairs from one distribution: 250 Zipf-like categories (many
  // rare: unseen values happen under the null) and 5 % missing values
  const rng = new Random(77);
  const weights = Array.from({ length: 250 }, (_, i) => 1 / (i + 1) ** 1.1);
  const total = weights.reduce((a, b) => a + b, 0);
  const draw = (n: number) =>
    Array.from({ length: n }, () => {
      if (rng.next() < 0.05) return null;
      let u = rng.next() * total, k = 0;
      while (u > weights[k] && k < weights.length - 1) u -= weights[k++];
      return `c${k}`;
    });
  const rejected = { chi2: 0, missing: 0, unseen: 0 };
  const runs = 400;
  for (let i = 0; i < runs; i++) {
    const ref = draw(1000), cur = draw(i % 2 ? 1000 : 200);
    if (chiSquarePooledTest(ref, cur).pValue < 0.05) rejected.chi2++;
    const miss = (v: (string | null)[]) => ({
      missing: v.filter((x) => x === null).length,
      total: v.length,
    });
    if (missingShareTest(miss(ref), miss(cur)).pValue < 0.05) rejected.missing++;
    if (unseenShareTest(ref, cur).pValue < 0.05) rejected.unseen++;
  }
  // α = 0.05 plus 2.5 Monte-Carlo standard errors (√(0.05·0.95/400) ≈ 0.011)
  for (const [name, k] of Object.entries(rejected)) {
    assert.ok(k / runs <= 0.078, `${name} rejects ${k / runs} of clean pairs`);
  }
  assert.ok(rejected.chi2 / runs >= 0.02, "χ² is not degenerate");
});

Deno.test("detectDrift + evaluateSeverity flag a large shift into a rare category", () => {
  const ref = { c: [...rep("a", 9990), ...rep("b", 10)] };
  const cur = { c: [...rep("a", 60), ...rep("b", 40)] };
  const grade = evaluateSeverity(detectDrift(ref, cur, { histograms: false }), {}, []);
  assert.notEqual(grade.severity, "none", grade.reasons.join("; "));
});

Deno.test("chiSquarePooledTest: when every category is rare, a Monte Carlo p-value, calibrated", () => {
  // 3,000 categories × 3 in the reference; batches of 10: no category reaches an expected 5
  const ref = Array.from({ length: 9000 }, (_, i) => `k${i % 3000}`);
  const shifted = chiSquarePooledTest(ref, rep("k0", 10));
  assert.equal(shifted.cells, 3000);
  assert.ok(shifted.pValue <= 1 / 2000 + 1e-15, `all 10 in one rare category: p ${shifted.pValue}`);
  const rng = new Random(8);
  const draws = 200;
  let rejected = 0;
  for (let d = 0; d < draws; d++) {
    const cur = Array.from({ length: 10 }, () => ref[rng.int(ref.length)]);
    if (chiSquarePooledTest(ref, cur).pValue < 0.05) rejected++;
  }
  const bound = 0.05 + 3 * Math.sqrt(0.05 * 0.95 / draws);
  assert.ok(rejected / draws <= bound, `rejects ${rejected / draws}`);
});
