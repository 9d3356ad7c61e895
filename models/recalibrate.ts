/**
 * Recalibration to a new class prior (the `prior` grade's `recalibrate` action). Under a pure label
 * shift P(x | y) holds and only P(y) moves, so the Bayes-optimal posterior is the old one with its
 * log-odds shifted by the prior ratio (Saerens, Latinne & Decaestecker 2002, "Adjusting the outputs
 * of a classifier to new a priori probabilities"):
 *
 *   logit p_new(x) = logit p(x) + logit(π_new) − logit(π_ref).
 *
 * π_new comes from the labels of the latest batch, a given number, or — without labels — the EM
 * estimate of the same paper ({@link estimatePriorEm}). {@link recalibrateChampion} makes a new
 * version of the champion = its own ONNX graph plus an Add before the Sigmoid (so every runtime
 * serves it), registers it with its reason and lineage (parent version, priors, shift), and puts it
 * through the champion/challenger gate by log loss (ROC AUC cannot move under a monotone shift; the
 * refit noise term is 0 since nothing is refitted).
 *
 * The gate is out of sample ({@link gateRecalibration}): a prior fitted on a batch always lowers
 * that batch's log loss (it is the batch's maximum-likelihood intercept), so gating on the rows it
 * was fitted on promotes noise. By default the prior is fitted on the earliest half of the labelled
 * batch (by its time column, else row order) and the gate tests the shift on the latest half; with
 * `gateBatch` (the next labelled batch) it is fitted on the whole batch and gated on that one.
 * Error rate: a shift no better than the champion on the held-out rows is promoted with
 * probability ≤ `alpha` (0.05; the paired bootstrap's one-sided bound) — tested on clean batches
 * in tests/models/recalibrate_test.ts. The held-out rows stand in for the next batch; when the
 * label share moves from week to week (a season), only `gateBatch` measures that forecast error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../runner/artifacts/local.ts";
 * import { openPglite } from "../runner/store/pglite.ts";
 * import { Random } from "./core/random.ts";
 * import { predictModel, trainModel } from "./model.ts";
 * import { fingerprintTable, registerModel } from "./package.ts";
 * import { estimatePriorEm, recalibrateChampion } from "./recalibrate.ts";
 * import { ModelRegistry } from "./registry/registry.ts";
 * const rng = new Random(1);
 * // a pure label shift: the share of "yes" moves, x given the label does not
 * const rows = (n: number, prior: number) => {
 *   const late = Array.from({ length: n }, () => (rng.next() < prior ? "yes" : "no"));
 *   return { x: Float64Array.from(late, (l) => (l === "yes" ? 1 : -1) + rng.normal()), late };
 * };
 * const train = rows(1000, 0.2), batch = rows(1000, 0.5);
 * const params = { nEstimators: 20, minSamplesLeaf: 20 };
 * const { model } = trainModel(train, { target: "late", validFraction: 0, params });
 * // without labels: EM on the champion's scores of the batch finds the new share
 * const scores = predictModel(model, batch).probabilities![1];
 * assert.ok(Math.abs(estimatePriorEm(scores, 0.2).prior - 0.5) < 0.1);
 * const dir = await Deno.makeTempDir();
 * const db = await openPglite(); // in memory
 * try {
 *   const registry = await ModelRegistry.open(db);
 *   const deps = { registry, artifacts: new LocalArtifactStore(dir) };
 *   const v1 = await registerModel(deps, model, {
 *     name: "delays",
 *     fingerprint: await fingerprintTable(train),
 *   });
 *   await deps.registry.setAlias("delays", "champion", v1.version, { reason: "first model" });
 *   const r = await recalibrateChampion({
 *     ...deps,
 *     model: "delays",
 *     newPrior: "labels",
 *     priorReference: 0.2, // the share the champion is calibrated to
 *     labelledBatch: batch,
 *     labelledBatchKey: await deps.artifacts.put(new TextEncoder().encode(JSON.stringify(batch))),
 *     reason: "prior shift graded at batch 7",
 *     rounds: 100,
 *   });
 *   assert.equal(r.version, 2);
 *   assert.ok(r.promoted, r.verdict.reason); // log loss fell on the held-out half of the batch
 * } finally {
 *   await db.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "../runner/artifacts/artifact_store.ts";
import { isNumericColumn, rowCount, type Table, takeRows } from "./core/table.ts";
import { classIndex } from "./core/columns.ts";
import { compareChallenger, type Decision, gateDecision, type GateVerdict } from "./gate.ts";
import { brier, logLoss } from "./metrics.ts";
import type { TrainedModel } from "./model.ts";
import { shiftLogitsOnnx } from "./onnx/calibrate.ts";
import { runOnnx } from "./onnx/runtime.ts";
import { loadModel, registerModel } from "./package.ts";
import { measureReference, readReference, referenceMetrics } from "./reference.ts";
import type { ModelRegistry } from "./registry/registry.ts";

/** log(p / (1 − p)). */
export const logit = (p: number): number => Math.log(p) - Math.log1p(-p);
/** 1 / (1 + e^−z). */
export const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

function checkPrior(name: string, p: number): void {
  if (!(p > 0 && p < 1)) {
    throw new RangeError(`${name} must be a share strictly between 0 and 1, got ${p}`);
  }
}

/** The log-odds shift from the reference prior to the new one: logit(π_new) − logit(π_ref). */
export function priorShift(priorReference: number, priorNew: number): number {
  checkPrior("the reference prior", priorReference);
  checkPrior("the new prior", priorNew);
  return logit(priorNew) - logit(priorReference);
}

/** sigmoid(logit(p) + shift) for each probability. */
export function shiftProbabilities(p: ArrayLike<number>, shift: number): Float64Array {
  return Float64Array.from({ length: p.length }, (_, i) => sigmoid(logit(p[i]) + shift));
}

/** The EM estimate of the new prior. */
export interface PriorEstimate {
  prior: number;
  iterations: number;
  converged: boolean;
  /** logit(prior) − logit(priorReference). */
  shift: number;
  /**
   * The mean score (the naive estimate, biased toward priorReference). EM trusts the scores: with
   * a weak or miscalibrated model, or a batch whose P(x | y) moved too, it can run far from it.
   */
  meanScore: number;
}

/**
 * Saerens et al. (2002) EM: the new prior from unlabelled scores of a model calibrated to
 * `priorReference`. E-step: each row's posterior under the current prior estimate (the scores
 * reweighted by π/π_ref and (1 − π)/(1 − π_ref)); M-step: the prior is their mean.
 */
export function estimatePriorEm(
  scores: ArrayLike<number>,
  priorReference: number,
  { maxIterations = 1000, tolerance = 1e-9 }: { maxIterations?: number; tolerance?: number } = {},
): PriorEstimate {
  checkPrior("the reference prior", priorReference);
  const n = scores.length;
  if (n === 0) throw new RangeError("EM prior estimation needs at least one score");
  let prior = priorReference, iterations = 0, converged = false, meanScore = 0;
  for (let i = 0; i < n; i++) meanScore += scores[i] / n;
  while (iterations < maxIterations) {
    iterations++;
    const w1 = prior / priorReference, w0 = (1 - prior) / (1 - priorReference);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const p = scores[i];
      const num = w1 * p, den = num + w0 * (1 - p);
      sum += den > 0 ? num / den : prior;
    }
    const next = Math.min(1 - 1e-12, Math.max(1e-12, sum / n));
    const delta = Math.abs(next - prior);
    prior = next;
    if (delta < tolerance) {
      converged = true;
      break;
    }
  }
  return {
    prior,
    iterations,
    converged,
    shift: logit(prior) - logit(priorReference),
    meanScore,
  };
}

/** A copy of the model whose class-1 log-odds are shifted by `shift` more. */
export function recalibratedModel(
  model: TrainedModel,
  shift: number,
  params: Record<string, unknown> = {},
): TrainedModel {
  if (model.spec.target.task !== "classification" || model.spec.target.classes!.length !== 2) {
    throw new Error("only a binary classifier can be recalibrated to a new prior");
  }
  return {
    ...model,
    params: { ...model.params, ...params },
    calibration: { logitShift: (model.calibration?.logitShift ?? 0) + shift },
  };
}

/** What {@link gateRecalibration} decided. */
export interface RecalibrationGate {
  /** π_new: the positive share of the fitting rows' labels. */
  prior: number;
  /** logit(π_new) − logit(π_ref). */
  shift: number;
  /** The paired bootstrap gate on the held-out rows, shifted scores vs the unshifted ones. */
  decision: Decision;
}

/**
 * The out-of-sample recalibration gate, with no registry: π_new from the fitting rows' labels, the
 * shift applied to the held-out rows' scores, promoted when the one-sided (1 − alpha) lower bound
 * of the log-loss improvement on the held-out rows is above zero (and the improvement ≥ `margin`). A clean batch (π_new = π_ref
 * up to noise) is promoted with probability ≤ alpha; fitting and gating on the same rows would
 * promote most clean batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "./core/random.ts";
 * import { gateRecalibration } from "./recalibrate.ts";
 * // a calibrated model's scores on a clean batch at the reference prior 0.2
 * const rng = new Random(1);
 * const p = Float64Array.from({ length: 400 }, () => (rng.next() < 0.5 ? 0.1 : 0.3));
 * const y = Float64Array.from(p, (pi) => (rng.next() < pi ? 1 : 0));
 * const g = gateRecalibration(y.subarray(0, 200), y.subarray(200), p.subarray(200), 0.2, {
 *   seed: 1,
 *   rounds: 200,
 * });
 * // false on a clean batch but for an `alpha` share of them
 * assert.equal(g.decision.wouldPromote, false);
 * ```
 */
export function gateRecalibration(
  yFit: ArrayLike<number>,
  yGate: ArrayLike<number>,
  pGate: ArrayLike<number>,
  priorReference: number,
  o: {
    alpha?: number;
    rounds?: number;
    seed?: number;
    margin?: number;
    /**
     * SD of the positive share between batches (weeks) beyond sampling noise (default 0). Under a
     * label shift the gain on a batch is linear in its positive share, with slope
     * {@link gainPerShare}, so a batch-to-batch SD σ adds |slope|·σ to the gain's SE: the gate then
     * asks whether the shift beats the champion on the next batch *to come*, not only on the one it
     * is tested on.
     */
    shareSd?: number;
  } = {},
): RecalibrationGate {
  if (yFit.length === 0) throw new RangeError("recalibration gate: no labelled rows to fit on");
  if (yGate.length === 0 || yGate.length !== pGate.length) {
    throw new RangeError(
      `recalibration gate: ${yGate.length} held-out labels and ${pGate.length} scores; ` +
        "both must be the same non-zero length",
    );
  }
  let pos = 0;
  for (let i = 0; i < yFit.length; i++) pos += yFit[i];
  // a share of 0 or 1 has no log-odds: pull it half a row inside
  const prior = Math.min(1 - 0.5 / yFit.length, Math.max(0.5 / yFit.length, pos / yFit.length));
  const shift = priorShift(priorReference, prior);
  const decision = gateDecision(yGate, pGate, shiftProbabilities(pGate, shift), {
    metric: "log_loss",
    margin: o.margin ?? 0,
    alpha: o.alpha ?? 0.05,
    rounds: o.rounds ?? 500,
    seed: o.seed ?? 0,
    retrainSd: Math.abs(gainPerShare(yGate, pGate, shift)) * (o.shareSd ?? 0),
  });
  return { prior, shift, decision };
}

/**
 * How the log-loss gain of shifting scores `p` by `shift` moves with a batch's positive share under
 * a label shift (P(x | y) fixed): gain(π) = π·G₁ + (1 − π)·G₀, with G₁ the positives' mean
 * log(q/p) and G₀ the negatives' mean log((1 − q)/(1 − p)) (q the shifted score); returns G₁ − G₀.
 */
export function gainPerShare(y: ArrayLike<number>, p: ArrayLike<number>, shift: number): number {
  let g1 = 0, g0 = 0, n1 = 0, n0 = 0;
  for (let i = 0; i < y.length; i++) {
    const pi = Math.min(1 - 1e-12, Math.max(1e-12, p[i]));
    const q = sigmoid(logit(pi) + shift);
    if (y[i] === 1) {
      g1 += Math.log(q / pi);
      n1++;
    } else if (y[i] === 0) {
      g0 += Math.log((1 - q) / (1 - pi));
      n0++;
    }
  }
  return (n1 ? g1 / n1 : 0) - (n0 ? g0 / n0 : 0);
}

/**
 * The batch-to-batch SD of a positive share from its history: the SD of successive differences
 * (centred, so a steady trend does not count) over √2 — von Neumann's estimator — less the binomial
 * sampling variance of `rows` rows. Null with fewer than 4 batches: 2 differences cannot state it.
 * A real step inflates it, which makes the gate wait for the move to persist (conservative).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shareSdBetweenBatches } from "./recalibrate.ts";
 * const sd = shareSdBetweenBatches([0.2, 0.23, 0.19, 0.22], 10_000);
 * assert.ok(sd !== null && Math.abs(sd - 0.025) < 0.005);
 * assert.equal(shareSdBetweenBatches([0.2, 0.23, 0.19], 10_000), null); // too few batches
 * ```
 */
export function shareSdBetweenBatches(shares: readonly number[], rows: number): number | null {
  if (shares.length < 4) return null;
  const d = shares.slice(1).map((v, i) => v - shares[i]);
  const mean = d.reduce((a, b) => a + b, 0) / d.length;
  const v = d.reduce((a, b) => a + (b - mean) ** 2, 0) / (d.length - 1) / 2;
  const m = shares.reduce((a, b) => a + b, 0) / shares.length;
  return Math.sqrt(Math.max(0, v - (m * (1 - m)) / Math.max(1, rows)));
}

/**
 * Splits row indices into the earliest `1 − gateShare` (fit) and the latest `gateShare` (gate), by
 * `time` when given (ties kept in row order), else by row order.
 */
export function splitByTime(
  n: number,
  time: ArrayLike<number> | null,
  gateShare = 0.5,
): { fit: number[]; gate: number[] } {
  if (!(gateShare > 0 && gateShare < 1)) {
    throw new RangeError(`the held-out share must be strictly between 0 and 1, got ${gateShare}`);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  if (time) order.sort((a, b) => (time[a] - time[b]) || a - b);
  const cut = Math.round(n * (1 - gateShare));
  return { fit: order.slice(0, cut), gate: order.slice(cut) };
}

/** What recalibrating the champion takes. */
export interface RecalibrateOptions {
  registry: ModelRegistry;
  artifacts: ArtifactStore;
  /** The registered model's name (its `champion` is recalibrated). */
  model: string;
  /**
   * The new positive-label share: a number, "labels" (the labelled batch's share) or "em"
   * (Saerens EM on the champion's scores of the batch; labels not needed for the estimate).
   */
  newPrior: number | "labels" | "em";
  /**
   * The latest labelled batch: the prior's source for "labels"/"em" (its earliest rows) and the
   * gate's test set (its latest rows), unless `gateBatch` is given.
   */
  labelledBatch: Table;
  /**
   * The artifact key under which the caller stored `labelledBatch` (e.g. as Parquet): it becomes
   * the new version's reference data. The caller stores it because the file format belongs to the
   * data layer above this library.
   */
  labelledBatchKey: string;
  /**
   * The champion's own monitoring reference rows (the table behind its `params.reference.data`,
   * read by the caller). When given, the new version keeps them as its reference — the same rows,
   * monitored at the new prior (its `positiveShare`), with the ROC AUC ± SE they give, which a
   * monotone shift does not change — instead of taking the labelled batch as its reference: one
   * batch is a small, noisy stand-in for the holdout (a short batch's AUC is a day's, not the
   * model's), and later batches compared with it raise concept alarms of their own.
   */
  referenceTable?: Table;
  /**
   * The next labelled batch: when given, the prior is fitted on all of `labelledBatch` and the
   * gate tests the shift on this batch (the honest test of a forecast of the next week's share).
   */
  gateBatch?: Table;
  /** The share of `labelledBatch`'s latest rows held out for the gate (default 0.5). */
  gateShare?: number;
  /**
   * SD of the positive share between batches ({@link shareSdBetweenBatches}); adds
   * |{@link gainPerShare}|·SD to the gate's SE (see {@link gateRecalibration}). Default 0: the
   * gate's batch stands for the next.
   */
  shareSd?: number;
  /** Why (e.g. the severity grade and its reasons); recorded with the version and the alias. */
  reason: string;
  /**
   * The prior the champion is calibrated to; default its `params.reference.calibratedShare` (the
   * training rows' positive share, or the prior of an earlier recalibration).
   */
  priorReference?: number;
  runId?: number | null;
  taskId?: string;
  /** Promote when the gate says so (default true). */
  promote?: boolean;
  /** Gate settings: log-loss margin (default 0), error rate (0.05), bootstrap rounds (500). */
  margin?: number;
  alpha?: number;
  rounds?: number;
  seed?: number;
  timeColumn?: string | null;
}

/** Proper scoring rules of probabilities on labelled rows (lower is better). */
export interface ProperScores {
  logLoss: number;
  brier: number;
}

/** What recalibrating did. */
export interface RecalibrationResult {
  version: number;
  parentVersion: number;
  /** The log-odds shift added (on top of any earlier one). */
  shift: number;
  prior: {
    positiveLabel: string;
    reference: number;
    new: number;
    method: "given" | "labels" | "em";
    em?: { iterations: number; converged: boolean; meanScore: number };
  };
  /** The batch's log loss and Brier score of the champion and of the recalibrated version. */
  batch: { rows: number; before: ProperScores; after: ProperScores };
  /**
   * Which rows the prior was fitted on and which the gate tested (never the same rows when the
   * prior is estimated): "held-out rows" of the batch, or "next batch".
   */
  split: { fitRows: number; gateRows: number; gateOn: "held-out rows" | "next batch" | "batch" };
  promoted: boolean;
  verdict: GateVerdict;
}

/**
 * Makes, registers and gates a recalibrated version of `model`'s champion (see the module doc).
 * The new version's `params.recalibration` holds the lineage (parent, priors, shift, reason, the
 * batch's fingerprint); its reference is the champion's reference rows at the new prior when the
 * caller passes them (`referenceTable`), else the labelled batch (`params.holdoutData` = the batch's
 * artifact, `params.reference` measured there: rows, sha256, label share, the new version's AUC ± SE).
 */
export async function recalibrateChampion(o: RecalibrateOptions): Promise<RecalibrationResult> {
  const deps = { registry: o.registry, artifacts: o.artifacts };
  const parent = await loadModel(`${o.model}@champion`, deps);
  const pv = parent.version!;
  const classes = parent.model.spec.target.classes;
  if (parent.model.spec.target.task !== "classification" || classes?.length !== 2) {
    throw new Error(
      `${o.model} v${pv.version} is not a binary classifier; it cannot be recalibrated`,
    );
  }
  const reference = readReference(pv);
  const positiveLabel = reference?.positiveLabel ?? classes[1];
  // the ONNX graph's Sigmoid gives P(classes[1]); priors are handled as shares of classes[1]
  const toClass1 = (share: number) => (positiveLabel === classes[1] ? share : 1 - share);
  // π_ref is the share the probabilities are calibrated to (the training rows'), not the
  // holdout's: out of time the two differ, and EM from the wrong one runs away
  const refShare = o.priorReference ?? reference?.calibratedShare ?? pv.metrics.calibrated_share;
  if (refShare === undefined || !Number.isFinite(refShare)) {
    throw new Error(
      `${o.model} v${pv.version} records no calibrated positive share (params.reference); ` +
        "retrain it with the current training DAG or pass priorReference",
    );
  }
  const piRef = toClass1(refShare);
  const n = rowCount(o.labelledBatch);
  if (n === 0) throw new RangeError("recalibration: the labelled batch has no rows");
  const out = await runOnnx(parent.onnx, o.labelledBatch, parent.model.spec);
  const p = Float64Array.from({ length: n }, (_, i) => out.probabilities![i * 2 + 1]);
  const yAll = classIndex(o.labelledBatch[parent.model.spec.target.names[0]], classes);
  // out of sample: the prior from the earliest rows, the gate on the latest (or the next batch)
  const timeColumn = o.timeColumn ?? reference?.timeColumn ?? null;
  const gateOn: RecalibrationResult["split"]["gateOn"] = o.gateBatch
    ? "next batch"
    : typeof o.newPrior === "number"
    ? "batch" // nothing is fitted: the whole batch tests the given prior
    : "held-out rows";
  const split = gateOn === "held-out rows"
    ? splitByTime(n, timeValues(o.labelledBatch, timeColumn), o.gateShare ?? 0.5)
    : { fit: Array.from({ length: n }, (_, i) => i), gate: [] };
  const fitIdx = split.fit;
  let method: RecalibrationResult["prior"]["method"], piNew: number;
  let em: PriorEstimate | undefined;
  if (typeof o.newPrior === "number") {
    method = "given";
    piNew = toClass1(o.newPrior);
  } else if (o.newPrior === "em") {
    method = "em";
    em = estimatePriorEm(Float64Array.from(fitIdx, (i) => p[i]), piRef);
    piNew = em.prior;
  } else {
    method = "labels";
    const labelled = fitIdx.map((i) => yAll[i]).filter((v) => v >= 0);
    if (labelled.length === 0) {
      throw new RangeError(
        'recalibration: newPrior "labels" needs labels in the batch; it has none (use "em")',
      );
    }
    piNew = labelled.reduce((s, v) => s + v, 0) / labelled.length;
  }
  const shift = priorShift(piRef, piNew);
  // the batch's proper scores before and after, on its labelled rows
  const ys: number[] = [], ps: number[] = [];
  for (let i = 0; i < n; i++) {
    if (yAll[i] < 0) continue;
    ys.push(yAll[i]);
    ps.push(p[i]);
  }
  const shifted = shiftProbabilities(ps, shift);
  const batch = {
    rows: ys.length,
    before: { logLoss: logLoss(ys, ps), brier: brier(ys, ps) },
    after: { logLoss: logLoss(ys, shifted), brier: brier(ys, shifted) },
  };
  const newShare = positiveLabel === classes[1] ? piNew : 1 - piNew;
  const recalibration = {
    parentVersion: pv.version,
    shift,
    totalShift: (parent.model.calibration?.logitShift ?? 0) + shift,
    positiveLabel,
    priorReference: refShare,
    priorNew: newShare,
    method,
    ...(em
      ? { em: { iterations: em.iterations, converged: em.converged, meanScore: em.meanScore } }
      : {}),
    reason: o.reason,
    batch,
  };
  // the labelled batch becomes the new version's reference data, consistently: its artifact,
  // identity, label share, and the recalibrated model's AUC ± SE, log loss and Brier measured on
  // it — so monitoring compares later batches with what this version was calibrated to
  const labelledRows = yAll.filter((v) => v >= 0);
  const positives = labelledRows.filter((v) => v === 1).length;
  if (positives === 0 || positives === labelledRows.length) {
    throw new RangeError(
      `recalibration: the labelled batch must hold both classes (${classes.join(", ")}) among ` +
        `its labelled rows to be the new version's reference; it has ${labelledRows.length} ` +
        `labelled rows, ${positives} of class ${classes[1]}`,
    );
  }
  const batchKey = o.labelledBatchKey;
  const shiftedModel = recalibratedModel(parent.model, shift, {});
  const keepRows = o.referenceTable !== undefined && reference !== null;
  // checked before the table is scored: a table of another length is not the reference's
  if (keepRows && rowCount(o.referenceTable!) !== reference!.rows) {
    throw new Error(
      `recalibration: referenceTable has ${rowCount(o.referenceTable!)} rows; ${o.model} ` +
        `v${pv.version}'s reference has ${reference!.rows}: pass the table stored at ${
          reference!.data
        }`,
    );
  }
  const measured = await measureReference(
    shiftedModel,
    keepRows ? o.referenceTable! : o.labelledBatch,
    {
      data: keepRows ? reference!.data : batchKey,
      timeColumn: o.timeColumn ?? reference?.timeColumn ?? null,
      trainingShare: newShare,
    },
  );
  const newReference = keepRows
    ? {
      // the same rows (their key, identity and time range), monitored at the new prior
      // (drift_monitoring resamples them to it); the shifted model's figures measured on them
      ...reference!,
      positiveShare: newShare,
      calibratedShare: newShare,
      rocAuc: measured.rocAuc,
      logLoss: measured.logLoss,
      brier: measured.brier,
      recalibratedFrom: pv.version,
    }
    : { ...measured, recalibratedFrom: pv.version };
  const model = recalibratedModel(parent.model, shift, {
    recalibration,
    reference: newReference,
    holdoutData: newReference.data,
  });
  model.metrics = {
    ...parent.model.metrics,
    ...referenceMetrics(newReference),
  };
  const version = await registerModel(deps, model, {
    name: o.model,
    fingerprint: pv.fingerprint,
    lineage: o.runId != null ? { runId: o.runId, taskId: o.taskId ?? "recalibrate" } : null,
    onnx: shiftLogitsOnnx(parent.onnx, shift),
  });
  const why = `recalibration of v${pv.version} to a ${positiveLabel} share of ${
    newShare.toFixed(4)
  } (from ${refShare.toFixed(4)}, ${method}; log-odds ${shift >= 0 ? "+" : ""}${
    shift.toFixed(4)
  }): ${o.reason}`;
  await o.registry.setAlias(o.model, "challenger", version.version, {
    reason: why,
    runId: o.runId ?? null,
  });
  const gateTable = o.gateBatch ??
    (gateOn === "held-out rows" ? takeRows(o.labelledBatch, split.gate) : o.labelledBatch);
  const verdict = await compareChallenger(o.model, gateTable, "log_loss", {
    ...deps,
    margin: o.margin ?? 0,
    alpha: o.alpha,
    rounds: o.rounds,
    seed: o.seed,
    promote: o.promote ?? true,
    runId: o.runId ?? null,
    timeColumn: o.timeColumn,
    // nothing is refitted: the versions differ by the shift only; its gain's batch-to-batch SD
    retrainSd: Math.abs(gainPerShare(ys, ps, shift)) * (o.shareSd ?? 0),
  });
  return {
    version: version.version,
    parentVersion: pv.version,
    shift,
    prior: {
      positiveLabel,
      reference: refShare,
      new: newShare,
      method,
      ...(em
        ? { em: { iterations: em.iterations, converged: em.converged, meanScore: em.meanScore } }
        : {}),
    },
    batch,
    split: { fitRows: fitIdx.length, gateRows: rowCount(gateTable), gateOn },
    promoted: verdict.promoted,
    verdict,
  };
}

/** The time column's values as numbers (epoch ms or parsed dates), or null when there is none. */
function timeValues(t: Table, column: string | null): Float64Array | null {
  const c = column === null ? undefined : t[column];
  if (c === undefined) return null;
  if (isNumericColumn(c)) return Float64Array.from(c);
  const parsed = Float64Array.from(c, (v) => (v === null ? NaN : Date.parse(String(v))));
  return parsed.some((v) => Number.isNaN(v)) ? null : parsed;
}
