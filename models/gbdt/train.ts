/**
 * A histogram gradient-boosted trees learner, written here because no maintained JavaScript library
 * trains one at LightGBM's speed (mljs tree learners take minutes on 20k rows; the WebAssembly
 * XGBoost build cannot export its trees). LightGBM's design in small: features binned once into at
 * most 255 bins, trees grown leaf-wise (best gain first) up to `numLeaves` and `maxDepth`, node
 * histograms of gradient and hessian sums with the sibling by subtraction, L2 on leaf values,
 * minimum samples per leaf, row and column subsampling, and early stopping on a validation set.
 *
 * Objectives: binary log loss, multi-class softmax (one tree per class per round), squared error
 * (one ensemble per output for multi-output regression). Seeded and reproducible.
 *
 * @example
 * ```ts
 * import { trainGbdt } from "./train.ts";
 * const model = trainGbdt({ features: [x1, x2], labels: [y], objective: "binary" }, { nEstimators: 100 });
 * ```
 */
import { z } from "zod";
import { Random } from "../../tasks/random.ts";
import { binColumn, type BinEdges, fitBins } from "./binning.ts";
import type { Tree } from "./tree.ts";

/** Hyperparameters (LightGBM's names in comments). */
export const GbdtParams = z.object({
  nEstimators: z.number().int().positive().default(100), // num_iterations
  learningRate: z.number().positive().default(0.1),
  numLeaves: z.number().int().min(2).default(31),
  maxDepth: z.number().int().default(-1), // −1: no limit
  minSamplesLeaf: z.number().int().positive().default(20), // min_data_in_leaf
  minHessianLeaf: z.number().nonnegative().default(1e-3), // min_sum_hessian_in_leaf
  l2: z.number().nonnegative().default(0), // lambda_l2
  minGain: z.number().nonnegative().default(0), // min_gain_to_split
  rowSubsample: z.number().gt(0).max(1).default(1), // bagging_fraction (every round)
  colSubsample: z.number().gt(0).max(1).default(1), // feature_fraction (per tree)
  maxBins: z.number().int().min(2).max(256).default(255),
  earlyStoppingRounds: z.number().int().nonnegative().default(0), // 0: off
  seed: z.number().int().default(0),
}).strict();
export type GbdtParams = z.input<typeof GbdtParams>;

export type Objective = "binary" | "multiclass" | "regression";

/** Training data: numeric feature columns (categoricals already ordinal) and label columns. */
export interface GbdtData {
  /** One Float64Array per feature; NaN only if the caller did not impute. */
  features: Float64Array[];
  /** Binary: one 0/1 column; multiclass: one column of class indices; regression: one per output. */
  labels: Float64Array[];
  objective: Objective;
  /** Classes (multiclass). */
  nClasses?: number;
}

/** A trained ensemble. */
export interface GbdtModel {
  objective: Objective;
  nOutputs: number;
  baseScore: number[];
  trees: Tree[];
  /** Rounds kept (after early stopping). */
  rounds: number;
  /** Validation loss per round (when a validation set was given). */
  validLoss: number[];
}

interface SplitInfo {
  gain: number;
  feature: number;
  bin: number;
  gl: number;
  hl: number;
  cl: number;
}

interface Leaf {
  node: number;
  start: number;
  end: number;
  depth: number;
  g: number;
  h: number;
  hist: Float64Array; // per feature, per bin: [g, h, count]
  split: SplitInfo | null;
}

/** Trains the ensemble; `valid` enables early stopping and the loss curve; `onRound` reports progress. */
export function trainGbdt(
  data: GbdtData,
  params: GbdtParams = {},
  valid?: { features: Float64Array[]; labels: Float64Array[] },
  onRound?: (round: number, total: number) => void,
): GbdtModel {
  const p = GbdtParams.parse(params);
  const rng = new Random(p.seed);
  const n = data.labels[0].length;
  const F = data.features.length;
  const K = data.objective === "multiclass"
    ? data.nClasses ?? 0
    : data.objective === "binary"
    ? 1
    : data.labels.length;
  if (data.objective === "multiclass" && K < 2) {
    throw new RangeError("multiclass needs nClasses ≥ 2");
  }
  const edges: BinEdges[] = data.features.map((f, i) => fitBins(f, p.maxBins, 200_000, p.seed + i));
  const bins = data.features.map((f, i) => binColumn(f, edges[i]));
  // row-major copy: a row's bins share a cache line, so a node's histogram reads each row once
  const rowBins = new Uint8Array(n * F);
  for (let f = 0; f < F; f++) {
    const b = bins[f];
    for (let i = 0; i < n; i++) rowBins[i * F + f] = b[i];
  }
  const B = 256;
  const validBins = valid?.features.map((f, i) => binColumn(f, edges[i]));
  const nValid = valid ? valid.labels[0].length : 0;

  const baseScore = initialScores(data, K);
  const score = Array.from({ length: K }, (_, k) => new Float64Array(n).fill(baseScore[k]));
  const vScore = Array.from({ length: K }, (_, k) => new Float64Array(nValid).fill(baseScore[k]));
  const grad = Array.from({ length: K }, () => new Float64Array(n));
  const hess = Array.from({ length: K }, () => new Float64Array(n));
  const trees: Tree[] = [];
  const validLoss: number[] = [];
  let best = Infinity, bestRound = 0;
  const order = new Uint32Array(n);

  for (let round = 0; round < p.nEstimators; round++) {
    gradients(data, score, grad, hess, K);
    // bagging: rows of this round
    let m = n;
    if (p.rowSubsample < 1) {
      m = 0;
      for (let i = 0; i < n; i++) if (rng.next() < p.rowSubsample) order[m++] = i;
    } else for (let i = 0; i < n; i++) order[i] = i;
    for (let k = 0; k < K; k++) {
      const feats = p.colSubsample < 1
        ? Array.from(rng.sample(F, Math.max(1, Math.round(F * p.colSubsample)))).sort((a, b) =>
          a - b
        )
        : Array.from({ length: F }, (_, f) => f);
      const rows = order.slice(0, m);
      const { tree, leaves } = growTree(rows, bins, rowBins, edges, grad[k], hess[k], feats, p, B);
      tree.output = k;
      trees.push(tree);
      if (m === n) {
        // every row is in a leaf's segment of `rows`: add leaf values without walking the tree
        const sk = score[k];
        for (const leaf of leaves) {
          const v = tree.value[leaf.node];
          for (let r = leaf.start; r < leaf.end; r++) sk[rows[r]] += v;
        }
      } else addTree(tree, bins, score[k]);
      if (validBins) addTree(tree, validBins, vScore[k]);
    }
    onRound?.(round + 1, p.nEstimators);
    if (valid) {
      const loss = lossOf(data.objective, valid.labels, vScore, K);
      validLoss.push(loss);
      if (loss < best - 1e-12) {
        best = loss;
        bestRound = round + 1;
      } else if (p.earlyStoppingRounds > 0 && round + 1 - bestRound >= p.earlyStoppingRounds) {
        break;
      }
    }
  }
  const rounds = valid && p.earlyStoppingRounds > 0 ? bestRound : trees.length / K;
  return {
    objective: data.objective,
    nOutputs: K,
    baseScore: baseScore.map(Math.fround),
    trees: trees.slice(0, rounds * K).map(({ output, feature, threshold, left, right, value }) => ({
      output,
      feature,
      threshold,
      left,
      right,
      value,
    })),
    rounds,
    validLoss,
  };
}

function initialScores(data: GbdtData, K: number): number[] {
  const n = data.labels[0].length;
  if (data.objective === "binary") {
    let pos = 0;
    for (const v of data.labels[0]) pos += v;
    const p = Math.min(1 - 1e-6, Math.max(1e-6, pos / n));
    return [Math.log(p / (1 - p))];
  }
  if (data.objective === "multiclass") {
    const counts = new Array(K).fill(0);
    for (const v of data.labels[0]) counts[v]++;
    return counts.map((c) => Math.log(Math.max(c, 1) / n));
  }
  return data.labels.map((y) => y.reduce((s, v) => s + v, 0) / n);
}

function gradients(
  data: GbdtData,
  score: Float64Array[],
  grad: Float64Array[],
  hess: Float64Array[],
  K: number,
) {
  const n = score[0].length;
  if (data.objective === "binary") {
    const y = data.labels[0], s = score[0], g = grad[0], h = hess[0];
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + Math.exp(-s[i]));
      g[i] = p - y[i];
      h[i] = Math.max(p * (1 - p), 1e-16);
    }
  } else if (data.objective === "multiclass") {
    const y = data.labels[0];
    const e = new Float64Array(K);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, score[k][i]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += e[k] = Math.exp(score[k][i] - max);
      for (let k = 0; k < K; k++) {
        const p = e[k] / sum;
        grad[k][i] = p - (y[i] === k ? 1 : 0);
        hess[k][i] = Math.max(2 * p * (1 - p), 1e-16); // LightGBM's factor K/(K−1) ≈ 2 for the diagonal
      }
    }
  } else {
    for (let k = 0; k < K; k++) {
      const y = data.labels[k], s = score[k], g = grad[k], h = hess[k];
      for (let i = 0; i < n; i++) {
        g[i] = s[i] - y[i];
        h[i] = 1;
      }
    }
  }
}

function lossOf(
  objective: Objective,
  labels: Float64Array[],
  score: Float64Array[],
  K: number,
): number {
  const n = labels[0].length;
  let loss = 0;
  if (objective === "binary") {
    for (let i = 0; i < n; i++) {
      const s = score[0][i], y = labels[0][i];
      // log(1 + e^{−s}) for y = 1, log(1 + e^{s}) for y = 0, computed stably
      const z = y === 1 ? -s : s;
      loss += z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    }
  } else if (objective === "multiclass") {
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let k = 0; k < K; k++) max = Math.max(max, score[k][i]);
      let sum = 0;
      for (let k = 0; k < K; k++) sum += Math.exp(score[k][i] - max);
      loss += -(score[labels[0][i]][i] - max - Math.log(sum));
    }
  } else {
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) loss += (score[k][i] - labels[k][i]) ** 2;
    }
  }
  return loss / n;
}

function addTree(tree: Tree, bins: Uint8Array[], score: Float64Array): void {
  // thresholds are bin edges, so comparing bins is comparing float32 values
  const n = score.length;
  const binThreshold = (tree as Tree & { binThreshold: number[] }).binThreshold;
  for (let i = 0; i < n; i++) {
    let node = 0;
    while (tree.feature[node] >= 0) {
      node = bins[tree.feature[node]][i] <= binThreshold[node] ? tree.left[node] : tree.right[node];
    }
    score[i] += tree.value[node];
  }
}

function buildHist(
  rows: Uint32Array,
  rowBins: Uint8Array,
  F: number,
  g: Float64Array,
  h: Float64Array,
  feats: number[],
  B: number,
): Float64Array {
  const hist = new Float64Array(F * B * 3);
  const m = rows.length;
  if (feats.length === F) {
    for (let r = 0; r < m; r++) {
      const i = rows[r];
      const gi = g[i], hi = h[i];
      const base = i * F;
      for (let f = 0; f < F; f++) {
        const at = (f * B + rowBins[base + f]) * 3;
        hist[at] += gi;
        hist[at + 1] += hi;
        hist[at + 2]++;
      }
    }
    return hist;
  }
  const fs = Int32Array.from(feats);
  for (let r = 0; r < m; r++) {
    const i = rows[r];
    const gi = g[i], hi = h[i];
    const base = i * F;
    for (let k = 0; k < fs.length; k++) {
      const f = fs[k];
      const at = (f * B + rowBins[base + f]) * 3;
      hist[at] += gi;
      hist[at + 1] += hi;
      hist[at + 2]++;
    }
  }
  return hist;
}

function bestSplit(
  leaf: Leaf,
  feats: number[],
  edges: BinEdges[],
  p: z.infer<typeof GbdtParams>,
  B: number,
): SplitInfo | null {
  const count = leaf.end - leaf.start;
  if (count < 2 * p.minSamplesLeaf) return null;
  if (p.maxDepth > 0 && leaf.depth >= p.maxDepth) return null;
  const parent = (leaf.g * leaf.g) / (leaf.h + p.l2);
  let best: SplitInfo | null = null;
  for (const f of feats) {
    const nb = edges[f].length; // splits after bins 0..nb−1
    if (nb === 0) continue;
    const base = f * B * 3;
    let gl = 0, hl = 0, cl = 0;
    for (let b = 0; b < nb; b++) {
      gl += leaf.hist[base + b * 3];
      hl += leaf.hist[base + b * 3 + 1];
      cl += leaf.hist[base + b * 3 + 2];
      if (cl < p.minSamplesLeaf || hl < p.minHessianLeaf) continue;
      const cr = count - cl, hr = leaf.h - hl;
      if (cr < p.minSamplesLeaf) break;
      if (hr < p.minHessianLeaf) continue;
      const gr = leaf.g - gl;
      const gain = (gl * gl) / (hl + p.l2) + (gr * gr) / (hr + p.l2) - parent;
      if (gain > p.minGain && (!best || gain > best.gain)) {
        best = { gain, feature: f, bin: b, gl, hl, cl };
      }
    }
  }
  return best;
}

function growTree(
  rows: Uint32Array,
  bins: Uint8Array[],
  rowBins: Uint8Array,
  edges: BinEdges[],
  g: Float64Array,
  h: Float64Array,
  feats: number[],
  p: z.infer<typeof GbdtParams>,
  B: number,
): { tree: Tree; leaves: Leaf[] } {
  const F = bins.length;
  const tree: Tree & { binThreshold: number[] } = {
    output: 0,
    feature: [-1],
    threshold: [0],
    left: [-1],
    right: [-1],
    value: [0],
    binThreshold: [0],
  };
  let G = 0, H = 0;
  for (const i of rows) {
    G += g[i];
    H += h[i];
  }
  const root: Leaf = {
    node: 0,
    start: 0,
    end: rows.length,
    depth: 0,
    g: G,
    h: H,
    hist: buildHist(rows, rowBins, F, g, h, feats, B),
    split: null,
  };
  root.split = bestSplit(root, feats, edges, p, B);
  const leaves: Leaf[] = [root];
  while (leaves.length < p.numLeaves) {
    let bi = -1;
    for (let i = 0; i < leaves.length; i++) {
      const s = leaves[i].split;
      if (s && (bi < 0 || s.gain > leaves[bi].split!.gain)) bi = i;
    }
    if (bi < 0) break;
    const leaf = leaves[bi];
    const s = leaf.split!;
    // partition rows[start, end) by bin ≤ s.bin
    const fb = bins[s.feature];
    let lo = leaf.start, hi = leaf.end - 1;
    while (lo <= hi) {
      if (fb[rows[lo]] <= s.bin) lo++;
      else {
        const t = rows[lo];
        rows[lo] = rows[hi];
        rows[hi] = t;
        hi--;
      }
    }
    const mid = lo;
    const leftNode = tree.feature.length, rightNode = leftNode + 1;
    for (let k = 0; k < 2; k++) {
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(0);
      tree.binThreshold.push(0);
    }
    tree.feature[leaf.node] = s.feature;
    tree.threshold[leaf.node] = edges[s.feature][s.bin];
    tree.binThreshold[leaf.node] = s.bin;
    tree.left[leaf.node] = leftNode;
    tree.right[leaf.node] = rightNode;
    const left: Leaf = {
      node: leftNode,
      start: leaf.start,
      end: mid,
      depth: leaf.depth + 1,
      g: s.gl,
      h: s.hl,
      hist: new Float64Array(0),
      split: null,
    };
    const right: Leaf = {
      node: rightNode,
      start: mid,
      end: leaf.end,
      depth: leaf.depth + 1,
      g: leaf.g - s.gl,
      h: leaf.h - s.hl,
      hist: new Float64Array(0),
      split: null,
    };
    const [small, large] = mid - leaf.start <= leaf.end - mid ? [left, right] : [right, left];
    small.hist = buildHist(rows.subarray(small.start, small.end), rowBins, F, g, h, feats, B);
    large.hist = leaf.hist; // parent − small, in place
    for (const f of feats) {
      const base = f * B * 3;
      for (let j = base; j < base + B * 3; j++) large.hist[j] -= small.hist[j];
    }
    left.split = bestSplit(left, feats, edges, p, B);
    right.split = bestSplit(right, feats, edges, p, B);
    leaves.splice(bi, 1, left, right);
  }
  for (const leaf of leaves) {
    tree.value[leaf.node] = Math.fround((-leaf.g / (leaf.h + p.l2)) * p.learningRate);
    leaf.hist = new Float64Array(0);
  }
  return { tree, leaves };
}

/** Raw scores (one array per output) of float32-rounded feature columns. */
export function predictRaw(model: GbdtModel, features: Float64Array[]): Float64Array[] {
  const n = features[0]?.length ?? 0;
  const out = model.baseScore.map((b) => new Float64Array(n).fill(b));
  const f32 = features.map((f) => Float32Array.from(f));
  for (const tree of model.trees) {
    const s = out[tree.output];
    for (let i = 0; i < n; i++) {
      let node = 0;
      while (tree.feature[node] >= 0) {
        node = f32[tree.feature[node]][i] <= tree.threshold[node]
          ? tree.left[node]
          : tree.right[node];
      }
      s[i] += tree.value[node];
    }
  }
  return out;
}

/** Probabilities (binary: P(class 1); multiclass: one array per class) or predictions (regression). */
export function predictGbdt(model: GbdtModel, features: Float64Array[]): Float64Array[] {
  const raw = predictRaw(model, features);
  if (model.objective === "binary") return [raw[0].map((s) => 1 / (1 + Math.exp(-s)))];
  if (model.objective === "multiclass") {
    const n = raw[0].length, K = raw.length;
    const out = raw.map(() => new Float64Array(n));
    for (let i = 0; i < n; i++) {
      let max = -Infinity, sum = 0;
      for (let k = 0; k < K; k++) max = Math.max(max, raw[k][i]);
      for (let k = 0; k < K; k++) sum += out[k][i] = Math.exp(raw[k][i] - max);
      for (let k = 0; k < K; k++) out[k][i] /= sum;
    }
    return out;
  }
  return raw;
}
