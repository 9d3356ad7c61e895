/**
 * Generates a small BERT-shaped text model folder that `@huggingface/transformers` loads offline:
 * a WordPiece `tokenizer.json` whose vocabulary is built from a corpus (special tokens, characters
 * and their `##` continuations, then the most frequent words), `config.json`,
 * `tokenizer_config.json`, and `onnx/model.onnx`, an embedding bag: `last_hidden_state` =
 * embedding(input_ids) · attention_mask. Embeddings are seeded random vectors, so the model is
 * deterministic but knows no semantics — it exists for tests and demos on machines without network.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeTinyTextModel } from "./tiny_model.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const vocab = await writeTinyTextModel(`${dir}/tiny`, ["free money now", "meeting at noon"], {
 *     dims: 8,
 *   });
 *   assert.ok(vocab > 5); // special tokens, characters, ## continuations and the words
 *   assert.ok((await Deno.stat(`${dir}/tiny/onnx/model.onnx`)).isFile);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { join } from "node:path";
import { Random } from "../core/random.ts";
import { DataType, encodeModel } from "../onnx/proto.ts";

const SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/** The vocabulary: special tokens, characters (plain and ##), then the corpus's most frequent words. */
export function buildVocab(corpus: Iterable<string>, maxWords: number): string[] {
  const counts = new Map<string, number>();
  const chars = new Set<string>();
  for (const text of corpus) {
    for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
      if (!w) continue;
      counts.set(w, (counts.get(w) ?? 0) + 1);
      for (const c of w) chars.add(c);
    }
  }
  const charList = [...chars].sort();
  const words = [...counts.entries()]
    .filter(([w]) => w.length > 1)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, maxWords)
    .map(([w]) => w);
  return [...new Set([...SPECIAL, ...charList, ...charList.map((c) => `##${c}`), ...words])];
}

function tokenizerJson(vocab: string[]) {
  const ids = Object.fromEntries(vocab.map((t, i) => [t, i]));
  return {
    version: "1.0",
    truncation: { direction: "Right", max_length: 128, strategy: "LongestFirst", stride: 0 },
    padding: null,
    added_tokens: SPECIAL.map((t, i) => ({
      id: i,
      content: t,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: "[CLS]", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "[SEP]", type_id: 0 } },
        { Sequence: { id: "B", type_id: 1 } },
        { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [2], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [3], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: ids,
    },
  };
}

/** The embedding-bag ONNX graph: inputs input_ids and attention_mask [B, T] int64; output [B, T, dims]. */
export function embeddingBagOnnx(vocabSize: number, dims: number, seed: number): Uint8Array {
  const rng = new Random(seed);
  const table = Array.from({ length: vocabSize * dims }, () => rng.normal() / Math.sqrt(dims));
  for (let d = 0; d < dims; d++) table[d] = 0; // [PAD]
  const info = (name: string, elem: number, dims: (string | number)[]) => ({
    name,
    type: {
      tensor_type: {
        elem_type: elem,
        shape: {
          dim: dims.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })),
        },
      },
    },
  });
  const node = (
    op: string,
    input: string[],
    output: string,
    attribute: Record<string, unknown>[] = [],
  ) => ({
    op_type: op,
    input,
    output: [output],
    name: output,
    attribute,
  });
  return encodeModel({
    ir_version: 8,
    producer_name: "driftflow",
    opset_import: [{ domain: "", version: 17 }],
    graph: {
      name: "embedding_bag",
      initializer: [
        {
          name: "embeddings",
          data_type: DataType.FLOAT,
          dims: [vocabSize, dims],
          float_data: table,
        },
        { name: "last_axis", data_type: DataType.INT64, dims: [1], int64_data: [-1] },
      ],
      node: [
        node("Gather", ["embeddings", "input_ids"], "gathered"),
        node("Unsqueeze", ["attention_mask", "last_axis"], "mask3"),
        node("Cast", ["mask3"], "maskf", [{ name: "to", type: 2, i: DataType.FLOAT }]),
        node("Mul", ["gathered", "maskf"], "last_hidden_state"),
      ],
      input: [
        info("input_ids", DataType.INT64, ["batch", "tokens"]),
        info("attention_mask", DataType.INT64, ["batch", "tokens"]),
      ],
      output: [info("last_hidden_state", DataType.FLOAT, ["batch", "tokens", dims])],
    },
  });
}

/** Writes the model folder; returns the vocabulary size. */
export async function writeTinyTextModel(
  dir: string,
  corpus: Iterable<string>,
  { dims = 32, maxWords = 3000, seed = 0 }: { dims?: number; maxWords?: number; seed?: number } =
    {},
): Promise<number> {
  const vocab = buildVocab(corpus, maxWords);
  await Deno.mkdir(join(dir, "onnx"), { recursive: true });
  await Deno.writeTextFile(join(dir, "tokenizer.json"), JSON.stringify(tokenizerJson(vocab)));
  await Deno.writeTextFile(
    join(dir, "tokenizer_config.json"),
    JSON.stringify({
      tokenizer_class: "BertTokenizer",
      do_lower_case: true,
      model_max_length: 128,
      cls_token: "[CLS]",
      sep_token: "[SEP]",
      pad_token: "[PAD]",
      unk_token: "[UNK]",
      mask_token: "[MASK]",
    }),
  );
  await Deno.writeTextFile(
    join(dir, "config.json"),
    JSON.stringify({
      model_type: "bert",
      architectures: ["BertModel"],
      hidden_size: dims,
      vocab_size: vocab.length,
      num_hidden_layers: 0,
      num_attention_heads: 1,
      max_position_embeddings: 128,
    }),
  );
  await Deno.writeFile(join(dir, "onnx", "model.onnx"), embeddingBagOnnx(vocab.length, dims, seed));
  return vocab.length;
}
