import assert from "node:assert/strict";
import { rocAuc } from "../../../models/metrics.ts";
import { Random } from "../../../models/core/random.ts";
import { applyCalibrator, fitIsotonic } from "../../../tasks/drift/calibration.ts";
import {
  CBPE_ASSUMPTION,
  compareEstimate,
  estimateAuc,
  estimateAucOfDraws,
  estimatePerformance,
  fitCbpe,
  normalUpper,
  scorePool,
} from "../../../tasks/drift/cbpe.ts";

function assertEquals(actual: unknown, expected: unknown) {
  assert.deepStrictEqual(actual, expected);
}
function assertAlmostEquals(actual: number, expected: number, tol: number) {
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} is not within ${tol} of ${expected}`);
}
function assertThrows(fn: () => unknown, _type: typeof RangeError, text: string) {
  assert.throws(fn, (e: unknown) => e instanceof RangeError && e.message.includes(text));
}

const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));
const A = -1.2, B = 1.2;
/** The true probability of a positive at x. */
const truth = (x: number, slope = B) => sigmoid(A + slope * x);
/** The model's raw score: monotone in the truth but overconfident (it needs calibration). */
const rawScore = (x: number) => sigmoid(0.4 + 2.2 * (A + B * x));

/** x ~ N(mu, sd²); raw scores; labels Bernoulli(truth(x, slope)). */
function sample(rng: Random, n: number, mu = 0, slope = B, sd = 1) {
  const score = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = mu + sd * rng.normal();
    score[i] = rawScore(x);
    y[i] = rng.next() < truth(x, slope) ? 1 : 0;
  }
  return { score, y };
}

/** Population AUC of the raw score for x ~ N(mu, sd²) by quadrature (4,000 points on ±8 sd). */
function populationAuc(mu: number, slope = B, sd = 1): number {
  const m = 4000, lo = mu - 8 * sd, step = 16 * sd / m;
  let negBelow = 0, num = 0, pos = 0, neg = 0;
  for (let k = 0; k <= m; k++) {
    const x = lo + k * step;
    const w = Math.exp(-0.5 * ((x - mu) / sd) ** 2);
    const wp = w * truth(x, slope), wn = w * (1 - truth(x, slope));
    num += wp * negBelow + 0.5 * wp * wn;
    negBelow += wn;
    pos += wp;
    neg += wn;
  }
  return num / (pos * neg);
}

Deno.test("isotonic: pool-adjacent-violators on a known case, ties as one point, interpolation", () => {
  const cal = fitIsotonic([1, 2, 3, 4], [1, 0, 1, 1]);
  assertEquals(cal.x, [1, 2, 3, 4]);
  assertEquals(cal.y, [0.5, 0.5, 1, 1]);
  assertEquals([...applyCalibrator(cal, [0, 1.5, 2.5, 9])], [0.5, 0.5, 0.75, 1]);
  // ties: scores 2,2 with labels 0,1 are one point of mean 0.5
  const tied = fitIsotonic([1, 2, 2, 3], [0, 0, 1, 1]);
  assertEquals(tied.x, [1, 2, 3]);
  assertEquals(tied.y, [0, 0.5, 1]);
  // weights: a weight of 3 on the violating 0 pulls the pooled mean to 1/4
  const w = fitIsotonic([1, 2], [1, 0], [1, 3]);
  assertEquals(w.y, [0.25, 0.25]);
  assertThrows(() => fitIsotonic([1, 2], [0, 2]), RangeError, "must be 0 or 1");
});

Deno.test("isotonic: the calibrated probabilities of an overconfident model are close to the truth", () => {
  const rng = new Random(3);
  const xs = Float64Array.from({ length: 50_000 }, () => rng.normal());
  const score = xs.map(rawScore);
  const y = xs.map((x) => (rng.next() < truth(x) ? 1 : 0));
  const cal = fitIsotonic(score, y);
  for (const x of [-1, 0, 1, 2]) {
    assertAlmostEquals(applyCalibrator(cal, [rawScore(x)])[0], truth(x), 0.03);
  }
});

Deno.test("cbpe: the population AUC by quadrature equals a huge sample's", () => {
  const { score, y } = sample(new Random(1), 400_000);
  assertAlmostEquals(rocAuc(y, score), populationAuc(0), 0.003);
});

Deno.test("cbpe: on a calibrated model the interval holds the realized AUC, accuracy and F1 at its rate", () => {
  const seeds = 200, alpha = 0.05;
  const pop = populationAuc(0);
  const covered = { roc_auc: 0, accuracy: 0, f1: 0 };
  let popCovered = 0, absErr = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const rng = new Random(1000 + seed);
    const ref = sample(rng, 4000);
    const cur = sample(rng, 1000);
    const est = estimatePerformance(fitCbpe(ref.score, ref.y, { seed }), cur.score, {
      alpha,
      seed,
    });
    const realized = {
      roc_auc: rocAuc(cur.y, cur.score),
      accuracy: cur.y.reduce((a, v, i) => a + ((cur.score[i] >= 0.5 ? 1 : 0) === v ? 1 : 0), 0) /
        cur.y.length,
      f1: (() => {
        let tp = 0, fp = 0, fn = 0;
        cur.y.forEach((v, i) => {
          const hat = cur.score[i] >= 0.5;
          if (hat && v === 1) tp++;
          else if (hat) fp++;
          else if (v === 1) fn++;
        });
        return (2 * tp) / (2 * tp + fp + fn);
      })(),
    };
    for (const m of ["roc_auc", "accuracy", "f1"] as const) {
      const e = est.metrics[m];
      if (realized[m] >= e.ciLow && realized[m] <= e.ciHigh) covered[m]++;
    }
    const auc = est.metrics.roc_auc;
    if (pop >= auc.ciLow && pop <= auc.ciHigh) popCovered++;
    absErr += Math.abs(auc.estimated - pop);
    assertEquals(est.assumption, CBPE_ASSUMPTION);
  }
  for (const m of ["roc_auc", "accuracy", "f1"] as const) {
    const rate = covered[m] / seeds;
    assert(rate >= 0.91 && rate <= 0.99, `${m}: realized inside the 95% interval ${rate}`);
  }
  assert(popCovered / seeds >= 0.93, `population AUC inside the interval ${popCovered / seeds}`);
  assert(absErr / seeds < 0.012, `mean |estimate − population AUC| ${absErr / seeds}`);
});

/** Ten reference periods then one batch period, each with its own slope B·e^(sd·N(0, 1)). */
function periods(rng: Random, sd: number, blockRows: number, batchRows: number) {
  const draw = (n: number, score: number[], y: number[]) => {
    const slope = B * Math.exp(sd * rng.normal()); // P(y | score) moves from period to period
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      score.push(rawScore(x));
      y.push(rng.next() < truth(x, slope) ? 1 : 0);
    }
  };
  const ref = { score: [] as number[], y: [] as number[] };
  for (let k = 0; k < 10; k++) draw(blockRows, ref.score, ref.y);
  const cur = { score: [] as number[], y: [] as number[] };
  draw(batchRows, cur.score, cur.y);
  return { ref, cur };
}

Deno.test("cbpe: calibration drift between periods is measured out-of-time (τ) and the interval covers it", () => {
  const seeds = 120, alpha = 0.05;
  let wide = 0, narrow = 0, tau = 0, departed = 0, departedNarrow = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const { ref, cur } = periods(new Random(7000 + seed), 0.15, 1000, 3000);
    const model = fitCbpe(ref.score, ref.y, { seed });
    assertEquals(model.shift.blocks, 10);
    const est = estimatePerformance(model, cur.score, { alpha, seed });
    const auc = est.metrics.roc_auc;
    // without τ (shiftBlocks 0): the sampling and calibration parts alone
    const bare =
      estimatePerformance(fitCbpe(ref.score, ref.y, { seed, shiftBlocks: 0 }), cur.score, {
        alpha,
        seed,
      }).metrics.roc_auc;
    assertEquals(bare.seShift, 0);
    assertEquals(bare.df, null);
    assertAlmostEquals(
      auc.se ** 2,
      auc.seSampling ** 2 + auc.seCalibration ** 2 + auc.seShift ** 2,
      1e-12,
    );
    const real = rocAuc(cur.y, cur.score);
    if (real >= auc.ciLow && real <= auc.ciHigh) wide++;
    if (real >= bare.ciLow && real <= bare.ciHigh) narrow++;
    if (compareEstimate(auc, real, alpha).departed) departed++;
    if (compareEstimate(bare, real, alpha).departed) departedNarrow++;
    tau += auc.seShift;
  }
  // without τ the interval misses the period's own calibration most of the time; with it, near
  // its rate (τ is estimated from 10 blocks: the t quantile on its df pays for that)
  assert(narrow / seeds < 0.7, `coverage without τ ${narrow / seeds}`);
  assert(wide / seeds >= 0.88, `coverage with τ ${wide / seeds} (τ mean ${tau / seeds})`);
  assert(tau / seeds > 0.01, `mean τ ${tau / seeds}`);
  // the departure test uses the same se: it fires at ≈ 1 − coverage, near alpha with τ
  assert(departed / seeds <= 0.12, `departures with τ ${departed / seeds}`);
  assert(departedNarrow / seeds > 0.3, `departures without τ ${departedNarrow / seeds}`);
});

Deno.test("cbpe: τ is 0 and says so when the reference is too small to measure it", () => {
  const model = fitCbpe([0.1, 0.2, 0.8, 0.9, 0.3, 0.7], [0, 1, 0, 1, 0, 1]);
  assertEquals(model.shift.blocks, 0);
  const est = estimatePerformance(model, [0.1, 0.5, 0.9]);
  assertEquals(est.shiftBlocks, 0);
  assertEquals(est.metrics.roc_auc.seShift, 0);
  // at another threshold than τ was measured at, accuracy and F1 carry none
  const { ref } = periods(new Random(1), 0.15, 1000, 10);
  const m = fitCbpe(ref.score, ref.y, { threshold: 0.5 });
  const other = estimatePerformance(m, ref.score.slice(0, 2000), { threshold: 0.3 });
  assertEquals(other.metrics.accuracy.seShift, 0);
  assert(other.metrics.roc_auc.seShift === m.shift.roc_auc);
});

Deno.test("cbpe: under a covariate shift the estimate tracks the realized AUC; the departure test stays at alpha", () => {
  const seeds = 100;
  let absErr = 0, departed = 0, estMean = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const rng = new Random(5000 + seed);
    const ref = sample(rng, 4000);
    const cur = sample(rng, 1000, 0.5, B, 1.5); // P(x) moves, P(y | x) holds
    const est = estimatePerformance(fitCbpe(ref.score, ref.y, { seed }), cur.score, { seed });
    const realized = rocAuc(cur.y, cur.score);
    absErr += Math.abs(est.metrics.roc_auc.estimated - realized);
    estMean += est.metrics.roc_auc.estimated;
    if (compareEstimate(est.metrics.roc_auc, realized).departed) departed++;
  }
  // the shift moved the AUC itself: the estimate followed it
  const shifted = populationAuc(0.5, B, 1.5);
  assert(Math.abs(shifted - populationAuc(0)) > 0.03, `${shifted} vs ${populationAuc(0)}`);
  assertAlmostEquals(estMean / seeds, shifted, 0.01);
  assert(absErr / seeds < 0.025, `mean |estimated − realized| ${absErr / seeds}`);
  assert(departed / seeds <= 0.1, `departures under covariate shift ${departed / seeds}`);
});

Deno.test("cbpe: under a concept shift the estimate departs from the realized AUC and the test says so", () => {
  const seeds = 50;
  let departed = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const rng = new Random(9000 + seed);
    const ref = sample(rng, 4000);
    const cur = sample(rng, 1000, 0, 0.3); // P(y | x) weakened: the scores rank worse
    const est = estimatePerformance(fitCbpe(ref.score, ref.y, { seed }), cur.score, { seed });
    const realized = rocAuc(cur.y, cur.score);
    const c = compareEstimate(est.metrics.roc_auc, realized);
    assert(c.difference < 0);
    if (c.departed) departed++;
  }
  assert(departed / seeds >= 0.95, `departures under concept shift ${departed / seeds}`);
});

Deno.test("cbpe: a reference with one class and a batch without scores fail with what was wrong", () => {
  assertThrows(() => fitCbpe([0.1, 0.2], [1, 1]), RangeError, "both classes");
  const model = fitCbpe([0.1, 0.2, 0.8, 0.9], [0, 1, 0, 1]);
  assertThrows(() => estimatePerformance(model, [NaN]), RangeError, "at least 2");
  assertAlmostEquals(normalUpper(0.025), 1.959964, 1e-5);
});

Deno.test("cbpe: a resample's AUC estimate from draw counts is estimateAuc of the drawn scores, exactly", () => {
  const rng = new Random(11);
  for (const levels of [0, 25]) {
    // with levels: scores rounded, so the pool and every resample have many ties
    const pool = Float64Array.from({ length: 3000 }, () => {
      const v = rng.next();
      return levels ? Math.round(v * levels) / levels : v;
    });
    const y = Float64Array.from(pool, (v) => (rng.next() < v ? 1 : 0));
    const model = fitCbpe(pool, y, { bootstrapRounds: 5, shiftBlocks: 0 });
    const ranked = scorePool(model, pool)!;
    for (const n of [1, 2, 500, 3000]) {
      const counts = new Uint32Array(pool.length), sample = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const k = rng.int(pool.length);
        counts[k]++;
        sample[i] = pool[k];
      }
      assert.ok(Object.is(estimateAucOfDraws(ranked, counts), estimateAuc(model, sample)));
    }
  }
  assert.equal(scorePool(fitCbpe([0.2, 0.7], [0, 1], { bootstrapRounds: 2 }), [0.2, -0]), null);
});
