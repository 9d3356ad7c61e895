/**
 * Retraining noise: how much a metric moves when the same configuration is fitted again on another
 * draw of the same data. Each refit trains on a seeded subsample (default 80 %) of the training
 * rows; the SD of the metric over the refits, on the same test rows, is the per-model `retrain_sd`
 * the gate adds to the test rows' own uncertainty (see gate.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "./core/random.ts";
 * import { refitMetrics, sampleSd } from "./retrain_noise.ts";
 * const rng = new Random(1);
 * const rows = (n: number) => {
 *   const x = Float64Array.from({ length: n }, () => rng.normal());
 *   return { x, late: Array.from(x, (v) => (v + rng.normal() > 0 ? "yes" : "no")) };
 * };
 * const params = { nEstimators: 10, minSamplesLeaf: 10 };
 * const options = { target: "late", params };
 * const values = refitMetrics(rows(300), rows(200), options, { fits: 3, seed: 0 });
 * assert.equal(values.roc_auc.length, 3); // one value per refit on an 80 % subsample
 * assert.ok(sampleSd(values.roc_auc) < 0.05); // what retraining alone moves the metric by
 * ```
 */
import { sampleStandardDeviation } from "simple-statistics";
import { rowCount, type Table, takeRows } from "./core/table.ts";
import { Random } from "./core/random.ts";
import { scoreModel, trainModel, type TrainOptions } from "./model.ts";

/** A seeded subsample (without replacement) of `share` of the rows. */
export function subsampleRows(table: Table, share: number, seed: number): Table {
  const n = rowCount(table);
  const k = Math.max(1, Math.round(n * share));
  const idx = Array.from(new Random(seed).permutation(n).subarray(0, k)).sort((a, b) => a - b);
  return takeRows(table, idx);
}

/** The sample standard deviation (n − 1); 0 for fewer than two values. */
export function sampleSd(values: number[]): number {
  return values.length < 2 ? 0 : sampleStandardDeviation(values);
}

/** One refit on a subsample (seeded by `seed`), scored on `test`. */
export function refitScore(
  train: Table,
  test: Table,
  options: TrainOptions,
  { seed, share = 0.8 }: { seed: number; share?: number },
): Record<string, number> {
  const sub = subsampleRows(train, share, seed);
  const { model } = trainModel(sub, { ...options, seed, validFraction: 0 });
  return scoreModel(model, test);
}

/** Every metric over `fits` refits on subsamples: { metric: [value per fit] }. */
export function refitMetrics(
  train: Table,
  test: Table,
  options: TrainOptions,
  { fits = 3, seed = 0, share = 0.8 }: { fits?: number; seed?: number; share?: number } = {},
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (let k = 0; k < fits; k++) {
    const m = refitScore(train, test, options, { seed: seed * 1000 + k + 1, share });
    for (const [name, v] of Object.entries(m)) (out[name] ??= []).push(v);
  }
  return out;
}

/** `retrain_sd_<metric>` registry metrics from refit values (rows and counts left out). */
export function retrainSdMetrics(values: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values).filter(([name]) => name !== "rows").map((
      [name, v],
    ) => [`retrain_sd_${name}`, sampleSd(v)]),
  );
}
