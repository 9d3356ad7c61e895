/**
 * Seeded synthetic tables for the false-positive and power tests: five numeric columns of different
 * shapes (normal, log-normal, uniform, integer-valued, normal with 5 % missing) and two categorical
 * columns (4 levels; 250 Zipf-distributed levels, many of them rare).
 */
import type { Table } from "../../../models/core/table.ts";
import { Random } from "../../../models/core/random.ts";

const ZIPF_LEVELS = 250;
const zipfCdf = (() => {
  const w = Array.from({ length: ZIPF_LEVELS }, (_, i) => 1 / (i + 1) ** 1.1);
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return Float64Array.from(w, (v) => (acc += v / total));
})();

function zipf(rng: Random): string {
  const u = rng.next();
  let lo = 0, hi = ZIPF_LEVELS - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (zipfCdf[mid] < u) lo = mid + 1;
    else hi = mid;
  }
  return `city${lo}`;
}

/** n rows drawn from the one fixed distribution, seeded. */
export function cleanTable(n: number, seed: number): Table {
  const rng = new Random(seed);
  const normal = new Float64Array(n), lognormal = new Float64Array(n);
  const uniform = new Float64Array(n), count = new Float64Array(n), gappy = new Float64Array(n);
  const level: string[] = [], city: string[] = [];
  for (let i = 0; i < n; i++) {
    normal[i] = 10 + 2 * rng.normal();
    lognormal[i] = Math.exp(rng.normal());
    uniform[i] = rng.next();
    count[i] = rng.int(30);
    gappy[i] = rng.next() < 0.05 ? NaN : rng.normal();
    level.push(["low", "mid", "high", "top"][rng.int(4)]);
    city.push(zipf(rng));
  }
  return { normal, lognormal, uniform, count, gappy, level, city };
}

/**
 * A labelled batch with the champion's scores: y ~ Bernoulli(prior); x | y ~ N(signal·y, 1); noise
 * features; the champion scores by the posterior it learned on the reference (prior 0.2, signal
 * 0.8). A prior shift changes `prior` only (P(x | y) and so ROC AUC stay); a concept change lowers
 * `signal` (the champion's ROC AUC falls).
 */
export function labelledBatch(
  n: number,
  seed: number,
  { prior = 0.2, signal = 0.8 }: { prior?: number; signal?: number } = {},
): Table {
  const rng = new Random(seed);
  const x = new Float64Array(n), noise = new Float64Array(n);
  const label = new Float64Array(n), score = new Float64Array(n);
  const kind: string[] = [];
  const logitPrior = Math.log(0.2 / 0.8);
  for (let i = 0; i < n; i++) {
    label[i] = rng.next() < prior ? 1 : 0;
    x[i] = signal * label[i] + rng.normal();
    noise[i] = rng.normal();
    kind.push(["a", "b", "c", "d"][rng.int(4)]);
    // log-likelihood ratio of N(0.8, 1) against N(0, 1), plus the reference's prior log-odds
    score[i] = 1 / (1 + Math.exp(-(0.8 * x[i] - 0.32 + logitPrior)));
  }
  return { x, noise, kind, label, score };
}
