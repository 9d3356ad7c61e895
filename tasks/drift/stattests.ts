/**
 * Two-sample statistics for drift detection, numerically equal to the references people trust:
 * scipy.stats (`ks_2samp`, `cramervonmises_2samp`, `mannwhitneyu`, `ttest_ind(equal_var=False)`,
 * `anderson_ksamp`, `wasserstein_distance`, `energy_distance`, `chisquare`) and Evidently's binned
 * divergences (PSI, KL, Jensen–Shannon, Hellinger) and proportions z-test.
 *
 * Inputs are array-likes of numbers or labels (or samples prepared once with
 * {@link NumericSample.from} / {@link CategoricalSample.from}); missing values (null, NaN, ±Infinity)
 * are dropped and counted in the result. Every numeric test walks the two sorted samples once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ksTest, psi } from "./stattests.ts";
 * const { statistic, pValue } = ksTest([1, 2, 3, 4], [3, 4, 5, 6]);
 * assert.equal(statistic, 0.5);
 * assert.ok(pValue > 0.05); // four values each: not enough to tell
 * assert.ok(psi(["a", "b", "a"], ["b", "b", "c"]) > 0.2); // PSI over 0.2 reads as a large shift
 * ```
 */
import { binnedShares, histogram, sturgesEdges } from "./binning.ts";
import { gcd, ks2SampleExactSf, kstwoSf } from "./kolmogorov.ts";
import {
  type CategoricalInput,
  CategoricalSample,
  isNumericInput,
  type NumericInput,
  NumericSample,
} from "./sample.ts";
import { besselK, chi2Sf, gammaln, normalSf, tTwoSidedP } from "./special.ts";

export { CategoricalSample, NumericSample } from "./sample.ts";
export type { CategoricalInput, NumericInput } from "./sample.ts";

/** A test's statistic and p-value, with the sample sizes after dropping missing values. */
export interface TestResult {
  statistic: number;
  pValue: number;
  nRef: number;
  nCur: number;
  missingRef: number;
  missingCur: number;
}

function numericPair(
  ref: NumericInput,
  cur: NumericInput,
  test: string,
): [NumericSample, NumericSample] {
  const r = NumericSample.from(ref), c = NumericSample.from(cur);
  for (const [name, s] of [["reference", r], ["current", c]] as const) {
    if (s.n === 0) {
      throw new RangeError(
        `${test}: the ${name} sample has no values left after dropping ${s.missing} missing; pass at least one finite number`,
      );
    }
  }
  return [r, c];
}

function categoricalPair(
  ref: CategoricalInput | NumericInput,
  cur: CategoricalInput | NumericInput,
  test: string,
): [CategoricalSample, CategoricalSample] {
  const from = (v: CategoricalInput | NumericInput) =>
    v instanceof NumericSample ? CategoricalSample.from(v.sorted) : CategoricalSample.from(v);
  const r = from(ref), c = from(cur);
  for (const [name, s] of [["reference", r], ["current", c]] as const) {
    if (s.n === 0) {
      throw new RangeError(
        `${test}: the ${name} sample has no values left after dropping ${s.missing} missing; pass at least one label`,
      );
    }
  }
  return [r, c];
}

function result(
  statistic: number,
  pValue: number,
  r: { n: number; missing: number },
  c: { n: number; missing: number },
): TestResult {
  return { statistic, pValue, nRef: r.n, nCur: c.n, missingRef: r.missing, missingCur: c.missing };
}

/**
 * Visits the distinct values of two sorted samples in ascending order with how many of each sample
 * equal that value and how many of each lie strictly below it.
 */
function walkRuns(
  a: Float64Array,
  b: Float64Array,
  visit: (value: number, countA: number, countB: number, belowA: number, belowB: number) => void,
): void {
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    const i0 = i, j0 = j;
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    visit(v, i - i0, j - j0, i0, j0);
  }
}

/** Two-sample Kolmogorov–Smirnov test, two-sided, as `scipy.stats.ks_2samp(ref, cur)` (method "auto"). */
export function ksTest(ref: NumericInput, cur: NumericInput): TestResult {
  const [r, c] = numericPair(ref, cur, "ksTest");
  const n1 = r.n, n2 = c.n;
  let maxS = -Infinity, minDiff = Infinity;
  // the merge of walkRuns, inlined: this loop visits every distinct value of a million-row column
  const a = r.sorted, b = c.sorted;
  let i = 0, j = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i] <= b[j]) ? a[i] : b[j];
    while (i < n1 && a[i] === v) i++;
    while (j < n2 && b[j] === v) j++;
    const diff = i / n1 - j / n2;
    if (diff > maxS) maxS = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(1, Math.max(0, -minDiff));
  let d = minS > maxS ? minS : maxS;
  let p: number;
  if (Math.max(n1, n2) <= 10000) {
    const g = gcd(n1, n2);
    const lcm = (n1 / g) * n2;
    const h = roundHalfEven(d * lcm);
    d = h / lcm;
    p = h === 0 ? 1 : ks2SampleExactSf(n1, n2, h);
  } else {
    const [m, n] = n1 >= n2 ? [n1, n2] : [n2, n1];
    p = kstwoSf(roundHalfEven((m * n) / (m + n)), d);
  }
  return result(d, Math.min(1, Math.max(0, p)), r, c);
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Average ranks of the sorted reference and current values in the pooled sample, and tie sizes. */
function pooledRanks(
  a: Float64Array,
  b: Float64Array,
): { ra: Float64Array; rb: Float64Array; ties: number[] } {
  const ra = new Float64Array(a.length), rb = new Float64Array(b.length);
  const ties: number[] = [];
  walkRuns(a, b, (_v, ca, cb, ba, bb) => {
    const start = ba + bb; // values strictly below
    const t = ca + cb;
    const rank = start + (t + 1) / 2;
    for (let k = 0; k < ca; k++) ra[ba + k] = rank;
    for (let k = 0; k < cb; k++) rb[bb + k] = rank;
    if (t > 1) ties.push(t);
  });
  return { ra, rb, ties };
}

/** Two-sample Cramér–von Mises test, as `scipy.stats.cramervonmises_2samp` (exact up to 20 per sample). */
export function cramerVonMisesTest(ref: NumericInput, cur: NumericInput): TestResult {
  const [r, c] = numericPair(ref, cur, "cramerVonMisesTest");
  const nx = r.n, ny = c.n;
  const { ra, rb } = pooledRanks(r.sorted, c.sorted);
  let sx = 0, sy = 0;
  for (let i = 0; i < nx; i++) sx += (ra[i] - (i + 1)) ** 2;
  for (let j = 0; j < ny; j++) sy += (rb[j] - (j + 1)) ** 2;
  const u = nx * sx + ny * sy;
  const k = nx * ny, N = nx + ny;
  const t = u / (k * N) - (4 * k - 1) / (6 * N);
  const p = Math.max(nx, ny) > 20 ? cvmAsymptoticP(t, N, nx, ny, k) : cvmExactP(u, nx, ny);
  return result(t, p, r, c);
}

function cvmAsymptoticP(t: number, N: number, nx: number, ny: number, k: number): number {
  const et = (1 + 1 / N) / 6;
  let vt = (N + 1) * (4 * k * N - 3 * (nx ** 2 + ny ** 2) - 2 * k);
  vt = vt / (45 * N ** 2 * 4 * k);
  const tn = 1 / 6 + (t - et) / Math.sqrt(45 * vt);
  if (tn < 0.003) return 1;
  return Math.max(0, 1 - cvmLimitCdf(tn));
}

/** CDF of the limiting Cramér–von Mises distribution (Csörgő and Faraway 1996), summed as scipy does. */
function cvmLimitCdf(x: number): number {
  let total = 0;
  for (let k = 0;; k++) {
    const u = Math.exp(gammaln(k + 0.5) - gammaln(k + 1)) / (Math.PI ** 1.5 * Math.sqrt(x));
    const y = 4 * k + 1;
    const q = y ** 2 / (16 * x);
    const z = u * Math.sqrt(y) * Math.exp(-q) * besselK(0.25, q);
    total += z;
    if (!(Math.abs(z) >= 1e-7)) break;
  }
  return total;
}

/**
 * Exact p-value of the two-sample Cramér–von Mises U (Xiao, Gordon and Yakovlev 2006): the
 * distribution of Σ (a·v − b·u)² over monotone lattice paths, by dynamic programming over the grid.
 */
function cvmExactP(u: number, m: number, n: number): number {
  const g = gcd(m, n);
  const lcm = (m / g) * n;
  const a = lcm / m, b = lcm / n;
  const mn = m * n;
  const zeta = Math.floor((lcm ** 2 * (m + n) * (6 * u - mn * (4 * mn - 1))) / (6 * mn ** 2));
  // gs[v]: distribution (value → number of paths) of partial sums reaching (u, v)
  let gs: Map<number, number>[] = [new Map([[0, 1]])];
  for (let v = 1; v <= m; v++) gs.push(new Map());
  for (let uu = 0; uu <= n; uu++) {
    const next: Map<number, number>[] = [];
    let tmp = new Map<number, number>();
    for (let v = 0; v <= m; v++) {
      const merged = new Map(tmp);
      for (const [val, cnt] of gs[v]) merged.set(val, (merged.get(val) ?? 0) + cnt);
      const add = (a * v - b * uu) ** 2;
      tmp = new Map();
      for (const [val, cnt] of merged) tmp.set(val + add, cnt);
      next.push(tmp);
    }
    gs = next;
  }
  let hits = 0, total = 0;
  for (const [val, cnt] of gs[m]) {
    total += cnt;
    if (val >= zeta) hits += cnt;
  }
  return hits / total;
}

/** Mann–Whitney U test, two-sided with continuity correction, as `scipy.stats.mannwhitneyu`. */
export function mannWhitneyTest(ref: NumericInput, cur: NumericInput): TestResult {
  const [r, c] = numericPair(ref, cur, "mannWhitneyTest");
  const n1 = r.n, n2 = c.n;
  const { ra, ties } = pooledRanks(r.sorted, c.sorted);
  let r1 = 0;
  for (const v of ra) r1 += v;
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const u2 = n1 * n2 - u1;
  const U = Math.max(u1, u2);
  let p: number;
  if ((n1 > 8 && n2 > 8) || ties.length > 0) {
    const n = n1 + n2;
    let tieTerm = 0;
    for (const t of ties) tieTerm += t ** 3 - t;
    const s = Math.sqrt((n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1))));
    const z = (U - (n1 * n2) / 2 - 0.5) / s;
    p = 2 * normalSf(z);
  } else {
    p = 2 * mwuExactSf(Math.trunc(U), n1, n2);
  }
  return result(u1, Math.min(1, Math.max(0, p)), r, c);
}

/** P(U ≥ k) under the null for sample sizes m and n without ties (counts of partitions). */
function mwuExactSf(k: number, m: number, n: number): number {
  // counts[u] for sizes (i, j), built up over j with a rolling table per i
  const maxU = m * n;
  let prev: Float64Array[] = [];
  for (let i = 0; i <= m; i++) {
    const row = new Float64Array(maxU + 1);
    row[0] = 1; // j = 0: U is 0
    prev.push(row);
  }
  for (let j = 1; j <= n; j++) {
    const cur: Float64Array[] = [];
    for (let i = 0; i <= m; i++) {
      const row = new Float64Array(maxU + 1);
      if (i === 0) row[0] = 1;
      else {
        // c(u; i, j) = c(u − j; i − 1, j) + c(u; i, j − 1)
        for (let u = 0; u <= maxU; u++) row[u] = (u >= j ? cur[i - 1][u - j] : 0) + prev[i][u];
      }
      cur.push(row);
    }
    prev = cur;
  }
  const counts = prev[m];
  let total = 0, tail = 0;
  for (let u = 0; u <= maxU; u++) {
    total += counts[u];
    if (u >= k) tail += counts[u];
  }
  return tail / total;
}

/** Welch's t-test, as `scipy.stats.ttest_ind(ref, cur, equal_var=False)`. */
export function welchTTest(ref: NumericInput, cur: NumericInput): TestResult {
  const [r, c] = numericPair(ref, cur, "welchTTest");
  const v1 = r.sumSquares / (r.n - 1) / r.n, v2 = c.sumSquares / (c.n - 1) / c.n;
  const se = v1 + v2;
  const t = (r.mean - c.mean) / Math.sqrt(se);
  const df = se * se / (v1 * v1 / (r.n - 1) + v2 * v2 / (c.n - 1));
  return result(t, tTwoSidedP(t, df), r, c);
}

/** k-sample Anderson–Darling for two samples, midrank variant, as `scipy.stats.anderson_ksamp`. */
export function andersonDarlingTest(ref: NumericInput, cur: NumericInput): TestResult {
  const [r, c] = numericPair(ref, cur, "andersonDarlingTest");
  const N = r.n + c.n;
  const nArr = [r.n, c.n];
  const sums = [0, 0];
  let distinct = 0;
  walkRuns(r.sorted, c.sorted, (_v, ca, cb, ba, bb) => {
    distinct++;
    const lj = ca + cb;
    const bj = ba + bb + lj / 2;
    const counts = [[ca, ba], [cb, bb]];
    for (let i = 0; i < 2; i++) {
      const [f, below] = counts[i];
      const mij = below + f - f / 2;
      sums[i] += lj / N * (N * mij - bj * nArr[i]) ** 2 / (bj * (N - bj) - N * lj / 4);
    }
  });
  if (distinct < 2) {
    throw new RangeError(
      "andersonDarlingTest: needs more than one distinct value across both samples",
    );
  }
  const a2kn = (sums[0] / nArr[0] + sums[1] / nArr[1]) * (N - 1) / N;
  const k = 2;
  const H = 1 / nArr[0] + 1 / nArr[1];
  let hsum = 0, g = 0;
  for (let i = N - 1; i >= 2; i--) {
    hsum += 1 / i;
    g += hsum / (N - i + 1);
  }
  const h = hsum + 1;
  const A = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
  const B = (2 * g - 4) * k ** 2 + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
  const C = (6 * h + 2 * g - 2) * k ** 2 + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
  const D = (2 * h + 6) * k ** 2 - 4 * h * k;
  const sigmasq = (A * N ** 3 + B * N ** 2 + C * N + D) / ((N - 1) * (N - 2) * (N - 3));
  const m = k - 1;
  const a2 = (a2kn - m) / Math.sqrt(sigmasq);
  return result(a2, andersonP(a2, m), r, c);
}

const AD_B0 = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const AD_B1 = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const AD_B2 = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];
const AD_SIG = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/** scipy's interpolation of the significance level: a quadratic fit of log(sig) on the critical values, capped to [0.001, 0.25]. */
function andersonP(a2: number, m: number): number {
  const crit = AD_B0.map((b0, i) => b0 + AD_B1[i] / Math.sqrt(m) + AD_B2[i] / m);
  if (a2 < Math.min(...crit)) return 0.25;
  if (a2 > Math.max(...crit)) return 0.001;
  const [c0, c1, c2] = quadraticFit(crit, AD_SIG.map(Math.log));
  return Math.exp(c0 + c1 * a2 + c2 * a2 * a2);
}

/** Least-squares y ≈ c0 + c1·x + c2·x², by the normal equations on centred x (well conditioned here). */
function quadraticFit(x: number[], y: number[]): [number, number, number] {
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const S = new Array(5).fill(0), T = [0, 0, 0];
  x.forEach((xv, i) => {
    const d = xv - mx;
    for (let p = 0; p < 5; p++) S[p] += d ** p;
    for (let p = 0; p < 3; p++) T[p] += y[i] * d ** p;
  });
  const M = [[S[0], S[1], S[2]], [S[1], S[2], S[3]], [S[2], S[3], S[4]]];
  const [b0, b1, b2] = solve3(M, T);
  // expand b0 + b1(x−mx) + b2(x−mx)² into powers of x
  return [b0 - b1 * mx + b2 * mx * mx, b1 - 2 * b2 * mx, b2];
}

function solve3(M: number[][], v: number[]): number[] {
  const A = M.map((row, i) => [...row, v[i]]);
  for (let col = 0; col < 3; col++) {
    let piv = col;
    for (let r = col + 1; r < 3; r++) if (Math.abs(A[r][col]) > Math.abs(A[piv][col])) piv = r;
    [A[col], A[piv]] = [A[piv], A[col]];
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const f = A[r][col] / A[col][col];
      for (let k = col; k < 4; k++) A[r][k] -= f * A[col][k];
    }
  }
  return [A[0][3] / A[0][0], A[1][3] / A[1][1], A[2][3] / A[2][2]];
}

/** ∫|F_ref − F_cur|^p over the pooled support (p = 1 or 2), by one merge of the sorted samples. */
function cdfDistance(r: NumericSample, c: NumericSample, p: 1 | 2): number {
  const a = r.sorted, b = c.sorted;
  const na = a.length, nb = b.length;
  let i = 0, j = 0, sum = 0, comp = 0;
  let prev = Math.min(a[0], b[0]);
  while (i < na || j < nb) {
    const v = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
    const diff = Math.abs(i / na - j / nb);
    const term = (p === 1 ? diff : diff * diff) * (v - prev);
    const t = sum + term;
    comp += Math.abs(sum) >= Math.abs(term) ? (sum - t) + term : (term - t) + sum;
    sum = t;
    prev = v;
    while (i < na && a[i] === v) i++;
    while (j < nb && b[j] === v) j++;
  }
  sum += comp;
  return p === 1 ? sum : Math.sqrt(sum);
}

/** First Wasserstein distance, as `scipy.stats.wasserstein_distance(ref, cur)`. */
export function wassersteinDistance(ref: NumericInput, cur: NumericInput): number {
  const [r, c] = numericPair(ref, cur, "wassersteinDistance");
  return cdfDistance(r, c, 1);
}

/** Wasserstein distance over the reference's standard deviation (at least 0.001), as Evidently's `wasserstein`. */
export function wassersteinNormed(ref: NumericInput, cur: NumericInput): number {
  const [r, c] = numericPair(ref, cur, "wassersteinNormed");
  return cdfDistance(r, c, 1) / Math.max(r.std, 0.001);
}

/** Energy distance, as `scipy.stats.energy_distance(ref, cur)`. */
export function energyDistance(ref: NumericInput, cur: NumericInput): number {
  const [r, c] = numericPair(ref, cur, "energyDistance");
  return Math.SQRT2 * cdfDistance(r, c, 2);
}

type AnyInput = NumericInput | CategoricalInput;

function samplePair(
  ref: AnyInput,
  cur: AnyInput,
  test: string,
): [NumericSample, NumericSample] | [CategoricalSample, CategoricalSample] {
  const numeric = isNumericInput(ref) && isNumericInput(cur);
  if (numeric) return numericPair(ref as NumericInput, cur as NumericInput, test);
  return categoricalPair(ref, cur, test);
}

/** Population Stability Index over Evidently's bins (empty cells filled). */
export function psi(ref: AnyInput, cur: AnyInput): number {
  const [r, c] = samplePair(ref, cur, "psi");
  const b = binnedShares(r, c, true);
  let sum = 0;
  for (let i = 0; i < b.ref.length; i++) {
    sum += (b.ref[i] - b.cur[i]) * Math.log(b.ref[i] / b.cur[i]);
  }
  return sum;
}

/** Kullback–Leibler divergence KL(ref ‖ cur) over Evidently's bins (empty cells filled), as `scipy.stats.entropy`. */
export function klDivergence(ref: AnyInput, cur: AnyInput): number {
  const [r, c] = samplePair(ref, cur, "klDivergence");
  const b = binnedShares(r, c, true);
  const sp = b.ref.reduce((s, v) => s + v, 0), sq = b.cur.reduce((s, v) => s + v, 0);
  let sum = 0;
  for (let i = 0; i < b.ref.length; i++) {
    const p = b.ref[i] / sp, q = b.cur[i] / sq;
    if (p > 0) sum += p * Math.log(p / q);
  }
  return sum;
}

/** Jensen–Shannon distance (natural log) over Evidently's bins (empty cells kept), as `scipy.spatial.distance.jensenshannon`. */
export function jensenShannonDistance(ref: AnyInput, cur: AnyInput): number {
  const [r, c] = samplePair(ref, cur, "jensenShannonDistance");
  const b = binnedShares(r, c, false);
  return jensenShannon(b.ref, b.cur);
}

/** Jensen–Shannon distance of two share vectors (each normalised to sum 1). */
export function jensenShannon(p: Float64Array, q: Float64Array): number {
  let sp = 0, sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i];
    sq += q[i];
  }
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i] / sp, qi = q[i] / sq;
    const m = (pi + qi) / 2;
    if (pi > 0) js += pi * Math.log(pi / m);
    if (qi > 0) js += qi * Math.log(qi / m);
  }
  return Math.sqrt(Math.max(js, 0) / 2);
}

/** Hellinger distance as Evidently computes it (numeric: Sturges bins over the distinct values). */
export function hellingerDistance(ref: AnyInput, cur: AnyInput): number {
  const [r, c] = samplePair(ref, cur, "hellingerDistance");
  let bc = 0;
  if (r instanceof NumericSample && c instanceof NumericSample) {
    const keys = new Set<number>();
    for (const v of r.sorted) keys.add(v);
    for (const v of c.sorted) keys.add(v);
    const edges = sturgesEdges([Float64Array.from(keys).sort()]);
    const h1 = histogram(r.sorted, edges), h2 = histogram(c.sorted, edges);
    const width = (edges[edges.length - 1] - edges[0]) / (edges.length - 1);
    let s1 = 0, s2 = 0;
    for (let i = 0; i < h1.length; i++) {
      s1 += h1[i];
      s2 += h2[i];
    }
    for (let i = 0; i < h1.length; i++) {
      const d1 = h1[i] / s1 / (edges[i + 1] - edges[i]);
      const d2 = h2[i] / s2 / (edges[i + 1] - edges[i]);
      bc += Math.sqrt(d1 * d2) * width;
    }
  } else {
    const rc = r as CategoricalSample, cc = c as CategoricalSample;
    for (const [k, n] of rc.counts) bc += Math.sqrt((n / rc.n) * ((cc.counts.get(k) ?? 0) / cc.n));
  }
  return Math.sqrt(1 - Math.min(1, Math.max(0, bc)));
}

/** Chi-square goodness of fit of current counts to reference counts scaled to the current size (`scipy.stats.chisquare`). */
export function chiSquareTest(
  refCats: CategoricalInput | NumericInput,
  curCats: CategoricalInput | NumericInput,
): TestResult {
  const [r, c] = categoricalPair(refCats, curCats, "chiSquareTest");
  const keys = new Set([...r.counts.keys(), ...c.counts.keys()]);
  const scale = c.n / r.n;
  let stat = 0;
  for (const k of keys) {
    const exp = (r.counts.get(k) ?? 0) * scale;
    const obs = c.counts.get(k) ?? 0;
    stat += (obs - exp) ** 2 / exp;
  }
  return result(stat, chi2Sf(stat, keys.size - 1), r, c);
}

/**
 * Two-proportion z-test for a column with at most two values, as Evidently's `z` test: the share of
 * the first value (in sorted order) in reference against current; p-value two-sided.
 */
export function zTestProportions(
  ref: CategoricalInput | NumericInput,
  cur: CategoricalInput | NumericInput,
): TestResult {
  const [r, c] = categoricalPair(ref, cur, "zTestProportions");
  const keys = [...new Set([...r.counts.keys(), ...c.counts.keys()])].sort();
  if (keys.length > 2) {
    throw new RangeError(
      `zTestProportions: expects a binary column but found ${keys.length} values (${
        keys.slice(0, 5).join(", ")
      }…); use chiSquareTest`,
    );
  }
  if (keys.length === 1) return result(0, 1, r, c);
  const target = keys[0];
  const p1 = (r.counts.get(target) ?? 0) / r.n;
  const p2 = (c.counts.get(target) ?? 0) / c.n;
  const P = (p1 * r.n + p2 * c.n) / (r.n + c.n);
  const z = (p1 - p2) / Math.sqrt(P * (1 - P) * (1 / r.n + 1 / c.n));
  return result(z, 2 * normalSf(Math.abs(z)), r, c);
}
