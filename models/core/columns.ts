/**
 * The column spec of a model: which raw columns it reads, as what type, and the preprocessing fitted
 * on the training table (median for missing numbers, most frequent label for missing or unseen
 * labels, category codes for trees, mean and scale for linear models). It is stored with the model
 * and compiled into the ONNX graph, so serving can never preprocess differently from training.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fitColumnSpec } from "./columns.ts";
 * const table = {
 *   distance: Float64Array.of(300, 900, NaN, 1200),
 *   origin: ["SEA", "SFO", "SEA", null],
 *   late: ["no", "yes", "no", "yes"],
 * };
 * const spec = fitColumnSpec(table, { target: ["late"], task: "classification" });
 * const features = spec.features.map((f) => `${f.name}:${f.type}`);
 * assert.deepEqual(features, ["distance:numeric", "origin:categorical"]);
 * assert.deepEqual(spec.target.classes, ["no", "yes"]);
 * ```
 */
import { z } from "zod";
import { type Column, isNumericColumn, type Table } from "./table.ts";

/** One input column of a model. */
export const FeatureSpec = z.discriminatedUnion("type", [
  z.object({
    name: z.string(),
    type: z.literal("numeric"),
    /** Replaces a missing value. */
    median: z.number(),
    mean: z.number(),
    std: z.number().positive(),
  }),
  z.object({
    name: z.string(),
    type: z.literal("boolean"),
    median: z.number(),
    mean: z.number(),
    std: z.number().positive(),
  }),
  z.object({
    name: z.string(),
    type: z.literal("categorical"),
    /** Known labels; a label's code is its index (trees) and its one-hot slot (linear). */
    categories: z.array(z.string()).min(1),
    /** Replaces a missing or unseen label. */
    mostFrequent: z.string(),
  }),
]);
export type FeatureSpec = z.infer<typeof FeatureSpec>;

/** The target: classes for classification, names of outputs for regression. */
export const TargetSpec = z.object({
  names: z.array(z.string()).min(1),
  task: z.enum(["classification", "regression"]),
  classes: z.array(z.string()).optional(),
});
export type TargetSpec = z.infer<typeof TargetSpec>;

export const ColumnSpec = z.object({ features: z.array(FeatureSpec), target: TargetSpec });
export type ColumnSpec = z.infer<typeof ColumnSpec>;

/** Raised for data a model cannot score (a column it reads is missing). */
export class ModelInputError extends Error {
  override name = "ModelInputError";
}

/** Raised for a training table a model cannot be fitted on; the CLI exits 2 with its message. */
export class TrainingDataError extends Error {
  override name = "TrainingDataError";
}

const BOOLEAN = /^(true|false|yes|no|0|1)$/i;

function asBoolean(v: string | null): number {
  if (v === null) return NaN;
  return /^(true|yes|1)$/i.test(v) ? 1 : 0;
}

/** The task a target suggests: labels or exactly two numbers → classification; numbers → regression. */
export function inferTask(target: Column): "classification" | "regression" {
  if (!isNumericColumn(target)) return "classification";
  const values = new Set<number>();
  for (const v of target) {
    if (Number.isFinite(v)) values.add(v);
    if (values.size > 2) return "regression";
  }
  return "classification";
}

function stats(values: Float64Array): { median: number; mean: number; std: number } {
  const present = values.filter((v) => Number.isFinite(v)).sort();
  if (present.length === 0) return { median: 0, mean: 0, std: 1 };
  const mid = present.length >> 1;
  const median = present.length % 2 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
  let mean = 0;
  for (const v of present) mean += v;
  mean /= present.length;
  let ss = 0;
  for (const v of present) ss += (v - mean) ** 2;
  const std = Math.sqrt(ss / present.length);
  return { median, mean, std: std > 0 ? std : 1 };
}

/** Options of fitColumnSpec. */
export interface FitSpecOptions {
  target: string[];
  task?: "classification" | "regression";
  /** Columns to leave out (ids, timestamps…). */
  exclude?: string[];
  /** Binary 0/1 labels (or class indices) per row, to order categories by their target mean for trees. */
  orderBy?: Float64Array;
}

/** The target of a training table (task, classes); throws TrainingDataError with what to fix. */
export function fitTargetSpec(
  table: Table,
  target: string[],
  task?: "classification" | "regression",
): TargetSpec {
  for (const t of target) {
    if (!(t in table)) {
      throw new TrainingDataError(
        `the target column "${t}" is not in the data (columns: ${Object.keys(table).join(", ")})`,
      );
    }
  }
  const first = table[target[0]];
  const resolved = task ?? inferTask(first);
  if (resolved === "classification") {
    if (target.length > 1) throw new TrainingDataError("classification takes one target column");
    const classes = classLabels(first);
    if (classes.length < 2) {
      throw new TrainingDataError(
        `the target "${target[0]}" is constant (${
          classes[0] ?? "no values"
        }); a classifier needs at least two classes`,
      );
    }
    return { names: target, task: resolved, classes };
  }
  for (const t of target) {
    const c = table[t];
    if (!isNumericColumn(c)) {
      throw new TrainingDataError(`regression target "${t}" must be numeric`);
    }
    let first: number | undefined, varies = false;
    for (const v of c) {
      if (!Number.isFinite(v)) continue;
      if (first === undefined) first = v;
      else if (v !== first) {
        varies = true;
        break;
      }
    }
    if (!varies) {
      throw new TrainingDataError(`the target "${t}" is constant; there is nothing to learn`);
    }
  }
  return { names: target, task: resolved };
}

/** Infers the spec (target and features) from a training table; throws TrainingDataError with what to fix. */
export function fitColumnSpec(table: Table, options: FitSpecOptions): ColumnSpec {
  const target = fitTargetSpec(table, options.target, options.task);
  return { features: fitFeatureSpecs(table, options), target };
}

/** The feature specs of every column that is not a target or excluded. */
export function fitFeatureSpecs(table: Table, options: FitSpecOptions): FeatureSpec[] {
  const features: FeatureSpec[] = [];
  for (const [name, column] of Object.entries(table)) {
    if (options.target.includes(name) || options.exclude?.includes(name)) continue;
    if (isNumericColumn(column)) {
      features.push({ name, type: "numeric", ...stats(column) });
      continue;
    }
    const present = column.filter((v): v is string => v !== null && v !== "");
    if (
      present.length > 0 && present.every((v) => BOOLEAN.test(v)) &&
      new Set(present.map((v) => v.toLowerCase())).size <= 2
    ) {
      features.push({ name, type: "boolean", ...stats(Float64Array.from(column, asBoolean)) });
      continue;
    }
    if (looksLikeText(present)) {
      throw new TrainingDataError(
        `column "${name}" holds free text; embed it first (models/text/embeddings.ts embedColumn) or exclude it`,
      );
    }
    const counts = new Map<string, number>();
    const targetSum = new Map<string, number>();
    column.forEach((v, i) => {
      if (v === null || v === "") return;
      counts.set(v, (counts.get(v) ?? 0) + 1);
      if (options.orderBy) targetSum.set(v, (targetSum.get(v) ?? 0) + options.orderBy[i]);
    });
    if (counts.size === 0) continue; // all missing: nothing to learn from
    const categories = [...counts.keys()].sort((a, b) =>
      options.orderBy
        ? targetSum.get(a)! / counts.get(a)! - targetSum.get(b)! / counts.get(b)! ||
          (a < b ? -1 : 1)
        : counts.get(b)! - counts.get(a)! || (a < b ? -1 : 1)
    );
    const mostFrequent = [...counts.entries()].sort((a, b) =>
      b[1] - a[1] || (a[0] < b[0] ? -1 : 1)
    )[0][0];
    features.push({ name, type: "categorical", categories, mostFrequent });
  }
  if (features.length === 0) {
    throw new TrainingDataError("the data has no feature columns besides the target");
  }
  return features;
}

/** Long multi-word strings: text, not labels. */
function looksLikeText(values: string[]): boolean {
  const sample = values.slice(0, 500);
  if (sample.length === 0) return false;
  let words = 0, chars = 0;
  for (const v of sample) {
    chars += v.length;
    words += v.split(/\s+/).filter(Boolean).length;
  }
  return words / sample.length >= 5 && chars / sample.length >= 30;
}

/** Sorted distinct labels of a classification target. */
export function classLabels(target: Column): string[] {
  const set = new Set<string>();
  for (let i = 0; i < target.length; i++) {
    const v = target[i];
    if (v === null || (typeof v === "number" && !Number.isFinite(v))) continue;
    set.add(String(v));
  }
  return [...set].sort((a, b) => {
    const x = Number(a), y = Number(b);
    return Number.isFinite(x) && Number.isFinite(y) ? x - y : a < b ? -1 : a > b ? 1 : 0;
  });
}

/** A feature's values as model inputs for trees: imputed numbers or category codes, rounded to float32. */
export function treeColumn(spec: FeatureSpec, column: Column | undefined): Float64Array {
  if (column === undefined) {
    throw new ModelInputError(`the data has no column "${spec.name}", which the model reads`);
  }
  const n = column.length;
  const out = new Float64Array(n);
  if (spec.type === "categorical") {
    const code = new Map(spec.categories.map((c, i) => [c, i]));
    const fallback = code.get(spec.mostFrequent)!;
    for (let i = 0; i < n; i++) {
      const v = column[i];
      out[i] = typeof v === "string" ? code.get(v) ?? fallback : fallback;
    }
    return out;
  }
  for (let i = 0; i < n; i++) {
    const raw = column[i];
    const v = typeof raw === "number"
      ? raw
      : spec.type === "boolean"
      ? asBoolean(raw)
      : raw === null
      ? NaN
      : Number(raw);
    out[i] = Math.fround(Number.isNaN(v) ? spec.median : v);
  }
  return out;
}

/** Labels of a classification target as class indices (−1 when missing or unknown). */
export function classIndex(target: Column, classes: string[]): Float64Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  return Float64Array.from({ length: target.length }, (_, i) => {
    const v = target[i];
    if (v === null || (typeof v === "number" && !Number.isFinite(v))) return -1;
    return index.get(String(v)) ?? -1;
  });
}
