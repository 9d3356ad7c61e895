/**
 * The prediction service: scores rows of raw feature values with a registered model through ONNX
 * Runtime. Inputs are validated against the model's column spec (one message per bad field), the
 * reference `name@alias` is resolved at most every few seconds, models are loaded once per version,
 * and each prediction gets an id and is logged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { trainModel } from "../model.ts";
 * import { fingerprintTable, registerModel } from "../package.ts";
 * import { ModelRegistry } from "../registry/registry.ts";
 * import { InputError, PredictionService } from "./service.ts";
 * const distance = Float64Array.from({ length: 100 }, (_, i) => 100 * (i % 10));
 * const table = { distance, late: Array.from(distance, (d) => (d >= 500 ? "yes" : "no")) };
 * const { model } = trainModel(table, { target: "late", params: { nEstimators: 5 } });
 * const dir = await Deno.makeTempDir();
 * const db = await openPglite(); // in memory
 * try {
 *   const registry = await ModelRegistry.open(db);
 *   const deps = { registry, artifacts: new LocalArtifactStore(dir) };
 *   const v = await registerModel(deps, model, {
 *     name: "delays",
 *     fingerprint: await fingerprintTable(table),
 *   });
 *   await deps.registry.setAlias("delays", "champion", v.version, { reason: "first model" });
 *   const service = new PredictionService(deps); // add `log` to record every prediction
 *   const r = await service.predict("delays@champion", [{ distance: 900 }, { distance: 100 }]);
 *   assert.deepEqual(r.results.map((s) => s.label), ["yes", "no"]);
 *   await assert.rejects(service.predict("delays@champion", [{ distance: "far" }]), InputError);
 * } finally {
 *   await db.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "../../runner/artifacts/artifact_store.ts";
import type { Table } from "../core/table.ts";
import type { ColumnSpec } from "../core/columns.ts";
import { type LoadedModel, loadModel } from "../package.ts";
import { runOnnx } from "../onnx/runtime.ts";
import type { ModelRegistry } from "../registry/registry.ts";
import type { PredictionLog } from "./prediction_log.ts";
import { textProblem } from "./storable_text.ts";
import { retryRead } from "./transient.ts";

/** One input row: raw feature values by column name. */
export type InputRow = Record<string, string | number | boolean | null>;

/** A field that did not validate. */
export interface FieldError {
  field: string;
  message: string;
}

/** Raised for a payload the model cannot score; carries one message per bad field. */
export class InputError extends Error {
  constructor(readonly fields: FieldError[]) {
    super(`invalid input: ${fields.map((f) => `${f.field}: ${f.message}`).join("; ")}`);
  }
}

/** One scored row. */
export interface Scored {
  id: string;
  label?: string;
  probabilities?: Record<string, number>;
  predictions?: Record<string, number>;
}

/** Checks rows against the spec and builds the model's input table. */
export function validateRows(spec: ColumnSpec, rows: InputRow[]): Table {
  const errors: FieldError[] = [];
  const table: Record<string, Float64Array | (string | null)[]> = {};
  for (const f of spec.features) {
    table[f.name] = f.type === "categorical"
      ? new Array<string | null>(rows.length)
      : new Float64Array(rows.length);
  }
  rows.forEach((row, i) => {
    for (const f of spec.features) {
      const v = row[f.name];
      const where = `rows.${i}.${f.name}`;
      if (v === undefined) {
        errors.push({ field: where, message: `missing; send null for an unknown value` });
        continue;
      }
      if (f.type === "categorical") {
        if (v !== null && typeof v !== "string") {
          errors.push({
            field: where,
            message: `expected a label (string) or null, got ${typeof v}`,
          });
        } else if (v !== null && textProblem(v)) {
          errors.push({ field: where, message: textProblem(v)! });
        } else (table[f.name] as (string | null)[])[i] = v;
      } else if (f.type === "boolean") {
        if (v !== null && typeof v !== "boolean" && v !== 0 && v !== 1) {
          errors.push({
            field: where,
            message: `expected true, false, 0, 1 or null, got ${JSON.stringify(v)}`,
          });
        } else (table[f.name] as Float64Array)[i] = v === null ? NaN : Number(v);
      } else if (v !== null && (typeof v !== "number" || !Number.isFinite(v))) {
        errors.push({
          field: where,
          message: `expected a finite number or null, got ${JSON.stringify(v)}`,
        });
      } else (table[f.name] as Float64Array)[i] = v === null ? NaN : v;
    }
    for (const key of Object.keys(row)) {
      if (!spec.features.some((f) => f.name === key)) {
        errors.push({
          field: `rows.${i}.${JSON.stringify(key).slice(1, -1)}`,
          message: `not an input of this model (it reads ${
            spec.features.map((f) => f.name).join(", ")
          })`,
        });
      }
    }
  });
  if (errors.length) throw new InputError(errors.slice(0, 50));
  return table;
}

export class PredictionService {
  readonly #resolved = new Map<string, { version: number; at: number }>();
  readonly #models = new Map<string, Promise<LoadedModel>>();

  constructor(
    readonly deps: {
      registry: ModelRegistry;
      artifacts: ArtifactStore;
      log?: PredictionLog;
      ttlMs?: number;
    },
  ) {}

  /** The version a reference names now (cached for `ttlMs`, default 5 s). */
  async resolve(ref: string): Promise<{ name: string; version: number }> {
    const name = ref.split("@")[0];
    const hit = this.#resolved.get(ref);
    const now = Date.now();
    if (hit && now - hit.at < (this.deps.ttlMs ?? 5000)) return { name, version: hit.version };
    const v = await retryRead(() => this.deps.registry.resolve(ref));
    this.#resolved.set(ref, { version: v.version, at: now });
    return { name: v.name, version: v.version };
  }

  /** The model of a version, loaded once. */
  model(name: string, version: number): Promise<LoadedModel> {
    const key = `${name}@${version}`;
    let m = this.#models.get(key);
    if (!m) {
      m = loadModel(key, this.deps);
      this.#models.set(key, m);
      m.catch(() => this.#models.delete(key));
    }
    return m;
  }

  /**
   * Scores rows; when a log is configured, resolves only after they are committed to it (so an
   * answered prediction is stored), and throws what {@link PredictionLog.write} throws.
   */
  async predict(
    ref: string,
    rows: InputRow[],
  ): Promise<{ model: string; version: number; results: Scored[] }> {
    const { name, version } = await this.resolve(ref);
    const { model, onnx } = await this.model(name, version);
    const table = validateRows(model.spec, rows);
    const out = await runOnnx(onnx, table, model.spec);
    const results: Scored[] = rows.map((_, i) => {
      const id = crypto.randomUUID();
      if (model.spec.target.task === "regression") {
        return {
          id,
          predictions: Object.fromEntries(
            model.spec.target.names.map((t, k) => [t, out.predictions![i * out.width + k]]),
          ),
        };
      }
      const classes = model.spec.target.classes!;
      return {
        id,
        label: classes[Number(out.label![i])],
        probabilities: Object.fromEntries(
          classes.map((c, k) => [c, out.probabilities![i * out.width + k]]),
        ),
      };
    });
    // answered only once the rows are committed (group commit with concurrent requests)
    await this.deps.log?.write(results.map((r, i) => ({
      id: r.id,
      model: name,
      version,
      input: rows[i],
      label: r.label ?? null,
      score: r.probabilities
        ? r.probabilities[model.spec.target.classes!.at(-1)!]
        : Object.values(r.predictions!)[0],
      output: r.probabilities ?? r.predictions ?? {},
    })));
    return { model: name, version, results };
  }
}
