/**
 * A trained model: its column spec, the fitted estimator (boosted trees or logistic regression),
 * its parameters and metrics. Training splits a validation set (seeded), fits, and scores; the
 * TypeScript predictor here is the reference the ONNX graph must equal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictModel, trainModel } from "./model.ts";
 * const x = Float64Array.from({ length: 200 }, (_, i) => i % 20);
 * const table = { x, late: Array.from(x, (v) => (v >= 10 ? "yes" : "no")) };
 * const { model } = trainModel(table, {
 *   target: "late",
 *   algo: "gbdt",
 *   seed: 1,
 *   params: { nEstimators: 10, minSamplesLeaf: 5 },
 * });
 * const out = predictModel(model, { x: Float64Array.of(2, 17) });
 * assert.deepEqual(model.spec.target.classes, ["no", "yes"]);
 * assert.deepEqual(out.label, ["no", "yes"]); // probabilities: [class][row]
 * assert.ok(model.metrics.roc_auc > 0.99); // on the validation rows
 * ```
 */
import { z } from "zod";
import { rowCount, type Table, takeRows } from "./core/table.ts";
import { Random } from "./core/random.ts";
import {
  classIndex,
  ColumnSpec,
  type FeatureSpec,
  fitFeatureSpecs,
  fitTargetSpec,
  TrainingDataError,
  treeColumn,
} from "./core/columns.ts";
import { type GbdtModel, GbdtParams, predictGbdt, trainGbdt } from "./gbdt/train.ts";
import { type LinearModel, trainLogistic } from "./linear/train_logistic.ts";
import { accuracy, f1, logLoss, mae, rmse, rocAuc } from "./metrics.ts";

/** What to train. */
export const TrainOptions = z.object({
  target: z.union([z.string(), z.array(z.string()).min(1)]),
  algo: z.enum(["gbdt", "logistic"]).default("gbdt"),
  task: z.enum(["classification", "regression"]).optional(),
  validFraction: z.number().min(0).max(0.9).default(0.2),
  seed: z.number().int().default(0),
  exclude: z.array(z.string()).default([]),
  /** GBDT hyperparameters; logistic takes { C }. */
  params: z.record(z.string(), z.unknown()).default({}),
}).strict();
export type TrainOptions = z.input<typeof TrainOptions>;

/** A model as saved in model.json (the ONNX file holds the same pipeline as a graph). */
export interface TrainedModel {
  format: "driftflow-model/1";
  algo: "gbdt" | "logistic";
  spec: ColumnSpec;
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  gbdt?: GbdtModel;
  linear?: LinearModel;
  /**
   * A recalibration (binary classifiers): the class-1 log-odds are shifted by `logitShift` — the
   * prior correction of recalibrate.ts; the ONNX graph holds the same Add before its Sigmoid.
   */
  calibration?: { logitShift: number };
}

/** Outputs for a table: probabilities and labels (classification) or predictions (regression). */
export interface Predictions {
  /** [class][row] */
  probabilities?: Float64Array[];
  label?: string[];
  /** [output][row] */
  predictions?: Float64Array[];
}

/** The dense (scaled) and sparse (one-hot code) design of a logistic model. */
export function linearDesign(features: FeatureSpec[], table: Table) {
  const dense: Float64Array[] = [], sparse: { codes: Float64Array; width: number }[] = [];
  for (const f of features) {
    const col = treeColumn(f, table[f.name]);
    if (f.type === "categorical") sparse.push({ codes: col, width: f.categories.length });
    else dense.push(col.map((v) => (v - f.mean) / f.std));
  }
  return { dense, sparse };
}

function targetArrays(spec: ColumnSpec, table: Table): Float64Array[] {
  if (spec.target.task === "classification") {
    return [classIndex(table[spec.target.names[0]], spec.target.classes!)];
  }
  return spec.target.names.map((t) => table[t] as Float64Array);
}

/** Keeps rows with every target present. */
function labelledRows(spec: ColumnSpec, table: Table): Table {
  const ys = targetArrays(spec, table);
  const keep: number[] = [];
  const n = rowCount(table);
  for (let i = 0; i < n; i++) {
    if (
      ys.every((y) =>
        Number.isFinite(y[i]) && y[i] >= (spec.target.task === "classification" ? 0 : -Infinity)
      )
    ) keep.push(i);
  }
  return keep.length === n ? table : takeRows(table, keep);
}

/** Trains on `table`; returns the model and the validation metrics (training metrics without a split). */
export function trainModel(
  table: Table,
  options: TrainOptions,
  onRound?: (round: number, total: number) => void,
): { model: TrainedModel; valid: Table | null } {
  const o = TrainOptions.parse(options);
  const targets = typeof o.target === "string" ? o.target.split(",") : o.target;
  if (rowCount(table) === 0) throw new TrainingDataError("the training data has no rows");
  // the target (task, classes) from all rows; feature preprocessing from the training rows only
  const base: ColumnSpec = { features: [], target: fitTargetSpec(table, targets, o.task) };
  const labelled = labelledRows(base, table);
  const n = rowCount(labelled);
  if (n < 2) {
    throw new TrainingDataError(`only ${n} rows have a target value; at least 2 are needed`);
  }
  const order = new Random(o.seed).permutation(n);
  const nValid = o.validFraction > 0 && n >= 10 ? Math.max(1, Math.round(n * o.validFraction)) : 0;
  const train = nValid ? takeRows(labelled, order.subarray(nValid)) : labelled;
  const valid = nValid ? takeRows(labelled, order.subarray(0, nValid)) : null;
  const yTrain = targetArrays(base, train);
  // trees: categories ordered by their training target mean (binary, regression), as LightGBM sorts them
  const ordered = o.algo === "gbdt" &&
    (base.target.task === "regression" || base.target.classes!.length === 2);
  const spec: ColumnSpec = {
    features: fitFeatureSpecs(train, {
      target: targets,
      exclude: o.exclude,
      orderBy: ordered ? yTrain[0] : undefined,
    }),
    target: base.target,
  };
  const task = spec.target.task;
  const classes = spec.target.classes ?? [];
  const model: TrainedModel = {
    format: "driftflow-model/1",
    algo: o.algo,
    spec,
    params: {},
    metrics: {},
  };
  if (o.algo === "gbdt") {
    const params = GbdtParams.parse({ seed: o.seed, ...o.params });
    const objective = task === "regression"
      ? "regression"
      : classes.length === 2
      ? "binary"
      : "multiclass";
    const features = spec.features.map((f) => treeColumn(f, train[f.name]));
    const validSet = valid
      ? {
        features: spec.features.map((f) => treeColumn(f, valid[f.name])),
        labels: targetArrays(spec, valid),
      }
      : undefined;
    model.gbdt = trainGbdt(
      { features, labels: yTrain, objective, nClasses: classes.length },
      params,
      validSet,
      onRound,
    );
    model.params = { ...params, roundsKept: model.gbdt.rounds };
  } else {
    if (task !== "classification" || classes.length !== 2) {
      throw new TrainingDataError(
        `logistic regression fits a binary target; "${targets.join(",")}" has ${
          task === "regression" ? "numeric values" : `${classes.length} classes`
        } — use --algo gbdt`,
      );
    }
    const C = typeof o.params.C === "number" ? o.params.C : 1;
    model.linear = trainLogistic({ ...linearDesign(spec.features, train), y: yTrain[0] }, { C });
    model.params = { C, iterations: model.linear.iterations, converged: model.linear.converged };
  }
  // metrics on held-out rows only: scores on the training rows would flatter the model
  model.metrics = valid ? scoreModel(model, valid) : {};
  return { model, valid };
}

/** Metrics of a model on a labelled table. */
export function scoreModel(model: TrainedModel, table: Table): Record<string, number> {
  const spec = model.spec;
  const rows = labelledRows(spec, table);
  const ys = targetArrays(spec, rows);
  const out = predictModel(model, rows);
  if (spec.target.task === "regression") {
    const m: Record<string, number> = {};
    spec.target.names.forEach((name, k) => {
      const suffix = spec.target.names.length > 1 ? `_${name}` : "";
      m[`rmse${suffix}`] = rmse(ys[k], out.predictions![k]);
      m[`mae${suffix}`] = mae(ys[k], out.predictions![k]);
    });
    return m;
  }
  const y = ys[0];
  const probs = out.probabilities!;
  if (probs.length === 2) {
    return {
      roc_auc: rocAuc(y, probs[1]),
      accuracy: accuracy(y, probs[1]),
      f1: f1(y, probs[1]),
      log_loss: logLoss(y, probs[1]),
      rows: y.length,
    };
  }
  let ok = 0, ll = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k][i] > probs[best][i]) best = k;
    if (best === y[i]) ok++;
    ll -= Math.log(Math.min(1 - 1e-15, Math.max(1e-15, probs[y[i]][i])));
  }
  return { accuracy: ok / y.length, log_loss: ll / y.length, rows: y.length };
}

/** Predicts with the TypeScript implementation of the pipeline (what the ONNX graph computes). */
export function predictModel(model: TrainedModel, table: Table): Predictions {
  const spec = model.spec;
  const n = rowCount(table);
  let probs: Float64Array[];
  if (model.gbdt) {
    const features = spec.features.map((f) => treeColumn(f, table[f.name]));
    const out = predictGbdt(model.gbdt, features);
    if (spec.target.task === "regression") return { predictions: out };
    probs = out.length === 1 ? [out[0].map((p) => 1 - p), out[0]] : out;
  } else {
    const lin = model.linear!;
    const { dense, sparse } = linearDesign(spec.features, table);
    const z = new Float64Array(n).fill(lin.intercept);
    dense.forEach((col, j) => {
      for (let i = 0; i < n; i++) z[i] += lin.weights[j] * col[i];
    });
    let off = dense.length;
    for (const s of sparse) {
      for (let i = 0; i < n; i++) z[i] += lin.weights[off + s.codes[i]];
      off += s.width;
    }
    const p1 = z.map((v) => 1 / (1 + Math.exp(-v)));
    probs = [p1.map((p) => 1 - p), p1];
  }
  const shift = model.calibration?.logitShift ?? 0;
  if (shift !== 0 && probs.length === 2) {
    const p1 = probs[1].map((p) => 1 / (1 + Math.exp(-(Math.log(p) - Math.log1p(-p) + shift))));
    probs = [p1.map((p) => 1 - p), p1];
  }
  const classes = spec.target.classes!;
  const label = Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let k = 1; k < probs.length; k++) if (probs[k][i] > probs[best][i]) best = k;
    return classes[best];
  });
  return { probabilities: probs, label };
}
