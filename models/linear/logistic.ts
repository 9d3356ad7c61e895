/**
 * L2-regularised logistic regression fitted by iteratively reweighted least squares (Newton's
 * method), written here because no maintained JavaScript library fits it with a penalty, an
 * intercept and a convergence guarantee on a few dozen features. Rows are a dense row-major
 * Float64Array; the intercept is not penalised.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitLogistic, predictLogistic } from "./logistic.ts";
 * const x = Float64Array.of(0, 1, 2, 3); // 4 rows × 1 feature
 * const model = fitLogistic(x, 1, Float64Array.of(0, 0, 1, 1), { l2: 1 });
 * const p = predictLogistic(model, x); // probabilities of class 1
 * assert.ok(model.weights[0] > 0 && p[0] < 0.5 && p[3] > 0.5);
 * ```
 */

/** A fitted binary logistic model: p = σ(intercept + Σ weights·x). */
export interface LogisticModel {
  intercept: number;
  weights: Float64Array;
  iterations: number;
  converged: boolean;
}

/** Fitting options. */
export interface LogisticOptions {
  /** L2 penalty λ on the weights (sklearn's C = 1/λ). Default 1. */
  l2?: number;
  /** Newton iterations at most. Default 50. */
  maxIter?: number;
  /** Stop when the largest coefficient change is below this. Default 1e-10. */
  tol?: number;
  /** Optional sample weights. */
  sampleWeight?: Float64Array;
}

const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

/** Fits p(y=1|x) on `x` (n × d, row-major) and 0/1 labels `y`. */
export function fitLogistic(
  x: Float64Array,
  d: number,
  y: ArrayLike<number>,
  options: LogisticOptions = {},
): LogisticModel {
  const n = y.length;
  if (x.length !== n * d) {
    throw new RangeError(
      `fitLogistic: x has ${x.length} values, expected ${n} rows × ${d} features`,
    );
  }
  const l2 = options.l2 ?? 1, maxIter = options.maxIter ?? 50, tol = options.tol ?? 1e-10;
  const sw = options.sampleWeight;
  const p = d + 1; // coefficient 0 is the intercept
  const beta = new Float64Array(p);
  const H = new Float64Array(p * p);
  const g = new Float64Array(p);
  const row = new Float64Array(p);
  let iterations = 0, converged = false;
  for (; iterations < maxIter && !converged; iterations++) {
    H.fill(0);
    g.fill(0);
    for (let i = 0; i < n; i++) {
      row[0] = 1;
      let z = beta[0];
      for (let j = 0; j < d; j++) {
        const v = x[i * d + j];
        row[j + 1] = v;
        z += beta[j + 1] * v;
      }
      const mu = sigmoid(z);
      const w = sw ? sw[i] : 1;
      const wi = w * Math.max(mu * (1 - mu), 1e-12);
      const r = w * (y[i] - mu);
      for (let a = 0; a < p; a++) {
        const ra = row[a];
        if (ra === 0) continue;
        g[a] += ra * r;
        const wa = wi * ra;
        for (let b = 0; b <= a; b++) H[a * p + b] += wa * row[b];
      }
    }
    for (let a = 1; a < p; a++) {
      H[a * p + a] += l2;
      g[a] -= l2 * beta[a];
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) H[b * p + a] = H[a * p + b];
    const step = choleskySolve(H, g, p);
    let maxChange = 0;
    for (let a = 0; a < p; a++) {
      beta[a] += step[a];
      maxChange = Math.max(maxChange, Math.abs(step[a]));
    }
    converged = maxChange < tol;
  }
  return { intercept: beta[0], weights: beta.slice(1), iterations, converged };
}

/** Probabilities of class 1 for rows of `x` (n × d, row-major). */
export function predictLogistic(model: LogisticModel, x: Float64Array): Float64Array {
  const d = model.weights.length;
  const n = d === 0 ? 0 : x.length / d;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let z = model.intercept;
    for (let j = 0; j < d; j++) z += model.weights[j] * x[i * d + j];
    out[i] = sigmoid(z);
  }
  return out;
}

/** Solves A·x = b for symmetric positive-definite A (p × p) by Cholesky, with a tiny ridge if needed. */
export function choleskySolve(A: Float64Array, b: Float64Array, p: number): Float64Array {
  const L = new Float64Array(p * p);
  for (let jitter = 0; jitter < 6; jitter++) {
    const ridge = jitter === 0 ? 0 : 1e-10 * 10 ** jitter;
    let ok = true;
    L.fill(0);
    for (let i = 0; i < p && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = A[i * p + j] + (i === j ? ridge : 0);
        for (let k = 0; k < j; k++) s -= L[i * p + k] * L[j * p + k];
        if (i === j) {
          if (!(s > 0)) {
            ok = false;
            break;
          }
          L[i * p + i] = Math.sqrt(s);
        } else L[i * p + j] = s / L[j * p + j];
      }
    }
    if (!ok) continue;
    const y = new Float64Array(p);
    for (let i = 0; i < p; i++) {
      let s = b[i];
      for (let k = 0; k < i; k++) s -= L[i * p + k] * y[k];
      y[i] = s / L[i * p + i];
    }
    const out = new Float64Array(p);
    for (let i = p - 1; i >= 0; i--) {
      let s = y[i];
      for (let k = i + 1; k < p; k++) s -= L[k * p + i] * out[k];
      out[i] = s / L[i * p + i];
    }
    return out;
  }
  throw new Error("choleskySolve: the matrix is not positive definite even with a ridge");
}
