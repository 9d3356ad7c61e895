/**
 * The statistics of the default (honest) drift policy, each a p-value test whose decision accounts
 * for both samples' sizes, with an effect size on a 0–1 total-variation scale for severity:
 *
 * - {@link chiSquarePooledTest}: a two-sample χ² test of homogeneity on the 2 × K contingency table
 *   (reference row, current row). Both rows are samples, so a category absent from the reference has
 *   a finite expected count; categories whose expected count in the smaller row is below 5 are pooled
 *   into one cell, so 200+ rare categories do not break the χ² approximation.
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
 * - {@link twoProportionTest}: a pooled two-proportion z-test (the label share).
 *
 * Hand-written because no library has these two-sample forms (scipy's `chisquare` treats the
 * reference as exact; `chi2_contingency` has no pooling); tails come from stdlib-js via special.ts.
 *
 * @example
 * ```ts
 * import { chiSquarePooledTest } from "./policy_stats.ts";
 * chiSquarePooledTest(["a", "a", "b"], ["a", "b", "c"]).pValue;
 * ```
 */
import { type CategoricalInput, CategoricalSample, type NumericInput } from "./sample.ts";
import { binomialCdf, binomialSf, chi2Sf, normalSf } from "./special.ts";

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
  if (otherR + otherC > 0) {
    if ((small * (otherR + otherC)) / N >= minExpected || cells.length === 0) {
      cells.push([otherR, otherC]);
    } else {
      // the pooled cell is still too small: merge it into the smallest kept cell
      let at = 0;
      for (let i = 1; i < cells.length; i++) {
        if (cells[i][0] + cells[i][1] < cells[at][0] + cells[at][1]) at = i;
      }
      cells[at] = [cells[at][0] + otherR, cells[at][1] + otherC];
    }
  }
  if (cells.length < 2) {
    return { statistic: 0, pValue: 1, effect: 0, cells: cells.length, df: 0, nullEffect: 0 };
  }
  let stat = 0, tv = 0, nullTv = 0;
  const spread = Math.sqrt((2 / Math.PI) * (1 / nR + 1 / nC));
  for (const [a, b] of cells) {
    const total = a + b;
    const eR = (nR * total) / N, eC = (nC * total) / N;
    stat += (a - eR) ** 2 / eR + (b - eC) ** 2 / eC;
    tv += Math.abs(a / nR - b / nC);
    const share = total / N;
    nullTv += spread * Math.sqrt(share * (1 - share));
  }
  const df = cells.length - 1;
  return {
    statistic: stat,
    pValue: chi2Sf(stat, df),
    effect: tv / 2,
    cells: cells.length,
    df,
    nullEffect: nullTv / 2,
  };
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

/** Pooled two-proportion z-test, two-sided: x1 of n1 against x2 of n2. statistic = z (p2 − p1). */
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
  const z = (p2 - p1) / se;
  return {
    statistic: z,
    pValue: Math.min(1, 2 * normalSf(Math.abs(z))),
    effect: Math.abs(p2 - p1),
    reference: p1,
    current: p2,
  };
}
