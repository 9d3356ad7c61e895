/**
 * ONNX inference through onnxruntime-node (CPU; needs --allow-ffi), with a session cache keyed by
 * the model's bytes, and feeds built from a table: numeric columns as float [N, 1] (missing = NaN),
 * categorical columns as string [N, 1] (missing = "").
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ColumnSpec } from "../core/columns.ts";
 * import { encodeModel } from "./proto.ts";
 * import { runOnnx } from "./runtime.ts";
 * // a regression graph that returns its one feature: predictions = Identity(distance)
 * const float = { tensor_type: { elem_type: 1 } };
 * const onnx = encodeModel({
 *   ir_version: 8,
 *   opset_import: [{ domain: "", version: 17 }],
 *   graph: {
 *     name: "identity",
 *     node: [{ op_type: "Identity", input: ["distance"], output: ["predictions"] }],
 *     input: [{ name: "distance", type: float }],
 *     output: [{ name: "predictions", type: float }],
 *   },
 * });
 * const spec: ColumnSpec = {
 *   features: [{ name: "distance", type: "numeric", median: 0, mean: 0, std: 1 }],
 *   target: { names: ["minutes"], task: "regression" },
 * };
 * // a feature is fed as float [N, 1]; a missing value or a label that is not a number becomes NaN
 * const out = await runOnnx(onnx, { distance: ["900", null, "far"] }, spec);
 * assert.equal(out.width, 1);
 * assert.equal(out.predictions![0], 900);
 * assert.ok(Number.isNaN(out.predictions![1]) && Number.isNaN(out.predictions![2]));
 * ```
 */
import * as ort from "onnxruntime-node";
import { isNumericColumn, rowCount, type Table } from "../core/table.ts";
import { type ColumnSpec, ModelInputError } from "../core/columns.ts";

const sessions = new Map<string, Promise<ort.InferenceSession>>();

async function keyOf(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A cached session for the model bytes. */
export async function sessionFor(bytes: Uint8Array): Promise<ort.InferenceSession> {
  const key = await keyOf(bytes);
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(bytes, { graphOptimizationLevel: "all" });
    sessions.set(key, s);
    s.catch(() => sessions.delete(key));
  }
  return await s;
}

/** The model's outputs: flat row-major arrays with their widths. */
export interface OnnxOutputs {
  label?: BigInt64Array;
  probabilities?: Float32Array;
  predictions?: Float32Array;
  width: number;
}

/** Runs the model on a table (rows [start, end) when given). */
export async function runOnnx(
  bytes: Uint8Array,
  table: Table,
  spec: ColumnSpec,
): Promise<OnnxOutputs> {
  const session = await sessionFor(bytes);
  const n = rowCount(table);
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of spec.features) {
    const col = table[f.name];
    if (col === undefined) {
      throw new ModelInputError(`the data has no column "${f.name}", which the model reads`);
    }
    if (f.type === "categorical") {
      const values = Array.from({ length: n }, (_, i) => {
        const v = col[i];
        return v === null || (typeof v === "number" && Number.isNaN(v)) ? "" : String(v);
      });
      feeds[f.name] = new ort.Tensor("string", values, [n, 1]);
    } else {
      const values = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = col[i];
        values[i] = typeof v === "number"
          ? v
          : v === null
          ? NaN
          : f.type === "boolean"
          ? (/^(true|yes|1)$/i.test(v) ? 1 : 0)
          : Number(v);
      }
      if (!isNumericColumn(col) && f.type === "numeric") {
        // labels that do not read as numbers become missing, as in training
        for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) values[i] = NaN;
      }
      feeds[f.name] = new ort.Tensor("float32", values, [n, 1]);
    }
  }
  const out = await session.run(feeds);
  if (spec.target.task === "regression") {
    const p = out.predictions;
    return { predictions: p.data as Float32Array, width: p.dims[1] as number };
  }
  const probs = out.probabilities;
  return {
    label: out.label.data as BigInt64Array,
    probabilities: probs.data as Float32Array,
    width: probs.dims[1] as number,
  };
}
