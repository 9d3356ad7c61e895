/**
 * The part of ONNX's protobuf schema (onnx/onnx.proto, IR version 8) that Driftflow writes, as a
 * protobufjs reflection root, and an encoder of ModelProto objects to bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeModel, encodeModel } from "./proto.ts";
 * // the smallest graph: y = Identity(x)
 * const bytes = encodeModel({
 *   ir_version: 8,
 *   opset_import: [{ domain: "", version: 17 }],
 *   graph: {
 *     name: "identity",
 *     node: [{ op_type: "Identity", input: ["x"], output: ["y"] }],
 *     input: [{ name: "x", type: { tensor_type: { elem_type: 1 } } }],
 *     output: [{ name: "y", type: { tensor_type: { elem_type: 1 } } }],
 *   },
 * });
 * const back = decodeModel(bytes) as { graph: { node: { op_type: string }[] } };
 * assert.equal(back.graph.node[0].op_type, "Identity");
 * ```
 */
import protobuf from "protobufjs";

const f = (type: string, id: number, repeated = false) =>
  repeated ? { type, id, rule: "repeated" } : { type, id };

const root = protobuf.Root.fromJSON({
  nested: {
    onnx: {
      nested: {
        ModelProto: {
          fields: {
            ir_version: f("int64", 1),
            producer_name: f("string", 2),
            producer_version: f("string", 3),
            domain: f("string", 4),
            model_version: f("int64", 5),
            doc_string: f("string", 6),
            graph: f("GraphProto", 7),
            opset_import: f("OperatorSetIdProto", 8, true),
            metadata_props: f("StringStringEntryProto", 14, true),
          },
        },
        OperatorSetIdProto: { fields: { domain: f("string", 1), version: f("int64", 2) } },
        StringStringEntryProto: { fields: { key: f("string", 1), value: f("string", 2) } },
        GraphProto: {
          fields: {
            node: f("NodeProto", 1, true),
            name: f("string", 2),
            initializer: f("TensorProto", 5, true),
            doc_string: f("string", 10),
            input: f("ValueInfoProto", 11, true),
            output: f("ValueInfoProto", 12, true),
          },
        },
        NodeProto: {
          fields: {
            input: f("string", 1, true),
            output: f("string", 2, true),
            name: f("string", 3),
            op_type: f("string", 4),
            attribute: f("AttributeProto", 5, true),
            doc_string: f("string", 6),
            domain: f("string", 7),
          },
        },
        AttributeProto: {
          fields: {
            name: f("string", 1),
            f: f("float", 2),
            i: f("int64", 3),
            s: f("bytes", 4),
            t: f("TensorProto", 5),
            floats: f("float", 7, true),
            ints: f("int64", 8, true),
            strings: f("bytes", 9, true),
            type: f("int32", 20),
          },
        },
        TensorProto: {
          fields: {
            dims: f("int64", 1, true),
            data_type: f("int32", 2),
            float_data: f("float", 4, true),
            string_data: f("bytes", 6, true),
            int64_data: f("int64", 7, true),
            name: f("string", 8),
          },
        },
        ValueInfoProto: { fields: { name: f("string", 1), type: f("TypeProto", 2) } },
        TypeProto: { fields: { tensor_type: f("TypeProtoTensor", 1) } },
        TypeProtoTensor: { fields: { elem_type: f("int32", 1), shape: f("TensorShapeProto", 2) } },
        TensorShapeProto: { fields: { dim: f("Dimension", 1, true) } },
        Dimension: { fields: { dim_value: f("int64", 1), dim_param: f("string", 2) } },
      },
    },
  },
});

const ModelProto = root.lookupType("onnx.ModelProto");

/** ONNX tensor element types used here. */
export const DataType = { FLOAT: 1, INT64: 7, STRING: 8 } as const;

/** ONNX attribute types. */
export const AttrType = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
} as const;

/** Encodes a ModelProto (plain object with the field names above) to bytes, after checking it. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const error = ModelProto.verify(model);
  if (error) throw new Error(`invalid ONNX model: ${error}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}

/** Decodes ModelProto bytes (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, bytes: String }) as Record<
    string,
    unknown
  >;
}
