/**
 * A logit shift inside an exported binary classifier's ONNX graph: the graph's one Sigmoid (the
 * link from the raw score to P(class 1)) gets an `Add(raw, shift)` in front of it, so every runtime
 * that serves the file serves the shifted probabilities — sigmoid(raw + shift) = sigmoid(logit(p) +
 * shift). The rest of the graph is the parent's, byte for byte in meaning; the shift is recorded in
 * the model's metadata (`logit_shift`, summed over repeated shifts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as ort from "onnxruntime-node";
 * import { shiftLogitsOnnx } from "./calibrate.ts";
 * import { encodeModel } from "./proto.ts";
 * import { sessionFor } from "./runtime.ts";
 * // the smallest binary classifier graph: p = Sigmoid(x), x the raw score (log-odds)
 * const float = { tensor_type: { elem_type: 1 } };
 * const onnx = encodeModel({
 *   ir_version: 8,
 *   opset_import: [{ domain: "", version: 17 }],
 *   graph: {
 *     name: "sigmoid",
 *     node: [{ op_type: "Sigmoid", input: ["x"], output: ["p"] }],
 *     input: [{ name: "x", type: float }],
 *     output: [{ name: "p", type: float }],
 *   },
 * });
 * const shifted = shiftLogitsOnnx(onnx, Math.log(3)); // the odds of class 1 times 3
 * const x = new ort.Tensor("float32", Float32Array.of(0), [1, 1]); // p = 0.5 before
 * const { p } = await (await sessionFor(shifted)).run({ x });
 * assert.ok(Math.abs(Number(p.data[0]) - 0.75) < 1e-6); // odds 1 → 3
 * ```
 */
import { DataType, decodeModel, encodeModel } from "./proto.ts";

interface NodeObject {
  op_type?: string;
  input?: string[];
  output?: string[];
  name?: string;
  domain?: string;
}

/** The ONNX bytes with `Add(shift)` before the Sigmoid that makes the class-1 probability. */
export function shiftLogitsOnnx(onnx: Uint8Array, shift: number): Uint8Array {
  if (!Number.isFinite(shift)) throw new RangeError(`logit shift must be finite, got ${shift}`);
  const model = decodeModel(onnx);
  const graph = model.graph as Record<string, unknown> | undefined;
  const nodes = (graph?.node ?? []) as NodeObject[];
  const sigmoids = nodes.flatMap((n, i) => (n.op_type === "Sigmoid" ? [i] : []));
  if (sigmoids.length !== 1) {
    throw new Error(
      `a logit shift needs a binary classifier's graph with exactly one Sigmoid; this one has ${sigmoids.length}` +
        " (multiclass and regression models cannot be recalibrated by a prior shift)",
    );
  }
  const at = sigmoids[0];
  const sigmoid = nodes[at];
  const names = new Set<string>(nodes.flatMap((n) => [...(n.output ?? []), n.name ?? ""]));
  let k = 0;
  while (names.has(`logit_shift_${k}`)) k++;
  const constName = `logit_shift_${k}_value`, outName = `logit_shift_${k}`;
  const add: NodeObject = {
    op_type: "Add",
    domain: "",
    input: [sigmoid.input![0], constName],
    output: [outName],
    name: `n_logit_shift_${k}`,
  };
  const rewired = { ...sigmoid, input: [outName] };
  const initializers = (graph!.initializer ?? []) as Record<string, unknown>[];
  const meta = (model.metadata_props ?? []) as { key: string; value: string }[];
  const before = Number(meta.find((m) => m.key === "logit_shift")?.value ?? 0);
  return encodeModel({
    ...model,
    metadata_props: [
      ...meta.filter((m) => m.key !== "logit_shift"),
      { key: "logit_shift", value: String(before + shift) },
    ],
    graph: {
      ...graph,
      node: [...nodes.slice(0, at), add, rewired, ...nodes.slice(at + 1)],
      initializer: [
        ...initializers,
        { name: constName, data_type: DataType.FLOAT, dims: [1], float_data: [shift] },
      ],
    },
  });
}
