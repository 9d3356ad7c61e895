/**
 * Text embeddings through `@huggingface/transformers` feature extraction (mean pooling, L2
 * normalised). Models load from a local folder by default (`localModelPath`), with remote loading
 * off; set `allowRemote: true` (or DRIFTFLOW_ALLOW_REMOTE_MODELS=1) to fetch a hub model such as
 * `Xenova/all-MiniLM-L6-v2` on a machine with network. Embeddings are how text enters Driftflow's
 * models: their dimensions become numeric columns `<column>_emb_<k>`, and the ONNX model's inputs
 * are those columns (the text model runs before it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { embedTexts } from "./embeddings.ts";
 * import { writeTinyTextModel } from "./tiny_model.ts";
 * // an offline model folder (no network): <dir>/tiny
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeTinyTextModel(`${dir}/tiny`, ["free money now", "lunch at noon"], { dims: 8 });
 *   const vectors = await embedTexts(["free money", "lunch at noon"], {
 *     model: "tiny",
 *     localModelPath: dir,
 *   });
 *   assert.equal(vectors.length, 2);
 *   assert.equal(vectors[0].length, 8);
 *   assert.ok(Math.abs(Math.hypot(...vectors[0]) - 1) < 1e-5); // L2-normalised
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { env, type FeatureExtractionPipeline, pipeline } from "@huggingface/transformers";
import type { Table } from "../core/table.ts";

/** Where and which text model to load. */
export interface EmbeddingOptions {
  /** A folder name under `localModelPath`, or a hub id when remote loading is on. */
  model: string;
  localModelPath?: string;
  allowRemote?: boolean;
  batchSize?: number;
}

const pipelines = new Map<string, Promise<FeatureExtractionPipeline>>();

function extractor(o: EmbeddingOptions): Promise<FeatureExtractionPipeline> {
  const allowRemote = o.allowRemote ?? Deno.env.get("DRIFTFLOW_ALLOW_REMOTE_MODELS") === "1";
  env.allowRemoteModels = allowRemote;
  env.allowLocalModels = true;
  if (o.localModelPath) {
    env.localModelPath = o.localModelPath.endsWith("/") ? o.localModelPath : `${o.localModelPath}/`;
  }
  const key = `${env.localModelPath}|${o.model}|${allowRemote}`;
  let p = pipelines.get(key);
  if (!p) {
    p = pipeline("feature-extraction", o.model, {
      local_files_only: !allowRemote,
      dtype: "fp32",
    }) as Promise<
      FeatureExtractionPipeline
    >;
    pipelines.set(key, p);
    p.catch(() => pipelines.delete(key));
  }
  return p;
}

/** One embedding per text (mean-pooled, L2-normalised), as rows of a Float32Array matrix. */
export async function embedTexts(
  texts: readonly (string | null)[],
  o: EmbeddingOptions,
): Promise<Float32Array[]> {
  const fx = await extractor(o);
  const out: Float32Array[] = [];
  const batch = o.batchSize ?? 64;
  for (let i = 0; i < texts.length; i += batch) {
    const chunk = texts.slice(i, i + batch).map((t) => t ?? "");
    const tensor = await fx(chunk, { pooling: "mean", normalize: true });
    const [rows, dims] = tensor.dims as number[];
    const data = tensor.data as Float32Array;
    for (let r = 0; r < rows; r++) out.push(data.slice(r * dims, (r + 1) * dims));
  }
  return out;
}

/** Replaces a text column by its embedding columns `<column>_emb_<k>`. */
export async function embedColumn(
  table: Table,
  column: string,
  o: EmbeddingOptions,
): Promise<Table> {
  const texts = table[column];
  if (texts === undefined || texts instanceof Float64Array) {
    throw new Error(`embedColumn: "${column}" must be a text column of the table`);
  }
  const vectors = await embedTexts(texts, o);
  const dims = vectors[0]?.length ?? 0;
  const out: Record<string, Table[string]> = {};
  for (const [name, col] of Object.entries(table)) if (name !== column) out[name] = col;
  for (let k = 0; k < dims; k++) {
    out[`${column}_emb_${k}`] = Float64Array.from(vectors, (v) => v[k]);
  }
  return out;
}
