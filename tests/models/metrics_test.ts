// bootstrapMetric(s) computes ROC AUC, accuracy, F1 and log loss of a resample from how often each
// row was drawn; these tests hold it to the plain bootstrap (the rows resampled, the metric called on
// them) to the last bit, with ties, one class and infinite scores.
import assert from "node:assert/strict";
import { Random } from "../../models/core/random.ts";
import {
  accuracy,
  bootstrapMetric,
  bootstrapMetrics,
  f1,
  logLoss,
  logLossTerms,
  type Metric,
  type MetricInterval,
  rmse,
  rocAuc,
} from "../../models/metrics.ts";

/** The bootstrap as written before: each resample's rows copied out and the metric called. */
function plainBootstrap(
  metric: Metric,
  y: ArrayLike<number>,
  score: ArrayLike<number>,
  { rounds = 200, alpha = 0.05, seed = 0 } = {},
): MetricInterval {
  const n = y.length;
  const rng = new Random(seed);
  const ys = new Float64Array(n), ps = new Float64Array(n);
  const stats: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      ys[i] = y[k];
      ps[i] = score[k];
    }
    const v = metric(ys, ps);
    if (Number.isFinite(v)) stats.push(v);
  }
  stats.sort((a, b) => a - b);
  const at = (q: number) =>
    stats.length ? stats[Math.min(stats.length - 1, Math.floor(q * stats.length))] : NaN;
  return { value: metric(y, score), ciLow: at(alpha / 2), ciHigh: at(1 - alpha / 2) };
}

function data(n: number, seed: number, { levels = 0, positiveShare = 0.3 } = {}) {
  const rng = new Random(seed);
  const y = new Float64Array(n), score = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < positiveShare ? 1 : 0;
    const p = 1 / (1 + Math.exp(-(rng.normal() + (y[i] ? 0.6 : 0))));
    // with levels: scores rounded to a few values, so many rows tie
    score[i] = levels ? Math.round(p * levels) / levels : p;
  }
  return { y, score };
}

const metrics = [rocAuc, accuracy, f1, logLoss, rmse];

Deno.test("bootstrapMetrics: the plain bootstrap's intervals, exactly", () => {
  const cases = [
    data(3000, 1),
    data(3000, 2, { levels: 20 }), // ties
    data(500, 3, { levels: 3, positiveShare: 0.05 }),
    data(40, 4, { positiveShare: 0.02 }), // resamples with one class: NaN AUC, dropped
    data(1, 5),
    data(0, 8),
  ];
  for (const [c, { y, score }] of cases.entries()) {
    for (const seed of [0, 7]) {
      const got = bootstrapMetrics(metrics, y, score, { rounds: 60, seed });
      metrics.forEach((m, i) => {
        assert.deepEqual(got[i], plainBootstrap(m, y, score, { rounds: 60, seed }), `case ${c}`);
        assert.deepEqual(
          bootstrapMetric(m, y, score, { rounds: 60, seed }),
          got[i],
          `case ${c} alone`,
        );
      });
    }
  }
});

Deno.test("bootstrapMetrics: infinite scores are resampled as rows, as before", () => {
  const { y, score } = data(400, 6);
  score[3] = -Infinity;
  score[10] = Infinity;
  const got = bootstrapMetrics(metrics, y, score, { rounds: 30 });
  metrics.forEach((m, i) => assert.deepEqual(got[i], plainBootstrap(m, y, score, { rounds: 30 })));
});

Deno.test("logLossTerms: a resample's terms subtracted in the order drawn are its logLoss, exactly", () => {
  const { y, score } = data(2000, 9);
  score[0] = 0; // clipped, as logLoss clips
  score[1] = 1;
  const terms = logLossTerms(y, score);
  const rng = new Random(4);
  for (const n of [1, 7, 2000]) {
    const ys = new Float64Array(n), ps = new Float64Array(n);
    let s = 0;
    for (let i = 0; i < n; i++) {
      const k = rng.int(y.length);
      ys[i] = y[k];
      ps[i] = score[k];
      s -= terms[k];
    }
    assert.ok(Object.is(s / n, logLoss(ys, ps)));
  }
});
