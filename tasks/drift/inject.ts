/**
 * Drift injection with ground truth: seeded, pure functions that return a changed copy of a table
 * and a record of what they did, so an experiment can score which drifts a monitor catches.
 *
 * - covariate: mean shift by k·σ, variance scaling, added noise, missing values, outliers, swapped
 *   category frequencies, unseen categories;
 * - prior (label) shift: rows resampled to a target class balance;
 * - concept: labels flipped in a region of feature space, a rotated linear decision boundary, a
 *   replaced labelling rule;
 * - patterns in time ({@link temporalBatches}): sudden, gradual (mixing probability ramps),
 *   incremental (magnitude ramps), recurring.
 *
 * Every spec is zod data, so a DAG's conf can carry an experiment. Same seed, same output.
 *
 * @example
 * ```ts
 * import { injectDrift } from "./inject.ts";
 * const { table, truth } = injectDrift(batch, { kind: "mean_shift", column: "distance", k: 1 }, { seed: 7 });
 * truth.rowsAffected; // every row
 * ```
 */
import { z } from "zod";
import { fitLogistic } from "../../models/linear/logistic.ts";
import {
  type Column,
  isNumericColumn,
  rowCount,
  sliceRows,
  type Table,
  takeRows,
} from "../data/table.ts";
import { Random } from "../random.ts";

const column = z.string().min(1);
const share = z.number().min(0).max(1);

/** One drift to inject. */
export const DriftSpec = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("mean_shift"), column, k: z.number() }).strict(),
  z.object({ kind: z.literal("variance_scale"), column, factor: z.number().positive() }).strict(),
  z.object({ kind: z.literal("noise"), column, k: z.number().nonnegative() }).strict(),
  z.object({ kind: z.literal("missing"), column, share }).strict(),
  z.object({ kind: z.literal("outliers"), column, share, k: z.number().positive().default(6) })
    .strict(),
  z.object({ kind: z.literal("category_swap"), column, a: z.string(), b: z.string() }).strict(),
  z.object({
    kind: z.literal("unseen_category"),
    column,
    share,
    label: z.string().default("__unseen__"),
  }).strict(),
  z.object({
    kind: z.literal("prior_shift"),
    target: column,
    positiveShare: share,
    positiveLabel: z.string().optional(),
  }).strict(),
  z.object({
    kind: z.literal("label_flip"),
    target: column,
    column,
    min: z.number().default(-Infinity),
    max: z.number().default(Infinity),
    share: share.default(1),
  }).strict(),
  z.object({
    kind: z.literal("boundary_rotation"),
    target: column,
    features: z.tuple([column, column]),
    degrees: z.number(),
  }).strict(),
  z.object({
    kind: z.literal("rule_replacement"),
    target: column,
    column,
    threshold: z.number(),
    /** The label given to rows above the threshold (the others get the other label). */
    above: z.enum(["positive", "negative"]).default("positive"),
  }).strict(),
]);
export type DriftSpec = z.input<typeof DriftSpec>;
type Spec = z.infer<typeof DriftSpec>;

/** What an injection did. */
export interface InjectionTruth {
  kind: Spec["kind"];
  family: "covariate" | "prior" | "concept";
  columns: string[];
  intensity: number;
  rowsAffected: number;
  details: Record<string, number | string>;
}

/** Location and scale of a numeric column, to express shifts in standard deviations. */
export interface ColumnScale {
  mean: number;
  std: number;
}

/** Options of one injection. */
export interface InjectOptions {
  seed?: number;
  /** 0..1, scales the magnitude (incremental drift). Default 1. */
  intensity?: number;
  /** Scales of numeric columns (default: measured on this table). */
  scales?: Record<string, ColumnScale>;
}

const FAMILY: Record<Spec["kind"], InjectionTruth["family"]> = {
  mean_shift: "covariate",
  variance_scale: "covariate",
  noise: "covariate",
  missing: "covariate",
  outliers: "covariate",
  category_swap: "covariate",
  unseen_category: "covariate",
  prior_shift: "prior",
  label_flip: "concept",
  boundary_rotation: "concept",
  rule_replacement: "concept",
};

/** Mean and population standard deviation of the finite values of a numeric column. */
export function scaleOf(values: Float64Array): ColumnScale {
  let n = 0, mean = 0, m2 = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    n++;
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  return { mean, std: n ? Math.sqrt(m2 / n) || 1 : 1 };
}

function numericColumn(t: Table, name: string, kind: string): Float64Array {
  const c = t[name];
  if (c === undefined) {
    throw new RangeError(
      `${kind}: the table has no column "${name}" (it has ${Object.keys(t).join(", ")})`,
    );
  }
  if (!isNumericColumn(c)) throw new TypeError(`${kind}: column "${name}" must be numeric`);
  return c;
}

function stringColumn(t: Table, name: string, kind: string): (string | null)[] {
  const c = t[name];
  if (c === undefined) {
    throw new RangeError(
      `${kind}: the table has no column "${name}" (it has ${Object.keys(t).join(", ")})`,
    );
  }
  if (isNumericColumn(c)) throw new TypeError(`${kind}: column "${name}" must be categorical`);
  return [...c];
}

/** The two labels of a binary target: [negative, positive]. */
function binaryLabels(col: Column, positive?: string): [string | number, string | number] {
  const values = new Set<string | number>();
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v !== null && !(typeof v === "number" && Number.isNaN(v))) values.add(v);
  }
  if (isNumericColumn(col)) return [0, 1];
  const sorted = [...values].sort() as string[];
  if (positive !== undefined) {
    const neg = sorted.find((v) => v !== positive) ?? `not ${positive}`;
    return [neg, positive];
  }
  if (sorted.length > 2) {
    throw new RangeError(
      `the target has ${sorted.length} labels; label drift needs a binary target`,
    );
  }
  return [sorted[0], sorted[1] ?? `not ${sorted[0]}`];
}

function setLabel(out: Column, i: number, label: string | number): void {
  (out as (string | number | null)[])[i] = label;
}

function copyColumn(c: Column): Column {
  return isNumericColumn(c) ? c.slice() : [...c];
}

/** Applies one drift to a copy of `table`; returns the copy and the ground truth. */
export function injectDrift(
  table: Table,
  spec: DriftSpec,
  options: InjectOptions = {},
): { table: Table; truth: InjectionTruth } {
  const s = DriftSpec.parse(spec);
  const rng = new Random(options.seed ?? 0);
  const intensity = Math.min(1, Math.max(0, options.intensity ?? 1));
  const n = rowCount(table);
  const out: Record<string, Column> = { ...table };
  const truth = (
    columns: string[],
    rowsAffected: number,
    details: Record<string, number | string>,
  ) => ({
    kind: s.kind,
    family: FAMILY[s.kind],
    columns,
    intensity,
    rowsAffected,
    details,
  });
  const scale = (name: string) =>
    options.scales?.[name] ?? scaleOf(numericColumn(table, name, s.kind));
  switch (s.kind) {
    case "mean_shift": {
      const src = numericColumn(table, s.column, s.kind);
      const delta = s.k * intensity * scale(s.column).std;
      out[s.column] = src.map((v) => v + delta);
      return { table: out, truth: truth([s.column], n, { delta }) };
    }
    case "variance_scale": {
      const src = numericColumn(table, s.column, s.kind);
      const { mean } = scale(s.column);
      const f = s.factor ** intensity;
      out[s.column] = src.map((v) => mean + (v - mean) * f);
      return { table: out, truth: truth([s.column], n, { factor: f }) };
    }
    case "noise": {
      const src = numericColumn(table, s.column, s.kind);
      const sd = s.k * intensity * scale(s.column).std;
      out[s.column] = src.map((v) => v + sd * rng.normal());
      return { table: out, truth: truth([s.column], n, { noiseStd: sd }) };
    }
    case "missing": {
      const c = copyColumn(table[s.column] ?? numericColumn(table, s.column, s.kind));
      let hit = 0;
      for (let i = 0; i < n; i++) {
        if (rng.next() < s.share * intensity) {
          if (isNumericColumn(c)) c[i] = NaN;
          else (c as (string | null)[])[i] = null;
          hit++;
        }
      }
      out[s.column] = c;
      return { table: out, truth: truth([s.column], hit, { share: s.share * intensity }) };
    }
    case "outliers": {
      const src = numericColumn(table, s.column, s.kind).slice();
      const { mean, std } = scale(s.column);
      let hit = 0;
      for (let i = 0; i < n; i++) {
        if (rng.next() < s.share * intensity) {
          src[i] = mean + (rng.next() < 0.5 ? -1 : 1) * s.k * std * (1 + rng.next());
          hit++;
        }
      }
      out[s.column] = src;
      return { table: out, truth: truth([s.column], hit, { share: s.share * intensity, k: s.k }) };
    }
    case "category_swap": {
      const c = stringColumn(table, s.column, s.kind);
      let hit = 0;
      for (let i = 0; i < n; i++) {
        if (c[i] !== s.a && c[i] !== s.b) continue;
        if (intensity < 1 && rng.next() >= intensity) continue;
        c[i] = c[i] === s.a ? s.b : s.a;
        hit++;
      }
      out[s.column] = c;
      return { table: out, truth: truth([s.column], hit, { a: s.a, b: s.b }) };
    }
    case "unseen_category": {
      const c = stringColumn(table, s.column, s.kind);
      let hit = 0;
      for (let i = 0; i < n; i++) {
        if (rng.next() < s.share * intensity) {
          c[i] = s.label;
          hit++;
        }
      }
      out[s.column] = c;
      return {
        table: out,
        truth: truth([s.column], hit, { label: s.label, share: s.share * intensity }),
      };
    }
    case "prior_shift": {
      const y = table[s.target];
      if (y === undefined) {
        throw new RangeError(`prior_shift: the table has no target column "${s.target}"`);
      }
      const [, pos] = binaryLabels(y, s.positiveLabel);
      const posRows: number[] = [], negRows: number[] = [];
      for (let i = 0; i < n; i++) (y[i] === pos ? posRows : negRows).push(i);
      const before = posRows.length / Math.max(1, n);
      const target = before + (s.positiveShare - before) * intensity;
      if ((target > 0 && posRows.length === 0) || (target < 1 && negRows.length === 0)) {
        throw new RangeError(
          `prior_shift: cannot reach a positive share of ${target} without rows of both classes`,
        );
      }
      const nPos = Math.round(n * target);
      const rows = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        rows[i] = i < nPos ? posRows[rng.int(posRows.length)] : negRows[rng.int(negRows.length)];
      }
      const order = rng.permutation(n).map((i) => rows[i]);
      return {
        table: takeRows(table, order),
        truth: truth([s.target], n, { positiveShareBefore: before, positiveShare: target }),
      };
    }
    case "label_flip": {
      const x = numericColumn(table, s.column, s.kind);
      const y = copyColumn(table[s.target] ?? numericColumn(table, s.target, s.kind));
      const [neg, pos] = binaryLabels(y);
      let hit = 0;
      for (let i = 0; i < n; i++) {
        if (!(x[i] >= s.min && x[i] <= s.max)) continue;
        if (rng.next() >= s.share * intensity) continue;
        setLabel(y, i, y[i] === pos ? neg : pos);
        hit++;
      }
      out[s.target] = y;
      return { table: out, truth: truth([s.target, s.column], hit, { min: s.min, max: s.max }) };
    }
    case "boundary_rotation": {
      const [fa, fb] = s.features;
      const a = numericColumn(table, fa, s.kind), b = numericColumn(table, fb, s.kind);
      const y = copyColumn(table[s.target] ?? numericColumn(table, s.target, s.kind));
      const [neg, pos] = binaryLabels(y);
      const sa = scale(fa), sb = scale(fb);
      const x = new Float64Array(n * 2);
      const labels = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        x[2 * i] = Number.isFinite(a[i]) ? (a[i] - sa.mean) / sa.std : 0;
        x[2 * i + 1] = Number.isFinite(b[i]) ? (b[i] - sb.mean) / sb.std : 0;
        labels[i] = y[i] === pos ? 1 : 0;
      }
      const fit = fitLogistic(x, 2, labels, { l2: 1e-3 });
      const theta = (s.degrees * intensity * Math.PI) / 180;
      const [w0, w1] = fit.weights;
      const r0 = w0 * Math.cos(theta) - w1 * Math.sin(theta);
      const r1 = w0 * Math.sin(theta) + w1 * Math.cos(theta);
      let hit = 0;
      for (let i = 0; i < n; i++) {
        const label = fit.intercept + r0 * x[2 * i] + r1 * x[2 * i + 1] > 0 ? pos : neg;
        if (label !== y[i]) hit++;
        setLabel(y, i, label);
      }
      out[s.target] = y;
      return {
        table: out,
        truth: truth([s.target, fa, fb], hit, { degrees: s.degrees * intensity }),
      };
    }
    case "rule_replacement": {
      const x = numericColumn(table, s.column, s.kind);
      const y = copyColumn(table[s.target] ?? numericColumn(table, s.target, s.kind));
      const [neg, pos] = binaryLabels(y);
      const [hi, lo] = s.above === "positive" ? [pos, neg] : [neg, pos];
      let hit = 0;
      for (let i = 0; i < n; i++) {
        if (intensity < 1 && rng.next() >= intensity) continue;
        const label = x[i] > s.threshold ? hi : lo;
        if (label !== y[i]) hit++;
        setLabel(y, i, label);
      }
      out[s.target] = y;
      return { table: out, truth: truth([s.target, s.column], hit, { threshold: s.threshold }) };
    }
  }
}

/** A scheduled drift in a batch stream. */
export const DriftEvent = z.object({
  atBatch: z.number().int().nonnegative(),
  drift: DriftSpec,
  pattern: z.enum(["sudden", "gradual", "incremental", "recurring"]).default("sudden"),
  /** Batches to ramp up over (gradual, incremental) or to stay on for (recurring). Default 1. */
  duration: z.number().int().positive().default(1),
  /** Recurring: a new episode starts every `period` batches. */
  period: z.number().int().positive().optional(),
}).strict().refine((e) => e.pattern !== "recurring" || e.period !== undefined, {
  message: "a recurring event needs a period",
  path: ["period"],
});
export type DriftEvent = z.input<typeof DriftEvent>;

/** Options of temporalBatches. */
export const BatchStreamOptions = z.object({
  batchSize: z.number().int().positive(),
  timeColumn: z.string().optional(),
  events: z.array(DriftEvent).default([]),
  seed: z.number().int().default(0),
}).strict();
export type BatchStreamOptions = z.input<typeof BatchStreamOptions>;

/** What happened to one batch: each active event with its intensity and mixing probability. */
export interface BatchTruth {
  drifted: boolean;
  events: (InjectionTruth & { event: number; pattern: string; mixing: number })[];
}

/** One batch of the stream. */
export interface Batch {
  index: number;
  start: number;
  end: number;
  table: Table;
  truth: BatchTruth;
}

/** Intensity and mixing of an event at batch `b`, or null when it is not active. */
export function eventState(
  e: z.infer<typeof DriftEvent>,
  b: number,
): { intensity: number; mixing: number } | null {
  if (b < e.atBatch) return null;
  const since = b - e.atBatch;
  const ramp = Math.min(1, (since + 1) / e.duration);
  switch (e.pattern) {
    case "sudden":
      return { intensity: 1, mixing: 1 };
    case "gradual":
      return { intensity: 1, mixing: ramp };
    case "incremental":
      return { intensity: ramp, mixing: 1 };
    case "recurring":
      return since % (e.period as number) < e.duration ? { intensity: 1, mixing: 1 } : null;
  }
}

/** Sorts a table by a numeric or string column, ascending. */
function sortBy(table: Table, name: string): Table {
  const c = table[name];
  if (c === undefined) throw new RangeError(`temporalBatches: no time column "${name}"`);
  const idx = Array.from({ length: c.length }, (_, i) => i);
  idx.sort((a, b) => {
    const x = c[a] ?? "", y = c[b] ?? "";
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  return takeRows(table, idx);
}

/**
 * The batch stream of a table (in time order when `timeColumn` is given) with scheduled drift
 * events and each batch's ground truth. Column scales are measured once on the whole table, so a
 * shift of k·σ means the same in every batch.
 */
export function* temporalBatches(table: Table, options: BatchStreamOptions): Generator<Batch> {
  const o = BatchStreamOptions.parse(options);
  const ordered = o.timeColumn ? sortBy(table, o.timeColumn) : table;
  const n = rowCount(ordered);
  const scales: Record<string, ColumnScale> = {};
  for (const [name, c] of Object.entries(ordered)) {
    if (isNumericColumn(c)) scales[name] = scaleOf(c);
  }
  for (let index = 0, start = 0; start < n; index++, start += o.batchSize) {
    const end = Math.min(n, start + o.batchSize);
    const { table: batch, truth } = applyEvents(
      sliceRows(ordered, start, end),
      o.events,
      index,
      o.seed,
      scales,
    );
    yield { index, start, end, table: batch, truth };
  }
}

/**
 * Injects the events active at batch `index` into one batch (gradual events mix drifted rows in
 * with their ramping probability); returns the batch and its ground truth. `scales` fixes what σ
 * means (measure it on the reference, not the batch).
 */
export function applyEvents(
  batch: Table,
  events: DriftEvent[],
  index: number,
  seed: number,
  scales?: Record<string, ColumnScale>,
): { table: Table; truth: BatchTruth } {
  const parsed = events.map((e) => DriftEvent.parse(e));
  const n = rowCount(batch);
  const truthEvents: BatchTruth["events"] = [];
  parsed.forEach((e, k) => {
    const state = eventState(e, index);
    if (!state) return;
    const eventSeed = seed * 1_000_003 + index * 7919 + k;
    const injected = injectDrift(batch, e.drift, {
      seed: eventSeed,
      intensity: state.intensity,
      scales,
    });
    let rows = injected.truth.rowsAffected;
    if (state.mixing < 1) {
      const rng = new Random(eventSeed ^ 0x5bd1e995);
      const take = new Uint8Array(n);
      let fromDrifted = 0;
      for (let i = 0; i < n; i++) {
        take[i] = rng.next() < state.mixing ? 1 : 0;
        fromDrifted += take[i];
      }
      const mixed: Record<string, Column> = {};
      for (const [name, c] of Object.entries(batch)) {
        const d = injected.table[name];
        const m = copyColumn(c);
        for (let i = 0; i < n; i++) if (take[i]) (m as (string | number | null)[])[i] = d[i];
        mixed[name] = m;
      }
      batch = mixed;
      rows = Math.round((rows * fromDrifted) / Math.max(1, n));
    } else batch = injected.table;
    truthEvents.push({
      ...injected.truth,
      rowsAffected: rows,
      event: k,
      pattern: e.pattern,
      mixing: state.mixing,
    });
  });
  return { table: batch, truth: { drifted: truthEvents.length > 0, events: truthEvents } };
}
