/**
 * Limited-memory BFGS (Nocedal and Wright, algorithm 7.4) with a backtracking Armijo line search,
 * for smooth convex objectives such as penalised logistic loss. Hand-written: the npm optimisers
 * are unmaintained or pull a linear-algebra framework for a 60-line algorithm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minimizeLbfgs } from "./lbfgs.ts";
 * // minimise (x − 3)²: the objective writes its gradient into g and returns its value
 * const r = minimizeLbfgs((x, g) => {
 *   g[0] = 2 * (x[0] - 3);
 *   return (x[0] - 3) ** 2;
 * }, new Float64Array(1));
 * assert.ok(r.converged && Math.abs(r.x[0] - 3) < 1e-6);
 * ```
 */

/** Writes the gradient at x into g and returns the objective. */
export type Objective = (x: Float64Array, g: Float64Array) => number;

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

const dot = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

/** Minimises `f` from `x0`; stops when max|gradient| ≤ gtol, when a step gains (relatively) under ftol, or after maxIter iterations. */
export function minimizeLbfgs(
  f: Objective,
  x0: Float64Array,
  { maxIter = 500, memory = 10, gtol = 1e-6, ftol = 1e-12 }: {
    maxIter?: number;
    memory?: number;
    gtol?: number;
    ftol?: number;
  } = {},
): LbfgsResult {
  const n = x0.length;
  let x = x0.slice();
  let g = new Float64Array(n);
  let value = f(x, g);
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const d = new Float64Array(n);
  const alpha = new Float64Array(memory);
  let iterations = 0;
  const small = () => {
    let m = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(g[i]));
    return m <= gtol;
  };
  while (iterations < maxIter && !small()) {
    iterations++;
    // two-loop recursion: d = −H·g
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = S.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(S[k], d);
      for (let i = 0; i < n; i++) d[i] -= alpha[k] * Y[k][i];
    }
    if (S.length > 0) {
      const last = S.length - 1;
      const gamma = dot(S[last], Y[last]) / dot(Y[last], Y[last]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    } else {
      const norm = Math.sqrt(dot(g, g));
      for (let i = 0; i < n; i++) d[i] /= Math.max(1, norm);
    }
    for (let k = 0; k < S.length; k++) {
      const beta = rho[k] * dot(Y[k], d);
      for (let i = 0; i < n; i++) d[i] += S[k][i] * (alpha[k] - beta);
    }
    let slope = dot(g, d);
    if (slope >= 0) {
      // not a descent direction: restart from steepest descent
      S.length = Y.length = rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      slope = dot(g, d);
    }
    let step = 1;
    const xNew = new Float64Array(n), gNew = new Float64Array(n);
    let vNew = Infinity;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      vNew = f(xNew, gNew);
      if (vNew <= value + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(vNew < value) && !(vNew <= value)) break;
    const s = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
    }
    const sy = dot(s, y);
    if (sy > 1e-12) {
      if (S.length === memory) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    const improvement = value - vNew;
    x = xNew;
    g = gNew;
    value = vNew;
    if (improvement <= ftol * Math.max(1, Math.abs(value))) break;
  }
  return { x, value, iterations, converged: small() };
}
