/**
 * Distribution tails the drift tests need, on stdlib-js's incomplete gamma and beta functions and
 * complementary error function. One function is written by hand: the modified Bessel function of the
 * second kind K_ν for fractional ν (the Cramér–von Mises limiting distribution needs K_¼), which no
 * maintained npm package provides; it integrates K_ν(x) = ∫₀^∞ exp(−x·cosh t)·cosh(νt) dt with the
 * trapezoid rule, which converges geometrically for this entire, doubly-exponentially decaying
 * integrand.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chi2Sf, normalSf } from "./special.ts";
 * assert.ok(Math.abs(normalSf(1.96) - 0.025) < 1e-4); // P(Z ≥ 1.96)
 * assert.ok(Math.abs(chi2Sf(3.841, 1) - 0.05) < 1e-4);
 * ```
 */
import gammainc from "@stdlib/math-base-special-gammainc";
import betainc from "@stdlib/math-base-special-betainc";
import erfc from "@stdlib/math-base-special-erfc";
import gammaln from "@stdlib/math-base-special-gammaln";

export { gammaln };

/** P(Z > z) for a standard normal Z. */
export function normalSf(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

/** P(|T| > |t|) for Student's t with `df` degrees of freedom (two-sided tail). */
export function tTwoSidedP(t: number, df: number): number {
  if (Number.isNaN(t) || Number.isNaN(df)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return betainc(df / (df + t * t), df / 2, 0.5, true, false);
}

/** P(X > x) for a chi-square X with `k` degrees of freedom. */
export function chi2Sf(x: number, k: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 0;
  if (x <= 0) return 1;
  return gammainc(x / 2, k / 2, true, true);
}

/** Modified Bessel function of the second kind K_ν(x), x > 0, by trapezoid quadrature. */
export function besselK(nu: number, x: number): number {
  if (!(x > 0)) return x === 0 ? Infinity : NaN;
  // exp(−x·cosh t) underflows below 1e-320 beyond this t
  const tMax = Math.acosh(740 / x + 1);
  const h = 0.05;
  let sum = 0.5 * Math.exp(-x);
  for (let t = h; t <= tMax; t += h) sum += Math.exp(-x * Math.cosh(t)) * Math.cosh(nu * t);
  return sum * h;
}

/** P(X ≥ k) for X ~ Binomial(n, p), by the regularized incomplete beta I_p(k, n − k + 1). */
export function binomialSf(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  return betainc(p, k, n - k + 1, true, false);
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  return k < 0 ? 0 : 1 - binomialSf(k + 1, n, p);
}
