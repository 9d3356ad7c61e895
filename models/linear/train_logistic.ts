/**
 * L2-regularised logistic regression over a design of dense (scaled numeric) columns and one-hot
 * categorical columns kept sparse (one active slot per row), fitted by L-BFGS. The objective is
 * scikit-learn's, per row: (Σ log-loss + ‖w‖² / (2C)) / n, intercept not penalised, so `C` means
 * the same; it stops when the largest gradient component is below 1e-5 (scikit-learn: 1e-4).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainLogistic } from "./train_logistic.ts";
 * // one scaled numeric column and one categorical of 3 labels (codes 0..2), 6 rows
 * const m = trainLogistic({
 *   dense: [Float64Array.of(-1, -0.5, 0, 0.5, 1, 1.5)],
 *   sparse: [{ codes: Float64Array.of(0, 1, 2, 0, 1, 2), width: 3 }],
 *   y: Float64Array.of(0, 0, 1, 0, 1, 1),
 * }, { C: 1 });
 * assert.equal(m.weights.length, 1 + 3); // the dense weight, then the one-hot slots
 * assert.ok(m.converged && m.weights[0] > 0);
 * ```
 */
import { minimizeLbfgs } from "./lbfgs.ts";

/** The design: dense columns and categorical code columns with their one-hot width. */
export interface LogisticDesign {
  dense: Float64Array[];
  sparse: { codes: Float64Array; width: number }[];
  y: Float64Array;
}

/** A fitted model: weights of dense columns, then each categorical's one-hot slots, in order. */
export interface LinearModel {
  intercept: number;
  weights: number[];
  iterations: number;
  converged: boolean;
}

/** Fits the model; C is the inverse regularisation strength (scikit-learn's default 1). */
export function trainLogistic(
  design: LogisticDesign,
  { C = 1, maxIter = 500 }: { C?: number; maxIter?: number } = {},
): LinearModel {
  const n = design.y.length;
  const D = design.dense.length;
  const offsets: number[] = [];
  let width = D;
  for (const s of design.sparse) {
    offsets.push(width);
    width += s.width;
  }
  const z = new Float64Array(n);
  const resid = new Float64Array(n);
  const lambda = 1 / C;
  const f = (w: Float64Array, g: Float64Array): number => {
    // w[0] intercept, w[1..] weights
    z.fill(w[0]);
    for (let j = 0; j < D; j++) {
      const col = design.dense[j], wj = w[1 + j];
      for (let i = 0; i < n; i++) z[i] += wj * col[i];
    }
    design.sparse.forEach((s, c) => {
      const off = 1 + offsets[c];
      for (let i = 0; i < n; i++) z[i] += w[off + s.codes[i]];
    });
    let loss = 0;
    for (let i = 0; i < n; i++) {
      // one exp and one log1p per row: e = exp(−|z|)
      const zi = z[i], yi = design.y[i];
      const e = Math.exp(-Math.abs(zi));
      const softplus = Math.log1p(e); // log(1 + exp(−|z|))
      if (zi >= 0) {
        loss += yi === 1 ? softplus : zi + softplus;
        resid[i] = 1 / (1 + e) - yi;
      } else {
        loss += yi === 1 ? -zi + softplus : softplus;
        resid[i] = e / (1 + e) - yi;
      }
    }
    g.fill(0);
    for (let i = 0; i < n; i++) g[0] += resid[i];
    for (let j = 0; j < D; j++) {
      const col = design.dense[j];
      let s = 0;
      for (let i = 0; i < n; i++) s += resid[i] * col[i];
      g[1 + j] = s;
    }
    design.sparse.forEach((s, c) => {
      const off = 1 + offsets[c];
      for (let i = 0; i < n; i++) g[off + s.codes[i]] += resid[i];
    });
    let penalty = 0;
    for (let j = 1; j < w.length; j++) {
      penalty += w[j] * w[j];
      g[j] += lambda * w[j];
    }
    for (let j = 0; j < g.length; j++) g[j] /= n;
    return (loss + (lambda / 2) * penalty) / n;
  };
  const r = minimizeLbfgs(f, new Float64Array(1 + width), { maxIter, gtol: 1e-5, ftol: 1e-14 });
  return {
    intercept: r.x[0],
    weights: Array.from(r.x.subarray(1)),
    iterations: r.iterations,
    converged: r.converged,
  };
}
