/**
 * A model on disk and in the registry: `model.onnx` (the whole pipeline) beside `model.json` (column
 * spec, classes, parameters, metrics and the fitted estimator), stored content-addressed in the
 * artifact store when registered; a training-data fingerprint (row count + content hash); and
 * loading by directory or by registry reference (`name`, `name@alias`, `name@3`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../runner/artifacts/local.ts";
 * import { openPglite } from "../runner/store/pglite.ts";
 * import { trainModel } from "./model.ts";
 * import { fingerprintTable, loadModel, registerModel, writeModelDir } from "./package.ts";
 * import { ModelRegistry } from "./registry/registry.ts";
 * const x = Float64Array.from({ length: 100 }, (_, i) => i % 10);
 * const table = { x, late: Array.from(x, (v) => (v >= 5 ? "yes" : "no")) };
 * const { model } = trainModel(table, { target: "late", seed: 1, params: { nEstimators: 5 } });
 * const dir = await Deno.makeTempDir();
 * const db = await openPglite(); // in memory
 * try {
 *   await writeModelDir(`${dir}/delays`, model); // model.onnx + model.json
 *   assert.deepEqual((await loadModel(`${dir}/delays`)).model.spec, model.spec);
 *   const registry = await ModelRegistry.open(db);
 *   const deps = { registry, artifacts: new LocalArtifactStore(dir) };
 *   const v = await registerModel(deps, model, {
 *     name: "delays",
 *     fingerprint: await fingerprintTable(table),
 *   });
 *   await deps.registry.setAlias("delays", "champion", v.version, { reason: "first model" });
 *   const { version, onnx } = await loadModel("delays@champion", deps);
 *   assert.equal(version?.version, 1);
 *   assert.ok(onnx.length > 0);
 * } finally {
 *   await db.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { join } from "node:path";
import type { ArtifactStore } from "../runner/artifacts/artifact_store.ts";
import { isNumericColumn, type Table } from "./core/table.ts";
import type { TrainedModel } from "./model.ts";
import { exportOnnx } from "./export_onnx.ts";
import { ModelNotFoundError, type ModelRegistry, type ModelVersion } from "./registry/registry.ts";

/** The two files of a model. */
export function modelFiles(model: TrainedModel): { onnx: Uint8Array; json: string } {
  return { onnx: exportOnnx(model), json: JSON.stringify(model, null, 1) };
}

/** Writes model.onnx and model.json into `dir` (created). */
export async function writeModelDir(dir: string, model: TrainedModel): Promise<void> {
  const { onnx, json } = modelFiles(model);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(join(dir, "model.onnx"), onnx);
  await Deno.writeTextFile(join(dir, "model.json"), json);
}

/** A model with its ONNX bytes. */
export interface LoadedModel {
  model: TrainedModel;
  onnx: Uint8Array;
  version?: ModelVersion;
}

function parseModelJson(text: string, where: string): TrainedModel {
  const m = JSON.parse(text) as TrainedModel;
  if (m.format !== "driftflow-model/1") {
    throw new Error(
      `${where} is not a Driftflow model.json (format "${m.format}", expected "driftflow-model/1")`,
    );
  }
  return m;
}

/** Loads a model from a directory, or from the registry by reference when `dir` is not a directory. */
export async function loadModel(
  ref: string,
  deps?: { registry: ModelRegistry; artifacts: ArtifactStore },
): Promise<LoadedModel> {
  let isDir = false;
  try {
    isDir = (await Deno.stat(ref)).isDirectory;
  } catch { /* not a path: a registry reference */ }
  if (isDir) {
    return {
      model: parseModelJson(
        await Deno.readTextFile(join(ref, "model.json")),
        join(ref, "model.json"),
      ),
      onnx: await Deno.readFile(join(ref, "model.onnx")),
    };
  }
  if (!deps) {
    throw new ModelNotFoundError(
      `"${ref}" is not a model directory, and no registry was given to resolve it`,
    );
  }
  const version = await deps.registry.resolve(ref);
  const { onnx, meta } = version.artifacts;
  if (!onnx || !meta) {
    throw new Error(`${version.name}@${version.version} has no onnx/meta artifacts`);
  }
  const model = parseModelJson(
    new TextDecoder().decode(await deps.artifacts.get(meta)),
    `${ref} (meta)`,
  );
  return { model, onnx: await deps.artifacts.get(onnx), version };
}

/** Row count and a SHA-256 over the table's content (column names, types and values, in order). */
export async function fingerprintTable(table: Table): Promise<{ rows: number; sha256: string }> {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  let rows = 0;
  for (const [name, col] of Object.entries(table)) {
    rows = col.length;
    parts.push(enc.encode(`${name}\u0000${isNumericColumn(col) ? "f64" : "str"}\u0000`));
    if (isNumericColumn(col)) {
      parts.push(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
    } else parts.push(enc.encode(col.map((v) => (v === null ? "\u0001" : v)).join("\u0000")));
  }
  const total = parts.reduce((s, p) => s + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return { rows, sha256: Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("") };
}

/** Stores the model's files as artifacts and registers a new version. */
export async function registerModel(
  deps: { registry: ModelRegistry; artifacts: ArtifactStore },
  model: TrainedModel,
  info: {
    name: string;
    fingerprint: { rows: number; sha256: string };
    lineage?: { runId: number; taskId: string } | null;
    description?: string;
    /** The ONNX bytes to store instead of a fresh export (e.g. a parent's graph plus new nodes). */
    onnx?: Uint8Array;
  },
): Promise<ModelVersion> {
  const files = modelFiles(model);
  const onnx = info.onnx ?? files.onnx, json = files.json;
  const onnxKey = await deps.artifacts.put(onnx);
  const metaKey = await deps.artifacts.put(new TextEncoder().encode(json));
  return await deps.registry.register({
    name: info.name,
    description: info.description,
    algo: model.algo,
    task: model.spec.target.task,
    params: model.params,
    metrics: model.metrics,
    columns: model.spec,
    fingerprint: info.fingerprint,
    artifacts: { onnx: onnxKey, meta: metaKey },
    lineage: info.lineage ?? null,
  });
}
