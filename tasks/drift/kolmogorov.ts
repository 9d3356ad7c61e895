/**
 * Tail probabilities of the Kolmogorov–Smirnov statistics, written by hand because no JavaScript
 * library has them: the two-sample exact distribution (lattice paths that leave the band
 * |i/m − j/n| < d), the one-sample two-sided distribution `kstwo` (the branches of Simard and
 * L'Ecuyer 2011 that scipy follows: Ruben–Gambino edges, the Durbin matrix of Marsaglia, Tsang and
 * Wang, the Pelz–Good expansion) and the one-sided Smirnov tail (Birnbaum–Tingey sum).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { kstwoSf } from "./kolmogorov.ts";
 * // P(D_1000 ≥ x): a distance of 0.05 between 1,000 values and their law is rare, 0.01 is not
 * assert.ok(Math.abs(kstwoSf(1000, 0.05) - 0.013) < 0.001);
 * assert.ok(kstwoSf(1000, 0.01) > 0.99);
 * ```
 */
import { gammaln } from "./special.ts";

const clip = (p: number): number => Math.min(1, Math.max(0, p));
const E128 = 2 ** 128;
const EM128 = 2 ** -128;

/** P(D⁺_n ≥ x), the exact one-sided Smirnov tail, as a sum of positive terms in log space. */
export function smirnovSf(n: number, x: number): number {
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const jMax = Math.floor(n * (1 - x));
  const logNFact = gammaln(n + 1);
  let sum = 0;
  for (let j = 0; j <= jMax; j++) {
    const a = 1 - x - j / n;
    if (a <= 0 && n - j > 0) continue;
    const logTerm = logNFact - gammaln(j + 1) - gammaln(n - j + 1) +
      (n - j > 0 ? (n - j) * Math.log(a) : 0) + (j - 1) * Math.log(x + j / n);
    sum += Math.exp(logTerm);
  }
  return clip(x * sum);
}

function logNFactorialDivNPowN(n: number): number {
  const coeffs = [
    -2.955065359477124183e-2,
    6.4102564102564102564e-3,
    -1.9175269175269175269e-3,
    8.4175084175084175084e-4,
    -5.952380952380952381e-4,
    7.9365079365079365079e-4,
    -2.7777777777777777778e-3,
    8.3333333333333333333e-2,
  ];
  const rn = 1 / n;
  const r2 = rn / n;
  let poly = 0;
  for (const c of coeffs) poly = poly * r2 + c;
  return Math.log(n) / 2 - n + Math.log(2 * Math.PI) / 2 + rn * poly;
}

function matmul(a: Float64Array, b: Float64Array, m: number): Float64Array {
  const out = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let k = 0; k < m; k++) {
      const aik = a[i * m + k];
      if (aik === 0) continue;
      for (let j = 0; j < m; j++) out[i * m + j] += aik * b[k * m + j];
    }
  }
  return out;
}

/** P(D_n ≤ d) by the Durbin matrix (Marsaglia, Tsang and Wang 2003): exact, O(k³ log n), k = ⌈nd⌉. */
export function kolmogorovCdfDurbin(n: number, d: number): number {
  if (d >= 1) return 1;
  const nd = n * d;
  if (nd <= 0.5) return 0;
  const k = Math.ceil(nd);
  const h = k - nd;
  const m = 2 * k - 1;
  const v = new Float64Array(m);
  const w = new Float64Array(m);
  let fac = 1;
  for (let j = 1; j <= m; j++) {
    w[j - 1] = fac;
    fac /= j;
    v[j - 1] = (1 - h ** j) * fac;
  }
  const tt = Math.max(2 * h - 1, 0) ** m - 2 * h ** m;
  v[m - 1] = (1 + tt) * fac;
  let H: Float64Array = new Float64Array(m * m);
  for (let i = 1; i < m; i++) {
    for (let r = i - 1; r < m; r++) H[r * m + i] = w[r - i + 1];
  }
  for (let r = 0; r < m; r++) H[r * m] = v[r];
  for (let c = 0; c < m; c++) H[(m - 1) * m + c] = v[m - 1 - c];
  let pwr: Float64Array = new Float64Array(m * m);
  for (let i = 0; i < m; i++) pwr[i * m + i] = 1;
  let nn = n;
  let expnt = 0;
  let hExpnt = 0;
  while (nn > 0) {
    if (nn % 2) {
      pwr = matmul(pwr, H, m);
      expnt += hExpnt;
    }
    H = matmul(H, H, m);
    hExpnt *= 2;
    if (Math.abs(H[(k - 1) * m + k - 1]) > E128) {
      for (let i = 0; i < H.length; i++) H[i] /= E128;
      hExpnt += 128;
    }
    nn = Math.floor(nn / 2);
  }
  let p = pwr[(k - 1) * m + k - 1];
  for (let i = 1; i <= n; i++) {
    p = i * p / n;
    if (Math.abs(p) < EM128) {
      p *= E128;
      expnt -= 128;
    }
  }
  return clip(p * 2 ** expnt);
}

/** P(D_n ≤ x) by the Pelz–Good asymptotic expansion (for large n). */
export function kolmogorovCdfPelzGood(n: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const PI2 = Math.PI ** 2, PI4 = Math.PI ** 4, PI6 = Math.PI ** 6;
  const SQRT2PI = Math.sqrt(2 * Math.PI);
  const z = Math.sqrt(n) * x;
  const z2 = z ** 2, z3 = z ** 3, z4 = z ** 4, z6 = z ** 6;
  const qlog = -PI2 / 8 / z2;
  if (qlog < -708) return 0;
  let q = Math.exp(qlog);
  const k1a = -z2, k1b = PI2 / 4;
  const k2a = 6 * z6 + 2 * z4;
  const k2b = (2 * z4 - 5 * z2) * PI2 / 4;
  const k2c = PI4 * (1 - 2 * z2) / 16;
  const k3d = PI6 * (5 - 30 * z2) / 64;
  const k3c = PI4 * (-60 * z2 + 212 * z4) / 16;
  const k3b = PI2 * (135 * z4 - 96 * z6) / 4;
  const k3a = -30 * z6 - 90 * z ** 8;
  const K = [0, 0, 0, 0];
  const maxk = Math.ceil(16 * z / Math.PI);
  for (let k = maxk; k > 0; k--) {
    const m = 2 * k - 1;
    const m2 = m ** 2, m4 = m ** 4, m6 = m ** 6;
    const qp = q ** (8 * k);
    const c = [
      1,
      k1a + k1b * m2,
      k2a + k2b * m2 + k2c * m4,
      k3a + k3b * m2 + k3c * m4 + k3d * m6,
    ];
    for (let i = 0; i < 4; i++) K[i] = K[i] * qp + c[i];
  }
  const div = [z, 6 * z4, 72 * z ** 7, 6480 * z ** 10];
  for (let i = 0; i < 4; i++) K[i] = K[i] * q * SQRT2PI / div[i];
  q = Math.exp(-PI2 / 2 / z2);
  const sqrt3z = Math.sqrt(3) * z;
  let k2extra = 0, k3extra = 0;
  for (let k = maxk; k > 0; k--) {
    const k2 = k * k;
    const qp = q ** k2;
    const kpi = Math.PI * k;
    k2extra += k2 * qp;
    k3extra += (sqrt3z + kpi) * (sqrt3z - kpi) * k2 * qp;
  }
  K[2] += k2extra * PI2 * SQRT2PI / (-36 * z3);
  K[3] += k3extra * PI2 * SQRT2PI / (216 * z6);
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += K[i] / n ** (i / 2);
  return sum;
}

/** P(D_n ≥ x) for the two-sided one-sample statistic (scipy's `kstwo.sf`), by scipy's branches. */
export function kstwoSf(n: number, x: number): number {
  if (!Number.isInteger(n) || n <= 0) return NaN;
  if (x >= 1) return 0;
  if (x <= 0) return 1;
  const t = n * x;
  if (t <= 1) {
    if (t <= 0.5) return 1;
    let prob: number;
    if (n <= 140) {
      prob = 1;
      for (let i = 1; i <= n; i++) prob *= i * (1 / n) * (2 * t - 1);
    } else {
      prob = Math.exp(logNFactorialDivNPowN(n) + n * Math.log(2 * t - 1));
    }
    return clip(1 - prob);
  }
  if (t >= n - 1) return clip(2 * (1 - x) ** n);
  if (x >= 0.5) return clip(2 * smirnovSf(n, x));
  const nx2 = t * x;
  if (n <= 140) {
    // scipy uses Pomeranz's recursion for 0.754693 < nx² ≤ 4; the Durbin matrix is exact there too
    if (nx2 <= 4) return clip(1 - kolmogorovCdfDurbin(n, x));
    return clip(2 * smirnovSf(n, x));
  }
  if (nx2 >= 370) return 0;
  if (nx2 >= 2.2) return clip(2 * smirnovSf(n, x));
  const cdf = n <= 100000 && n * x ** 1.5 <= 1.4
    ? kolmogorovCdfDurbin(n, x)
    : kolmogorovCdfPelzGood(n, x);
  return clip(1 - cdf);
}

/**
 * P(D_{m,n} ≥ h/lcm(m,n)) for two samples of sizes m and n: the share of monotone lattice paths from
 * (0,0) to (m,n) that touch |i·n/g − j·m/g| ≥ h, computed as probabilities (no huge binomials).
 */
export function ks2SampleExactSf(m: number, n: number, h: number): number {
  if (h <= 0) return 1;
  if (m === n) {
    // Reflection formula, alternating series evaluated Horner-like (as scipy does for m = n)
    let p = 0;
    for (let k = Math.floor(n / h); k >= 0; k--) {
      let p1 = 1;
      for (let j = 0; j < h; j++) p1 = (n - k * h - j) * p1 / (n + k * h + j + 1);
      p = p1 * (1 - p);
    }
    return clip(2 * p);
  }
  const g = gcd(m, n);
  const mg = m / g, ng = n / g;
  const total = m + n;
  // f[j] = P(path passes through (i, j) staying strictly inside the band), column by column in i
  let f = new Float64Array(n + 1);
  let next = new Float64Array(n + 1);
  const inside = (i: number, j: number) => Math.abs(i * ng - j * mg) < h;
  f[0] = 1;
  for (let j = 1; j <= n; j++) {
    f[j] = inside(0, j) ? f[j - 1] * (n - j + 1) / (total - j + 1) : 0;
  }
  let curLo = 0, curHi = n;
  for (let i = 1; i <= m; i++) {
    // `next` is all zeros here; only the band of column i is written
    const lo = Math.max(0, Math.floor((i * ng - h) / mg));
    const hi = Math.min(n, Math.ceil((i * ng + h) / mg));
    for (let j = lo; j <= hi; j++) {
      if (!inside(i, j)) continue;
      const rest = total - i - j + 1;
      const fromLeft = f[j] * (m - i + 1) / rest;
      const fromBelow = j > 0 ? next[j - 1] * (n - j + 1) / rest : 0;
      next[j] = fromLeft + fromBelow;
    }
    f.fill(0, curLo, curHi + 1);
    [f, next] = [next, f];
    curLo = lo;
    curHi = hi;
  }
  return clip(1 - f[n]);
}

/** Greatest common divisor of two non-negative integers. */
export function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
