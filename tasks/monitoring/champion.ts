/**
 * The champion as monitoring sees it: its version, the data it is compared with (the out-of-time
 * holdout `training` recorded — the honest reference — at the prior the version records, so a
 * recalibrated champion is compared with its new prior), and its scores on a table through its
 * ONNX graph (the serving path).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportOnnx } from "../../models/export_onnx.ts";
 * import { trainModel } from "../../models/model.ts";
 * import { ModelRegistry } from "../../models/registry/registry.ts";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { championReference, referenceAtPrior, scoreTable } from "./champion.ts";
 * const distance = Float64Array.from({ length: 100 }, (_, i) => 100 * (i % 10));
 * const holdout = { distance, late: Array.from(distance, (d) => (d >= 500 ? "yes" : "no")) };
 * const { model } = trainModel(holdout, { target: "late", params: { nEstimators: 5 } });
 * const db = await openPglite(); // in memory
 * try {
 *   const registry = await ModelRegistry.open(db);
 *   const v = await registry.register({
 *     name: "flights_delay",
 *     algo: model.algo,
 *     task: "classification",
 *     params: { reference: { data: "sha256:" + "0".repeat(64), positiveShare: 0.6 } },
 *     metrics: {},
 *     columns: model.spec,
 *     fingerprint: { rows: 100, sha256: "0".repeat(64) },
 *     artifacts: {},
 *   });
 *   await registry.setAlias("flights_delay", "champion", v.version, { reason: "first model" });
 *   const c = await championReference(registry, "flights_delay");
 *   assert.deepEqual([c.kind, c.positiveShare], ["holdout", 0.6]); // c.reference: its key
 *   const ref = referenceAtPrior(holdout, "late", "yes", c.positiveShare, 0); // "yes" rows added
 *   assert.equal(ref.late.filter((l) => l === "yes").length / ref.late.length, 0.6);
 *   const scored = await scoreTable(exportOnnx(model), model, holdout, "yes", "__score");
 *   assert.ok(Number(scored.__score[9]) > 0.5); // P(yes) of row 9, a 900-mile flight
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import type { ModelRegistry, ModelVersion } from "../../models/registry/registry.ts";
import type { TrainedModel } from "../../models/model.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import { rowCount, type Table, takeRows } from "../../models/core/table.ts";
import { Random } from "../../models/core/random.ts";

/** The champion's version and the key or path of its reference data. */
export interface ChampionReference {
  version: number;
  reference: string;
  /** Where the reference came from: the out-of-time holdout, or the training data (older models). */
  kind: "holdout" | "training";
  /**
   * The positive share the version is monitored against (`params.reference.positiveShare`): the
   * holdout's, or a recalibrated version's new prior; null when the version records none.
   */
  positiveShare: number | null;
}

/** The reference data a version records: `params.reference.data`, the holdout, else its training data. */
export function referenceOf(v: ModelVersion): ChampionReference {
  const p = v.params as Record<string, unknown>;
  const ref = p.reference as { data?: unknown } | undefined;
  const holdout = typeof ref?.data === "string" ? ref.data : p.holdoutData;
  const share = (ref as { positiveShare?: unknown } | undefined)?.positiveShare;
  const positiveShare = typeof share === "number" && Number.isFinite(share) ? share : null;
  if (typeof holdout === "string" && holdout) {
    return { version: v.version, reference: holdout, kind: "holdout", positiveShare };
  }
  if (typeof p.trainingData === "string" && p.trainingData) {
    return { version: v.version, reference: p.trainingData, kind: "training", positiveShare };
  }
  throw new Error(
    `${v.name} v${v.version} records no reference data (params.reference.data, holdoutData or trainingData); retrain it with \`deno task run training\``,
  );
}

/** The current champion of `model` and its reference. */
export async function championReference(
  registry: ModelRegistry,
  model: string,
): Promise<ChampionReference> {
  return referenceOf(await registry.resolve(`${model}@champion`));
}

/** The table with the model's probability of `positiveLabel` in column `into`. */
export async function scoreTable(
  onnx: Uint8Array,
  model: TrainedModel,
  t: Table,
  positiveLabel: string,
  into: string,
): Promise<Table> {
  const classes = model.spec.target.classes ?? [];
  const k = classes.indexOf(positiveLabel);
  if (k < 0) {
    throw new RangeError(
      `the model's classes are ${classes.join(", ")}; "${positiveLabel}" is not one of them`,
    );
  }
  const out = await runOnnx(onnx, t, model.spec);
  return {
    ...t,
    [into]: Float64Array.from(
      { length: rowCount(t) },
      (_, i) => out.probabilities![i * out.width + k],
    ),
  };
}

/**
 * The reference at the prior the champion is monitored against: a recalibrated version keeps its
 * parent's holdout but records the new prior, so rows of the class that must grow are added again
 * (seeded copies; a label shift moves the covariates with the labels) until the positive share is
 * the recorded one. Every original row stays, so no rare category is lost from the reference (the
 * unseen-category check would count it). Unchanged when the share already matches.
 */
export function referenceAtPrior(
  t: Table,
  target: string,
  positiveLabel: string,
  positiveShare: number | null,
  seed: number,
): Table {
  const y = t[target];
  const n = rowCount(t);
  if (positiveShare === null || y === undefined || n === 0) return t;
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < n; i++) (y[i] === positiveLabel ? pos : neg).push(i);
  const q = Math.min(1 - 1e-6, Math.max(1e-6, positiveShare));
  if (Math.abs(pos.length / n - q) * n < 1) return t;
  const grow = q > pos.length / n ? pos : neg;
  if (grow.length === 0) return t;
  // (P + k) / (n + k) = q for positives; P / (n + k) = q for negatives
  const k = Math.round(q > pos.length / n ? (q * n - pos.length) / (1 - q) : pos.length / q - n);
  const rng = new Random(seed);
  const rows = new Uint32Array(n + k);
  for (let i = 0; i < n; i++) rows[i] = i;
  for (let j = 0; j < k; j++) rows[n + j] = grow[rng.int(grow.length)];
  return takeRows(t, rows);
}
