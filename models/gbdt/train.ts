/**
 * A histogram gradient-boosted trees learner, written here because no maintained JavaScript library
 * trains one at LightGBM's speed (mljs tree learners take minutes on 20k rows; the WebAssembly
 * XGBoost build cannot export its trees). LightGBM's design in small: features binned once into at
 * most 255 bins, trees grown leaf-wise (best gain first) up to `numLeaves` and `maxDepth`, node
 * histograms of gradient and hessian sums with the sibling by subtraction, L2 on leaf values,
 * minimum samples per leaf, row and column subsampling, and early stopping on a validation set.
 * Large leaves' histograms and partitions, the gradients and the score updates run in chunks on
 * several threads (`threads`; Deno Workers over shared memory, see pool.ts; one thread when
 * workers are unavailable). Chunks are cut by size alone and combined in chunk order, so the trees
 * do not depend on the thread count. The hot loops are in kernels.ts.
 *
 * Objectives: binary log loss, multi-class softmax (one tree per class per round), squared error
 * (one ensemble per output for multi-output regression). Seeded and reproducible.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../core/random.ts";
 * import { predictGbdt, trainGbdt } from "./train.ts";
 * const rng = new Random(1);
 * const x = Float64Array.from({ length: 200 }, () => rng.normal());
 * const y = x.map((v) => (v > 0 ? 1 : 0));
 * const model = trainGbdt({ features: [x], labels: [y], objective: "binary" }, {
 *   nEstimators: 10,
 *   minSamplesLeaf: 5,
 * });
 * const [p] = predictGbdt(model, [Float64Array.of(-2, 2)]); // P(class 1) per row
 * assert.ok(p[0] < 0.2 && p[1] > 0.8);
 * ```
 */
import { z } from "zod";
import { Random } from "../core/random.ts";
import { binColumn, type BinEdges, fitBins } from "./binning.ts";
import {
  addHist,
  addLeafValues,
  B,
  chunkCount,
  chunkStart,
  gradientsRange,
  HIST,
  histChunk,
  OBJECTIVE_CODE,
  partitionRows,
  resetExpNeg,
} from "./kernels.ts";
import { MAX_THREADS, type SharedState, WorkerPool } from "./pool.ts";
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
  // num_threads; 0: the machine's cores, at most DEFAULT_THREADS_CAP, when the data is large enough
  // to gain from them. The trees are the same for every thread count.
  threads: z.number().int().min(0).max(MAX_THREADS).default(0),
}).strict();
export type GbdtParams = z.input<typeof GbdtParams>;

/** The default thread count's cap (threads: 0). */
export const DEFAULT_THREADS_CAP = 4;

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

type Params = z.infer<typeof GbdtParams>;

/** What growing a tree needs: the shared state, the pool (or null), bins and reusable buffers. */
interface Grower {
  s: SharedState;
  pool: WorkerPool | null;
  bins: Uint8Array[];
  edges: BinEdges[];
  p: Params;
  nFeats: number;
  /** Bins in use per feature (thresholds + 1: the last holds NaN): the rest stay empty. */
  used: Int32Array;
  /** Free leaf histograms (F × B × HIST), reused across leaves and trees. */
  free: Float64Array[];
}

/** Rows × rounds × outputs below which one thread is quicker (a Deno worker costs 40–60 ms). */
export const PARALLEL_MIN_WORK = 5_000_000;

/**
 * Threads a training uses: the requested count, or (0) the cores up to the cap when the data is
 * large enough to gain from them: leaves of 2·CHUNK_ROWS rows and PARALLEL_MIN_WORK row-rounds.
 */
export function threadCount(requested: number, n: number, rounds = 100, outputs = 1): number {
  if (requested > 0) return requested;
  if (chunkCount(n) < 2 || n * rounds * outputs < PARALLEL_MIN_WORK) return 1;
  const cores = navigator.hardwareConcurrency || 1;
  return Math.max(1, Math.min(cores, DEFAULT_THREADS_CAP));
}

/** Trains the ensemble; `valid` enables early stopping and the loss curve; `onRound` reports progress. */
export function trainGbdt(
  data: GbdtData,
  params: GbdtParams = {},
  valid?: { features: Float64Array[]; labels: Float64Array[] },
  onRound?: (round: number, total: number) => void,
): GbdtModel {
  const p = GbdtParams.parse(params);
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
  const threads = threadCount(p.threads, n, p.nEstimators, K);
  const mem = threads > 1
    ? (bytes: number) => new SharedArrayBuffer(bytes)
    : (bytes: number) => new ArrayBuffer(bytes);
  const L = data.objective === "regression" ? K : 1;
  const s: SharedState = {
    n,
    F,
    K,
    objective: OBJECTIVE_CODE[data.objective],
    // row-major copy: a row's bins share a cache line, so a node's histogram reads each row once
    rowBins: new Uint8Array(mem(n * F)),
    colBins: new Uint8Array(mem(n * F)),
    rows: new Uint32Array(mem(n * 4)),
    scratch: new Uint32Array(mem(n * 4)),
    gh: new Float64Array(mem(K * n * 16)),
    score: new Float64Array(mem(K * n * 8)),
    expNeg: new Float64Array(mem(data.objective === "binary" ? n * 8 : 0)),
    labels: new Float64Array(mem(L * n * 8)),
    feats: new Int32Array(mem(Math.max(F, 1) * 4)),
    chunks: new Float64Array(mem(chunkCount(n) * F * B * HIST * 8)),
    leaves: new Float64Array(mem(p.numLeaves * 3 * 8)),
  };
  // workers come up (30–100 ms) while the data is binned; jobs do not wait for them
  const pool = threads > 1 ? WorkerPool.start(threads, s) : null;
  try {
    const edges = data.features.map((f, i) => fitBins(f, p.maxBins, 200_000, p.seed + i));
    const bins: Uint8Array[] = [];
    for (let f = 0; f < F; f++) {
      const b = s.colBins.subarray(f * n, (f + 1) * n);
      b.set(binColumn(data.features[f], edges[f]));
      bins.push(b);
      for (let i = 0, at = f; i < n; i++, at += F) s.rowBins[at] = b[i];
    }
    for (let l = 0; l < L; l++) s.labels.set(data.labels[l], l * n);
    return boost(data, p, s, pool, bins, edges, valid, onRound);
  } finally {
    pool?.close();
  }
}

function boost(
  data: GbdtData,
  p: Params,
  s: SharedState,
  pool: WorkerPool | null,
  bins: Uint8Array[],
  edges: BinEdges[],
  valid: { features: Float64Array[]; labels: Float64Array[] } | undefined,
  onRound: ((round: number, total: number) => void) | undefined,
): GbdtModel {
  const { n, F, K } = s;
  const rng = new Random(p.seed);
  const validBins = valid?.features.map((f, i) => binColumn(f, edges[i]));
  const nValid = valid ? valid.labels[0].length : 0;

  const baseScore = initialScores(data, K);
  for (let k = 0; k < K; k++) s.score.fill(baseScore[k], k * n, (k + 1) * n);
  resetExpNeg(s.score, s.expNeg);
  const vScore = Array.from({ length: K }, (_, k) => new Float64Array(nValid).fill(baseScore[k]));
  const trees: Tree[] = [];
  const validLoss: number[] = [];
  let best = Infinity, bestRound = 0;
  const order = new Uint32Array(n);
  const grower: Grower = {
    s,
    pool,
    bins,
    edges,
    p,
    nFeats: F,
    used: Int32Array.from(edges, (e) => e.length + 1),
    free: [],
  };

  for (let round = 0; round < p.nEstimators; round++) {
    if (pool) pool.gradients();
    else gradientsRange(s.objective, K, n, s.labels, s.score, s.expNeg, s.gh, 0, n);
    // bagging: rows of this round (in increasing order)
    let m = n;
    if (p.rowSubsample < 1) {
      m = 0;
      for (let i = 0; i < n; i++) if (rng.next() < p.rowSubsample) order[m++] = i;
    } else for (let i = 0; i < n; i++) order[i] = i;
    for (let k = 0; k < K; k++) {
      if (p.colSubsample < 1) {
        const picked = Array.from(rng.sample(F, Math.max(1, Math.round(F * p.colSubsample))));
        picked.sort((a, b) => a - b);
        s.feats.set(picked);
        grower.nFeats = picked.length;
      } else {
        for (let f = 0; f < F; f++) s.feats[f] = f;
        grower.nFeats = F;
      }
      s.rows.set(order.subarray(0, m));
      const { tree, leaves } = growTree(grower, k, m);
      tree.output = k;
      trees.push(tree);
      if (m === n) {
        // every row is in a leaf's segment of `rows`: add leaf values without walking the tree
        leaves.forEach((leaf, l) => {
          s.leaves[3 * l] = leaf.start;
          s.leaves[3 * l + 1] = leaf.end;
          s.leaves[3 * l + 2] = tree.value[leaf.node];
        });
        const nChunks = chunkCount(n);
        if (pool && nChunks > 1) pool.addLeafValues(n, nChunks, leaves.length, k);
        else addLeafValues(s.rows, 0, n, s.leaves, leaves.length, s.score, k * n, s.expNeg);
      } else {
        addTree(tree, bins, s.score.subarray(k * n, (k + 1) * n));
        resetExpNeg(s.score, s.expNeg);
      }
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

/**
 * The histogram of positions [start, end) of the rows into `out`: in chunks by size (on the
 * workers when there are), added in chunk order.
 */
function buildHist(gr: Grower, start: number, end: number, ghOff: number, out: Float64Array) {
  const { s, nFeats } = gr;
  const nChunks = chunkCount(end - start);
  const gh = s.gh.subarray(ghOff);
  if (nChunks === 1) {
    histChunk(s.rowBins, s.F, s.rows, start, end, gh, s.feats, nFeats, out);
    return;
  }
  const size = s.F * B * HIST;
  if (gr.pool) gr.pool.histChunks(start, end, nChunks, nFeats, ghOff);
  else {
    for (let c = 0; c < nChunks; c++) {
      const lo = chunkStart(start, end, c, nChunks), hi = chunkStart(start, end, c + 1, nChunks);
      const chunk = s.chunks.subarray(c * size, (c + 1) * size);
      histChunk(s.rowBins, s.F, s.rows, lo, hi, gh, s.feats, nFeats, chunk);
    }
  }
  const stride = B * HIST;
  for (let k = 0; k < nFeats; k++) {
    const at = s.feats[k] * stride;
    out.set(s.chunks.subarray(at, at + stride), at);
  }
  for (let c = 1; c < nChunks; c++) addHist(out, s.chunks, c * size, s.feats, nFeats, gr.used);
}

function bestSplit(leaf: Leaf, gr: Grower): SplitInfo | null {
  const { p, edges } = gr;
  const count = leaf.end - leaf.start;
  if (count < 2 * p.minSamplesLeaf) return null;
  if (p.maxDepth > 0 && leaf.depth >= p.maxDepth) return null;
  const parent = (leaf.g * leaf.g) / (leaf.h + p.l2);
  const hist = leaf.hist;
  let bestGain = -Infinity, bestF = -1, bestBin = 0, bestGl = 0, bestHl = 0, bestCl = 0;
  for (let k = 0; k < gr.nFeats; k++) {
    const f = gr.s.feats[k];
    const nb = edges[f].length; // splits after bins 0..nb−1
    if (nb === 0) continue;
    const base = f * B * HIST;
    let gl = 0, hl = 0, cl = 0;
    for (let b = 0; b < nb; b++) {
      gl += hist[base + b * HIST];
      hl += hist[base + b * HIST + 1];
      cl += hist[base + b * HIST + 2];
      if (cl < p.minSamplesLeaf || hl < p.minHessianLeaf) continue;
      const cr = count - cl, hr = leaf.h - hl;
      if (cr < p.minSamplesLeaf) break;
      if (hr < p.minHessianLeaf) continue;
      const gr2 = leaf.g - gl;
      const gain = (gl * gl) / (hl + p.l2) + (gr2 * gr2) / (hr + p.l2) - parent;
      if (gain > p.minGain && (bestF < 0 || gain > bestGain)) {
        bestGain = gain;
        bestF = f;
        bestBin = b;
        bestGl = gl;
        bestHl = hl;
        bestCl = cl;
      }
    }
  }
  return bestF < 0
    ? null
    : { gain: bestGain, feature: bestF, bin: bestBin, gl: bestGl, hl: bestHl, cl: bestCl };
}

/**
 * Stable partition of positions [start, end) by bin ≤ `bin` of `feature`; returns the first right
 * position. Large leaves: chunks on the workers, joined in chunk order (the same rows as one pass).
 */
function partition(gr: Grower, start: number, end: number, feature: number, bin: number): number {
  const { s, pool } = gr;
  const nChunks = chunkCount(end - start);
  if (!pool || nChunks === 1) {
    return partitionRows(s.rows, start, end, gr.bins[feature], bin, s.scratch);
  }
  const lefts = pool.partitionChunks(start, end, nChunks, feature, bin);
  let at = start;
  for (let c = 0; c < nChunks; c++) {
    const lo = chunkStart(start, end, c, nChunks);
    if (at !== lo) s.rows.copyWithin(at, lo, lo + lefts[c]); // moves down: never over unread rows
    at += lefts[c];
  }
  const mid = at;
  for (let c = 0; c < nChunks; c++) {
    const lo = chunkStart(start, end, c, nChunks), hi = chunkStart(start, end, c + 1, nChunks);
    const right = hi - lo - lefts[c];
    s.rows.set(s.scratch.subarray(lo, lo + right), at);
    at += right;
  }
  return mid;
}

/** The histogram of a leaf that will not be split (none is built). */
const NO_HIST = new Float64Array(0);

/** Whether a leaf may be split at all (bestSplit's size and depth conditions). */
function splittable(leaf: Leaf, p: Params): boolean {
  return leaf.end - leaf.start >= 2 * p.minSamplesLeaf &&
    !(p.maxDepth > 0 && leaf.depth >= p.maxDepth);
}

function takeHist(gr: Grower): Float64Array {
  return gr.free.pop() ?? new Float64Array(gr.s.F * B * HIST);
}

function growTree(gr: Grower, k: number, m: number): { tree: Tree; leaves: Leaf[] } {
  const { s, p, edges } = gr;
  const ghOff = 2 * k * s.n;
  const tree: Tree & { binThreshold: number[] } = {
    output: 0,
    feature: [-1],
    threshold: [0],
    left: [-1],
    right: [-1],
    value: [0],
    binThreshold: [0],
  };
  const rootHist = takeHist(gr);
  buildHist(gr, 0, m, ghOff, rootHist);
  // the root's sums from one feature's histogram (every row is in one of its bins)
  let G = 0, H = 0;
  if (gr.nFeats > 0) {
    const base = s.feats[0] * B * HIST;
    for (let b = 0; b < B; b++) {
      G += rootHist[base + b * HIST];
      H += rootHist[base + b * HIST + 1];
    }
  } else {
    for (let r = 0; r < m; r++) {
      G += s.gh[ghOff + 2 * s.rows[r]];
      H += s.gh[ghOff + 2 * s.rows[r] + 1];
    }
  }
  const root: Leaf = {
    node: 0,
    start: 0,
    end: m,
    depth: 0,
    g: G,
    h: H,
    hist: rootHist,
    split: null,
  };
  root.split = bestSplit(root, gr);
  const leaves: Leaf[] = [root];
  while (leaves.length < p.numLeaves) {
    let bi = -1;
    for (let i = 0; i < leaves.length; i++) {
      const sp = leaves[i].split;
      if (sp && (bi < 0 || sp.gain > leaves[bi].split!.gain)) bi = i;
    }
    if (bi < 0) break;
    const leaf = leaves[bi];
    const sp = leaf.split!;
    const mid = partition(gr, leaf.start, leaf.end, sp.feature, sp.bin);
    const leftNode = tree.feature.length, rightNode = leftNode + 1;
    for (let c = 0; c < 2; c++) {
      tree.feature.push(-1);
      tree.threshold.push(0);
      tree.left.push(-1);
      tree.right.push(-1);
      tree.value.push(0);
      tree.binThreshold.push(0);
    }
    tree.feature[leaf.node] = sp.feature;
    tree.threshold[leaf.node] = edges[sp.feature][sp.bin];
    tree.binThreshold[leaf.node] = sp.bin;
    tree.left[leaf.node] = leftNode;
    tree.right[leaf.node] = rightNode;
    const left: Leaf = {
      node: leftNode,
      start: leaf.start,
      end: mid,
      depth: leaf.depth + 1,
      g: sp.gl,
      h: sp.hl,
      hist: leaf.hist,
      split: null,
    };
    const right: Leaf = {
      node: rightNode,
      start: mid,
      end: leaf.end,
      depth: leaf.depth + 1,
      g: leaf.g - sp.gl,
      h: leaf.h - sp.hl,
      hist: leaf.hist,
      split: null,
    };
    leaves.splice(bi, 1, left, right);
    // the last split of the tree, or children too small or deep to split: no histograms needed
    if (leaves.length >= p.numLeaves || (!splittable(left, p) && !splittable(right, p))) {
      right.hist = NO_HIST;
      continue;
    }
    // build the smaller child; the larger is the parent minus it, in the parent's buffer
    const [small, large] = mid - leaf.start <= leaf.end - mid ? [left, right] : [right, left];
    small.hist = takeHist(gr);
    buildHist(gr, small.start, small.end, ghOff, small.hist);
    const lh = large.hist, sh = small.hist;
    for (let k = 0; k < gr.nFeats; k++) {
      const f = s.feats[k], base = f * B * HIST;
      for (let j = base; j < base + gr.used[f] * HIST; j++) lh[j] -= sh[j];
    }
    left.split = bestSplit(left, gr);
    right.split = bestSplit(right, gr);
  }
  for (const leaf of leaves) {
    tree.value[leaf.node] = Math.fround((-leaf.g / (leaf.h + p.l2)) * p.learningRate);
    if (leaf.hist !== NO_HIST) gr.free.push(leaf.hist);
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
