/**
 * Exports a trained model as one ONNX graph holding the whole pipeline: one input per raw feature
 * column, named after it, shape [N, 1] (`float` for numeric and boolean columns, `string` for
 * categorical ones; a missing number is NaN, a missing label ""), then imputation (ai.onnx.ml
 * Imputer; LabelEncoder's default for labels), encoding (ordinal LabelEncoder for trees;
 * LabelEncoder + OneHotEncoder for linear models), scaling (Scaler), the estimator
 * (TreeEnsembleRegressor or MatMul + Add), a recalibrated model's log-odds shift (Add) and the link
 * (Sigmoid / Softmax). Outputs: `label` [N, 1]
 * (class index into model.json's classes) and `probabilities` [N, C] for classification,
 * `predictions` [N, K] for regression.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportOnnx } from "./export_onnx.ts";
 * import { trainModel } from "./model.ts";
 * import { runOnnx } from "./onnx/runtime.ts";
 * const x = Float64Array.from({ length: 100 }, (_, i) => i % 10);
 * const table = { x, late: Array.from(x, (v) => (v >= 5 ? "yes" : "no")) };
 * const { model } = trainModel(table, { target: "late", seed: 1, params: { nEstimators: 5 } });
 * const onnx = exportOnnx(model); // the bytes of a .onnx file
 * const out = await runOnnx(onnx, { x: Float64Array.of(1, 8) }, model.spec);
 * assert.deepEqual([...out.label!], [0n, 1n]); // class indices into model.spec.target.classes
 * ```
 */
import type { FeatureSpec } from "./core/columns.ts";
import type { TrainedModel } from "./model.ts";
import { AttrType, DataType, encodeModel } from "./onnx/proto.ts";

type Attr = Record<string, unknown>;
const enc = new TextEncoder();

const attr = {
  f: (name: string, v: number): Attr => ({ name, type: AttrType.FLOAT, f: v }),
  i: (name: string, v: number): Attr => ({ name, type: AttrType.INT, i: v }),
  s: (name: string, v: string): Attr => ({ name, type: AttrType.STRING, s: enc.encode(v) }),
  floats: (name: string, v: ArrayLike<number>): Attr => ({
    name,
    type: AttrType.FLOATS,
    floats: Array.from(v),
  }),
  ints: (name: string, v: ArrayLike<number>): Attr => ({
    name,
    type: AttrType.INTS,
    ints: Array.from(v),
  }),
  strings: (name: string, v: string[]): Attr => ({
    name,
    type: AttrType.STRINGS,
    strings: v.map((x) => enc.encode(x)),
  }),
};

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: elemType,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })),
        },
      },
    },
  };
}

/** A small graph builder: nodes, initializers, unique names. */
class Graph {
  nodes: Record<string, unknown>[] = [];
  initializers: Record<string, unknown>[] = [];
  #n = 0;
  name(base: string): string {
    return `${base}_${this.#n++}`;
  }
  node(op: string, inputs: string[], attrs: Attr[] = [], domain = "", outputName?: string): string {
    const out = outputName ?? this.name(op.toLowerCase());
    this.nodes.push({
      op_type: op,
      domain,
      input: inputs,
      output: [out],
      name: this.name(`n_${op}`),
      attribute: attrs,
    });
    return out;
  }
  floats(values: number[], dims: number[]): string {
    const name = this.name("const");
    this.initializers.push({ name, data_type: DataType.FLOAT, dims, float_data: values });
    return name;
  }
  int64s(values: number[], dims: number[]): string {
    const name = this.name("const");
    this.initializers.push({ name, data_type: DataType.INT64, dims, int64_data: values });
    return name;
  }
}

const ML = "ai.onnx.ml";

/** The [N, 1] float tensor of a feature after imputation and encoding for trees. */
function treeInput(g: Graph, f: FeatureSpec): string {
  if (f.type === "categorical") {
    return g.node("LabelEncoder", [f.name], [
      attr.strings("keys_strings", f.categories),
      attr.floats("values_floats", f.categories.map((_, i) => i)),
      attr.f("default_float", f.categories.indexOf(f.mostFrequent)),
    ], ML);
  }
  return g.node("Imputer", [f.name], [
    attr.floats("imputed_value_floats", [f.median]),
    attr.f("replaced_value_float", NaN),
  ], ML);
}

/** The float tensor of a feature for a linear model: scaled number [N, 1] or one-hot [N, C]. */
function linearInput(g: Graph, f: FeatureSpec): string {
  if (f.type === "categorical") {
    const known = g.node("LabelEncoder", [f.name], [
      attr.strings("keys_strings", f.categories),
      attr.strings("values_strings", f.categories),
      attr.s("default_string", f.mostFrequent),
    ], ML);
    const onehot = g.node("OneHotEncoder", [known], [
      attr.strings("cats_strings", f.categories),
      attr.i("zeros", 1),
    ], ML);
    return g.node("Reshape", [onehot, g.int64s([-1, f.categories.length], [2])]);
  }
  const imputed = g.node("Imputer", [f.name], [
    attr.floats("imputed_value_floats", [f.median]),
    attr.f("replaced_value_float", NaN),
  ], ML);
  return g.node("Scaler", [imputed], [
    attr.floats("offset", [f.mean]),
    attr.floats("scale", [1 / f.std]),
  ], ML);
}

/** The ONNX bytes of a trained model. */
export function exportOnnx(model: TrainedModel, { name = "driftflow_model" } = {}): Uint8Array {
  const g = new Graph();
  const spec = model.spec;
  const inputs = spec.features.map((f) =>
    valueInfo(f.name, f.type === "categorical" ? DataType.STRING : DataType.FLOAT, ["N", 1])
  );
  const parts = spec.features.map((f) => (model.gbdt ? treeInput(g, f) : linearInput(g, f)));
  const x = parts.length === 1 ? parts[0] : g.node("Concat", parts, [attr.i("axis", 1)]);
  let raw: string;
  let nOut: number;
  if (model.gbdt) {
    const m = model.gbdt;
    nOut = m.nOutputs;
    const nodes = {
      treeids: [] as number[],
      nodeids: [] as number[],
      featureids: [] as number[],
      modes: [] as string[],
      values: [] as number[],
      trueids: [] as number[],
      falseids: [] as number[],
    };
    const targets = {
      treeids: [] as number[],
      nodeids: [] as number[],
      ids: [] as number[],
      weights: [] as number[],
    };
    m.trees.forEach((t, ti) => {
      for (let k = 0; k < t.feature.length; k++) {
        const leaf = t.feature[k] < 0;
        nodes.treeids.push(ti);
        nodes.nodeids.push(k);
        nodes.featureids.push(leaf ? 0 : t.feature[k]);
        nodes.modes.push(leaf ? "LEAF" : "BRANCH_LEQ");
        nodes.values.push(leaf ? 0 : t.threshold[k]);
        nodes.trueids.push(leaf ? 0 : t.left[k]);
        nodes.falseids.push(leaf ? 0 : t.right[k]);
        if (leaf) {
          targets.treeids.push(ti);
          targets.nodeids.push(k);
          targets.ids.push(t.output);
          targets.weights.push(t.value[k]);
        }
      }
    });
    raw = g.node("TreeEnsembleRegressor", [x], [
      attr.i("n_targets", m.nOutputs),
      attr.floats("base_values", m.baseScore),
      attr.s("aggregate_function", "SUM"),
      attr.s("post_transform", "NONE"),
      attr.ints("nodes_treeids", nodes.treeids),
      attr.ints("nodes_nodeids", nodes.nodeids),
      attr.ints("nodes_featureids", nodes.featureids),
      attr.strings("nodes_modes", nodes.modes),
      attr.floats("nodes_values", nodes.values),
      attr.ints("nodes_truenodeids", nodes.trueids),
      attr.ints("nodes_falsenodeids", nodes.falseids),
      attr.ints("target_treeids", targets.treeids),
      attr.ints("target_nodeids", targets.nodeids),
      attr.ints("target_ids", targets.ids),
      attr.floats("target_weights", targets.weights),
    ], ML);
  } else {
    const lin = model.linear!;
    nOut = 1;
    const w = g.floats(lin.weights, [lin.weights.length, 1]);
    raw = g.node("Add", [g.node("MatMul", [x, w]), g.floats([lin.intercept], [1])]);
  }
  const outputs: ReturnType<typeof valueInfo>[] = [];
  if (spec.target.task === "regression") {
    g.node("Identity", [raw], [], "", "predictions");
    outputs.push(valueInfo("predictions", DataType.FLOAT, ["N", nOut]));
  } else {
    const C = spec.target.classes!.length;
    const shift = model.calibration?.logitShift ?? 0;
    if (shift !== 0 && C !== 2) {
      throw new Error("a logit shift (calibration) applies to binary classifiers only");
    }
    if (C === 2) {
      // a recalibrated model: its prior correction is an Add on the log-odds before the link
      if (shift !== 0) raw = g.node("Add", [raw, g.floats([shift], [1])]);
      const p = g.node("Sigmoid", [raw]);
      const q = g.node("Sub", [g.floats([1], [1]), p]);
      g.node("Concat", [q, p], [attr.i("axis", 1)], "", "probabilities");
    } else {
      g.node("Softmax", [raw], [attr.i("axis", 1)], "", "probabilities");
    }
    g.node("ArgMax", ["probabilities"], [attr.i("axis", 1), attr.i("keepdims", 1)], "", "label");
    outputs.push(
      valueInfo("label", DataType.INT64, ["N", 1]),
      valueInfo("probabilities", DataType.FLOAT, ["N", C]),
    );
  }
  return encodeModel({
    ir_version: 8,
    producer_name: "driftflow",
    producer_version: "1",
    model_version: 1,
    opset_import: [{ domain: "", version: 17 }, { domain: ML, version: 3 }],
    metadata_props: [
      { key: "algo", value: model.algo },
      { key: "classes", value: JSON.stringify(spec.target.classes ?? []) },
      { key: "targets", value: JSON.stringify(spec.target.names) },
      ...(model.calibration?.logitShift
        ? [{ key: "logit_shift", value: String(model.calibration.logitShift) }]
        : []),
    ],
    graph: { name, node: g.nodes, initializer: g.initializers, input: inputs, output: outputs },
  });
}
