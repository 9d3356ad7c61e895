/**
 * The statistics of the default (honest) drift policy, each a p-value test whose decision accounts
 * for both samples' sizes, with an effect size on a 0–1 total-variation scale for severity:
 *
 * - {@link chiSquarePooledTest}: a two-sample χ² test of homogeneity on the 2 × K contingency table
 *   (reference row, current row). Both rows are samples, so a category absent from the reference has
 *   a finite expected count; categories whose expected count in the smaller row is below 5 are pooled
 *   into one cell, so 200+ rare categories do not break the χ² approximation. A pooled cell still
 *   below 5 is tested exactly (Fisher, against the rest); when every category is rare the unpooled
 *   χ² gets a Monte Carlo p-value — never p = 1 because nothing was left to test.
 * - {@link missingShareTest}: the share of missing values, reference against current, by the
 *   conditional binomial test (given the total number of missing values, the current's count is
 *   Binomial(total, n_cur / (n_ref + n_cur)) under the null — exact for rare missingness, where a
 *   z-test is not).
 * - {@link unseenShareTest}: the share of current values whose category the reference never saw.
 *   Under the null the chance that a new draw is unseen is the reference's *missing mass* M, which is
 *   not zero when categories are many. It is estimated by the unseen rate within the reference
 *   itself (leave one out: a value is unseen by the other n − 1 rows exactly when it is a singleton,
 *   so the rate is f1/n — the Good–Turing estimate, which slightly over-estimates M, a conservative
 *   error). Its uncertainty is Esty's (1983) variance (f1·(1 − f1/n) + 2·f2)/n² (+1 in the
 *   numerator so a reference without singletons still admits a little). The p-value is Berger and
 *   Boos' (1994): P(Binomial(n_cur, M_up) ≥ unseen) + γ, with M_up the upper (1 − γ) bound of M and
 *   γ = 1e-4 — valid whatever the true M, and exact binomial tails for small counts.
 * - {@link twoProportionTest}: the label share, by the same conditional binomial test.
 * - {@link fisherExactTest}: Fisher's exact test of a 2 × 2 table (a pooled cell too small for χ²).
 *
 * Hand-written because no library has these two-sample forms (scipy's `chisquare` treats the
 * reference as exact; `chi2_contingency` has no pooling); tails come from stdlib-js via special.ts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chiSquarePooledTest } from "./policy_stats.ts";
 * const ref = [...Array(50).fill("a"), ...Array(50).fill("b")];
 * const cur = [...Array(80).fill("a"), ...Array(20).fill("b")];
 * const r = chiSquarePooledTest(ref, cur);
 * assert.ok(r.pValue < 1e-4); // "a" went from 50 % to 80 %
 * assert.ok(Math.abs(r.effect - 0.3) < 1e-12); // total-variation distance between the shares
 * assert.equal(r.cells, 2);
 * ```
 */
import { type CategoricalInput, CategoricalSample, type NumericInput } from "./sample.ts";
import { binomialCdf, binomialSf, chi2Sf, gammaln } from "./special.ts";
import { Random } from "../../models/core/random.ts";

/** A policy test's result: statistic, p-value and effect size (0 = no change, 1 = disjoint). */
export interface PolicyTestResult {
  statistic: number;
  pValue: number;
  effect: number;
}

const asCategories = (v: CategoricalInput | NumericInput): CategoricalSample =>
  CategoricalSample.from(v as CategoricalInput);

/** Cells with an expected count below this (in the smaller sample) are pooled. */
export const MIN_EXPECTED = 5;

/**
 * Two-sample χ² test of homogeneity with rare categories pooled; effect = total variation distance
 * between the pooled shares; nullEffect = its expected value when nothing changed (normal
 * approximation: ½·Σ √(2/π · p(1 − p) · (1/n_ref + 1/n_cur)) over the cells), which severity
 * subtracts so a small sample's noise is not read as a large change. Also how many cells were tested.
 */
export function chiSquarePooledTest(
  refCats: CategoricalInput | NumericInput,
  curCats: CategoricalInput | NumericInput,
  minExpected = MIN_EXPECTED,
): PolicyTestResult & { cells: number; df: number; nullEffect: number } {
  const r = asCategories(refCats), c = asCategories(curCats);
  const nR = r.n, nC = c.n, N = nR + nC;
  if (nR === 0 || nC === 0) {
    throw new RangeError(
      `chiSquarePooledTest: the ${nR === 0 ? "reference" : "current"} sample has no values`,
    );
  }
  const small = Math.min(nR, nC);
  const cells: [number, number][] = [];
  let otherR = 0, otherC = 0;
  for (const k of new Set([...r.counts.keys(), ...c.counts.keys()])) {
    const a = r.counts.get(k) ?? 0, b = c.counts.get(k) ?? 0;
    if ((small * (a + b)) / N >= minExpected) cells.push([a, b]);
    else {
      otherR += a;
      otherC += b;
    }
  }
  if (cells.length === 0 && new Set([...r.counts.keys(), ...c.counts.keys()]).size > 1) {
    // every category is rare (tiny samples, or very many categories): no cell is large enough for
    // the χ² approximation, so the unpooled χ² is judged by its Monte Carlo null distribution
    return monteCarloChiSquare(r.counts, c.counts, nR, nC);
  }
  // A pooled cell still too small for the χ² approximation is not merged away (that hid a large
  // shift into a rare category: p = 1 by construction). It is tested exactly instead: Fisher's
  // exact test of that cell against the rest, Bonferroni-combined with the χ² on the other cells.
  let exact: number | undefined;
  if (otherR + otherC > 0) {
    if ((small * (otherR + otherC)) / N >= minExpected || cells.length === 0) {
      cells.push([otherR, otherC]);
    } else {
      exact = fisherExactTest(otherR, nR - otherR, otherC, nC - otherC).pValue;
    }
  }
  // effect sizes are over every cell, the small one included
  const all = exact === undefined ? cells : [...cells, [otherR, otherC] as [number, number]];
  let tv = 0, nullTv = 0;
  const spread = Math.sqrt((2 / Math.PI) * (1 / nR + 1 / nC));
  for (const [a, b] of all) {
    tv += Math.abs(a / nR - b / nC);
    const share = (a + b) / N;
    nullTv += spread * Math.sqrt(share * (1 - share));
  }
  if (cells.length < 2) {
    if (exact !== undefined) {
      // one kept cell and the small one: the table is 2 × 2, and Fisher's test is the exact answer
      return {
        statistic: 0,
        pValue: exact,
        effect: tv / 2,
        cells: all.length,
        df: 1,
        nullEffect: nullTv / 2,
      };
    }
    return { statistic: 0, pValue: 1, effect: 0, cells: cells.length, df: 0, nullEffect: 0 };
  }
  // χ² on the kept cells, conditional on the rows' totals outside the small cell
  const mR = nR - (exact === undefined ? 0 : otherR), mC = nC - (exact === undefined ? 0 : otherC);
  const M = mR + mC;
  let stat = 0;
  for (const [a, b] of cells) {
    const total = a + b;
    const eR = (mR * total) / M, eC = (mC * total) / M;
    stat += (a - eR) ** 2 / eR + (b - eC) ** 2 / eC;
  }
  const df = cells.length - 1;
  const pChi = mR > 0 && mC > 0 ? chi2Sf(stat, df) : 1;
  return {
    statistic: stat,
    pValue: exact === undefined ? pChi : Math.min(1, 2 * Math.min(pChi, exact)),
    effect: tv / 2,
    cells: all.length,
    df,
    nullEffect: nullTv / 2,
  };
}

/** Monte Carlo draws of {@link monteCarloChiSquare} (p-value floor 1/2000). */
export const MONTE_CARLO_DRAWS = 1999;

/**
 * The unpooled two-sample χ² with its p-value from draws of the table under the null, conditional
 * on both margins (the smaller sample's rows are a random subset of all rows; seeded, so the
 * answer is reproducible): p = (1 + #{χ²* ≥ χ²})/(B + 1), as R's `chisq.test(simulate.p.value)`.
 */
function monteCarloChiSquare(
  refCounts: ReadonlyMap<unknown, number>,
  curCounts: ReadonlyMap<unknown, number>,
  nR: number,
  nC: number,
): PolicyTestResult & { cells: number; df: number; nullEffect: number } {
  const keys = [...new Set([...refCounts.keys(), ...curCounts.keys()])];
  const K = keys.length, N = nR + nC;
  const refSmaller = nR <= nC, nS = Math.min(nR, nC);
  const totals = new Float64Array(K), observed = new Float64Array(K);
  const items = new Uint32Array(N);
  let at = 0, tv = 0, nullTv = 0;
  const spread = Math.sqrt((2 / Math.PI) * (1 / nR + 1 / nC));
  keys.forEach((k, i) => {
    const a = refCounts.get(k) ?? 0, b = curCounts.get(k) ?? 0;
    totals[i] = a + b;
    observed[i] = refSmaller ? a : b;
    items.fill(i, at, at + a + b);
    at += a + b;
    tv += Math.abs(a / nR - b / nC);
    const share = (a + b) / N;
    nullTv += spread * Math.sqrt(share * (1 - share));
  });
  // χ² of the table whose smaller row holds x: Σ (x − e_S)²·(1/e_S + 1/e_L)
  const weight = Float64Array.from(totals, (t) => N / (t * nS) + N / (t * (N - nS)));
  const expected = Float64Array.from(totals, (t) => (t * nS) / N);
  // categories the smaller row misses contribute e_S²·w each: add that base once, then correct
  // for the categories a draw touches (O(n_S) per draw, not O(K))
  let base = 0;
  for (let i = 0; i < K; i++) base += expected[i] ** 2 * weight[i];
  const chi2Of = (x: Float64Array, touched: Iterable<number>) => {
    let stat = base;
    for (const i of touched) stat += ((x[i] - expected[i]) ** 2 - expected[i] ** 2) * weight[i];
    return stat;
  };
  const stat = chi2Of(observed, keys.keys().filter((i) => observed[i] > 0));
  const rng = new Random(0x5eed);
  const drawn = new Float64Array(K);
  const touched: number[] = [];
  let atLeast = 0;
  for (let d = 0; d < MONTE_CARLO_DRAWS; d++) {
    for (const i of touched) drawn[i] = 0;
    touched.length = 0;
    // partial Fisher–Yates: the first nS items of a uniformly shuffled multiset
    for (let i = 0; i < nS; i++) {
      const j = i + rng.int(N - i);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
      if (drawn[items[i]]++ === 0) touched.push(items[i]);
    }
    if (chi2Of(drawn, touched) >= stat * (1 - 1e-12)) atLeast++;
  }
  return {
    statistic: stat,
    pValue: (atLeast + 1) / (MONTE_CARLO_DRAWS + 1),
    effect: tv / 2,
    cells: K,
    df: K - 1,
    nullEffect: nullTv / 2,
  };
}

/** ln C(n, k). */
const lnChoose = (n: number, k: number): number =>
  gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);

/**
 * Fisher's exact test of the 2 × 2 table [[a, b], [c, d]] (rows: reference, current; columns: in the
 * cell, not in it), two-sided by summing every table no more likely than the observed one (scipy's
 * `fisher_exact`). Conditional on the margins, the current's count in the cell is hypergeometric.
 * statistic = the current's share in the cell; effect = |current share − reference share|.
 */
export function fisherExactTest(
  a: number,
  b: number,
  c: number,
  d: number,
): PolicyTestResult & { reference: number; current: number } {
  const nR = a + b, nC = c + d, m = a + c, N = nR + nC;
  const reference = nR ? a / nR : 0, current = nC ? c / nC : 0;
  const base = { statistic: current, reference, current, effect: Math.abs(current - reference) };
  if (nR === 0 || nC === 0 || m === 0 || m === N) return { ...base, pValue: 1 };
  const lo = Math.max(0, m - nR), hi = Math.min(m, nC);
  const denom = lnChoose(N, nC);
  const lp = (x: number) => lnChoose(m, x) + lnChoose(N - m, nC - x) - denom;
  const observed = lp(c);
  // relative tolerance as scipy's, so ties in exact arithmetic are counted as ties
  const cut = observed + Math.log1p(1e-7);
  let p = 0;
  for (let x = lo; x <= hi; x++) {
    const l = lp(x);
    if (l <= cut) p += Math.exp(l);
  }
  return { ...base, pValue: Math.min(1, p) };
}

/** Missing and total counts of one side. */
export interface MissingCounts {
  missing: number;
  total: number;
}

/**
 * Two-sided conditional binomial test of the missing share; statistic = current share, effect =
 * |current share − reference share|. `informative` is false when neither side has a missing value
 * (the test cannot reject then: given a total of 0 missing, its null distribution is a point).
 */
export function missingShareTest(
  ref: MissingCounts,
  cur: MissingCounts,
): PolicyTestResult & { reference: number; current: number; informative: boolean } {
  const shareR = ref.total ? ref.missing / ref.total : 0;
  const shareC = cur.total ? cur.missing / cur.total : 0;
  const total = ref.missing + cur.missing;
  const base = { statistic: shareC, reference: shareR, current: shareC };
  if (total === 0 || ref.total === 0 || cur.total === 0) {
    return { ...base, pValue: 1, effect: 0, informative: false };
  }
  const q = cur.total / (ref.total + cur.total);
  const k = cur.missing;
  const upper = binomialSf(k, total, q), lower = binomialCdf(k, total, q);
  return {
    ...base,
    pValue: Math.min(1, 2 * Math.min(upper, lower)),
    effect: Math.abs(shareC - shareR),
    informative: true,
  };
}

/** γ of the Berger–Boos p-value of {@link unseenShareTest} (the chance the bound on M is wrong). */
export const UNSEEN_GAMMA = 1e-4;
const Z_GAMMA = 3.7190164854556804; // Φ⁻¹(1 − 1e-4)

/**
 * One-sided test that the current sample holds more values of categories unseen in the reference
 * than the reference's own missing mass explains (see the module doc). statistic = current unseen
 * share; reference = the leave-one-out unseen rate f1/n; effect = the excess share.
 */
export function unseenShareTest(
  refCats: CategoricalInput | NumericInput,
  curCats: CategoricalInput | NumericInput,
): PolicyTestResult & { reference: number; current: number; unseen: number; bound: number } {
  const r = asCategories(refCats), c = asCategories(curCats);
  if (r.n === 0 || c.n === 0) {
    throw new RangeError(
      `unseenShareTest: the ${r.n === 0 ? "reference" : "current"} sample has no values`,
    );
  }
  let f1 = 0, f2 = 0, unseen = 0;
  for (const n of r.counts.values()) {
    if (n === 1) f1++;
    else if (n === 2) f2++;
  }
  for (const [k, n] of c.counts) if (!r.counts.has(k)) unseen += n;
  const m = f1 / r.n;
  const sd = Math.sqrt(f1 * (1 - m) + 2 * f2 + 1) / r.n;
  const bound = Math.min(1, m + Z_GAMMA * sd);
  const share = unseen / c.n;
  const pValue = unseen === 0 ? 1 : Math.min(1, binomialSf(unseen, c.n, bound) + UNSEEN_GAMMA);
  return {
    statistic: share,
    pValue,
    effect: Math.max(0, share - m),
    reference: m,
    current: share,
    unseen,
    bound,
  };
}

/** E[sup|B|] of the Brownian bridge, √(π/2)·ln 2: the mean of the Kolmogorov distribution. */
const KOLMOGOROV_MEAN = Math.sqrt(Math.PI / 2) * Math.LN2;

/** Expected two-sample KS statistic D when nothing changed (asymptotic): 0.8687·√(1/n + 1/m). */
export function ksNullEffect(nRef: number, nCur: number): number {
  return KOLMOGOROV_MEAN * Math.sqrt(1 / nRef + 1 / nCur);
}

/**
 * Two-sided two-proportion test, x1 of n1 against x2 of n2 (the label share), by the conditional
 * binomial test: given all x1 + x2 positives, the current's count is Binomial(x1 + x2,
 * n2 / (n1 + n2)) under the null (as {@link missingShareTest}). Exact when positives are rare, where
 * the pooled z-test rejects up to 5× too often. statistic = the pooled z (p2 − p1), for display.
 */
export function twoProportionTest(
  x1: number,
  n1: number,
  x2: number,
  n2: number,
): PolicyTestResult & { reference: number; current: number } {
  const p1 = n1 ? x1 / n1 : 0, p2 = n2 ? x2 / n2 : 0;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return { statistic: 0, pValue: 1, effect: 0, reference: p1, current: p2 };
  const t = missingShareTest({ missing: x1, total: n1 }, { missing: x2, total: n2 });
  return {
    statistic: (p2 - p1) / se,
    pValue: t.pValue,
    effect: Math.abs(p2 - p1),
    reference: p1,
    current: p2,
  };
}
