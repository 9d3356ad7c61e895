/**
 * Drift injection with ground truth: seeded, pure functions that return a changed copy of a table
 * and a record of what they did, so an experiment can score which drifts a monitor catches.
 *
 * - covariate: mean shift by k·σ, variance scaling, added noise, missing values, outliers, swapped
 *   category frequencies, unseen categories;
 * - prior (label) shift: rows resampled to a target class balance;
 * - concept: labels flipped in a region of feature space, a rotated linear decision boundary, a
 *   replaced labelling rule. These KEEP the positive-label share unless asked otherwise
 *   (`positiveShare: "keep"` by default; a number sets it; `"free"` lets the rule decide), so a
 *   concept change is not also a prior shift: the rule's score is thresholded at the quantile that
 *   keeps the share. An injection whose labels end up one class only throws.
 *
 * Every truth records the magnitude (`magnitude` with its `unit`: σ, factor, share, degrees…) and,
 * for label changes, the positive share before and after and the share of labels changed.
 * - patterns in time ({@link temporalBatches}): sudden, gradual (mixing probability ramps),
 *   incremental (magnitude ramps), recurring.
 *
 * Every spec is zod data, so a DAG's conf can carry an experiment. Same seed, same output.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { injectDrift } from "./inject.ts";
 * const distance = Float64Array.of(100, 200, 300, 400); // σ = √12500 ≈ 112
 * const batch = { distance, origin: ["SEA", "SFO", "SEA", "LAX"] };
 * const spec = { kind: "mean_shift", column: "distance", k: 1 } as const; // by one σ
 * const { table, truth } = injectDrift(batch, spec, { seed: 7 });
 * assert.equal(truth.family, "covariate");
 * assert.equal(truth.rowsAffected, 4); // every row
 * assert.ok(Math.abs(Number(table.distance[0]) - (100 + Math.sqrt(12_500))) < 1e-9);
 * assert.equal(distance[0], 100); // the input is not changed
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
} from "../../models/core/table.ts";
import { Random } from "../../models/core/random.ts";

const column = z.string().min(1);
const share = z.number().min(0).max(1);
/**
 * The positive-label share after a label change: "keep" the batch's (default), a number, or "free"
 * (whatever the rule gives).
 */
const PositiveShare = z.union([z.literal("keep"), z.literal("free"), share]);
export type PositiveShare = z.infer<typeof PositiveShare>;

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
    positiveShare: PositiveShare.default("keep"),
    positiveLabel: z.string().optional(),
  }).strict(),
  z.object({
    kind: z.literal("boundary_rotation"),
    target: column,
    features: z.tuple([column, column]),
    degrees: z.number(),
    positiveShare: PositiveShare.default("keep"),
    positiveLabel: z.string().optional(),
  }).strict(),
  z.object({
    kind: z.literal("rule_replacement"),
    target: column,
    column,
    /**
     * A fixed threshold (needs `positiveShare: "free"`, as it sets the share itself); without it
     * the cut is the quantile of `column` that gives the positive share.
     */
    threshold: z.number().optional(),
    /** The label given to rows above the threshold (the others get the other label). */
    above: z.enum(["positive", "negative"]).default("positive"),
    /** Default "keep" (or "free" when a threshold is given and nothing else is asked). */
    positiveShare: PositiveShare.optional(),
    positiveLabel: z.string().optional(),
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
  /** How big the change is, in `unit` (k·σ, a factor, a share of rows, degrees…). */
  magnitude: number;
  unit: "sd" | "factor" | "share" | "degrees";
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
    magnitude: number,
    unit: InjectionTruth["unit"],
  ): InjectionTruth => ({
    kind: s.kind,
    family: FAMILY[s.kind],
    columns,
    intensity,
    rowsAffected,
    magnitude,
    unit,
    details,
  });
  const scale = (name: string) =>
    options.scales?.[name] ?? scaleOf(numericColumn(table, name, s.kind));
  switch (s.kind) {
    case "mean_shift": {
      const src = numericColumn(table, s.column, s.kind);
      const delta = s.k * intensity * scale(s.column).std;
      out[s.column] = src.map((v) => v + delta);
      return { table: out, truth: truth([s.column], n, { delta }, s.k * intensity, "sd") };
    }
    case "variance_scale": {
      const src = numericColumn(table, s.column, s.kind);
      const { mean } = scale(s.column);
      const f = s.factor ** intensity;
      out[s.column] = src.map((v) => mean + (v - mean) * f);
      return { table: out, truth: truth([s.column], n, { factor: f }, f, "factor") };
    }
    case "noise": {
      const src = numericColumn(table, s.column, s.kind);
      const sd = s.k * intensity * scale(s.column).std;
      out[s.column] = src.map((v) => v + sd * rng.normal());
      return { table: out, truth: truth([s.column], n, { noiseStd: sd }, s.k * intensity, "sd") };
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
      return {
        table: out,
        truth: truth(
          [s.column],
          hit,
          { share: s.share * intensity },
          hit / Math.max(1, n),
          "share",
        ),
      };
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
      return {
        table: out,
        truth: truth(
          [s.column],
          hit,
          { share: s.share * intensity, k: s.k },
          hit / Math.max(1, n),
          "share",
        ),
      };
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
      return {
        table: out,
        truth: truth([s.column], hit, { a: s.a, b: s.b }, hit / Math.max(1, n), "share"),
      };
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
        truth: truth(
          [s.column],
          hit,
          { label: s.label, share: s.share * intensity },
          hit / Math.max(1, n),
          "share",
        ),
      };
    }
    case "prior_shift": {
      const y = table[s.target];
      if (y === undefined) {
        throw new RangeError(`prior_shift: the table has no target column "${s.target}"`);
      }
      const [neg, pos] = binaryLabels(y, s.positiveLabel);
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
      assertBothClasses(s.kind, n, nPos, neg, pos);
      const rows = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        rows[i] = i < nPos ? posRows[rng.int(posRows.length)] : negRows[rng.int(negRows.length)];
      }
      const order = rng.permutation(n).map((i) => rows[i]);
      return {
        table: takeRows(table, order),
        truth: truth(
          [s.target],
          n,
          { positiveShareBefore: before, positiveShare: nPos / Math.max(1, n) },
          Math.abs(nPos / Math.max(1, n) - before),
          "share",
        ),
      };
    }
    case "label_flip": {
      const x = numericColumn(table, s.column, s.kind);
      const lab = labelsOf(table, s.target, s.kind, s.positiveLabel);
      const flip = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        if (lab.y[i] < 0 || !(x[i] >= s.min && x[i] <= s.max)) continue;
        if (rng.next() < s.share * intensity) flip[i] = 1;
      }
      const next = Float64Array.from(lab.y, (v, i) => (flip[i] ? 1 - v : v));
      const want = wantedPositives(s.kind, lab, s.positiveShare);
      let compensated = 0;
      if (want !== null) {
        // restore the share outside the region: flip random rows of the class that grew
        let diff = count(next, 1) - want;
        const from = diff > 0 ? 1 : 0;
        const candidates = Array.from(rng.permutation(n)).filter((i) =>
          !flip[i] && next[i] === from && !(x[i] >= s.min && x[i] <= s.max)
        );
        if (Math.abs(diff) > candidates.length) {
          throw new RangeError(
            `label_flip: keeping the positive share needs ${
              Math.abs(diff)
            } label changes outside [${s.min}, ${s.max}] of "${s.column}", but only ${candidates.length} rows can take one; narrow the region, lower share, or pass positiveShare: "free"`,
          );
        }
        for (const i of candidates) {
          if (diff === 0) break;
          next[i] = 1 - from;
          diff += from === 1 ? -1 : 1;
          compensated++;
        }
      }
      return finishLabels(s.kind, table, s.target, lab, next, {
        columns: [s.target, s.column],
        details: { min: s.min, max: s.max, share: s.share * intensity, compensated },
        magnitude: (n: number, changed: number) => changed / Math.max(1, n),
        unit: "share",
        truth,
      });
    }
    case "boundary_rotation": {
      const [fa, fb] = s.features;
      const a = numericColumn(table, fa, s.kind), b = numericColumn(table, fb, s.kind);
      const lab = labelsOf(table, s.target, s.kind, s.positiveLabel);
      const sa = scale(fa), sb = scale(fb);
      const rows = labelledRows(lab.y);
      const x = new Float64Array(rows.length * 2);
      const labels = new Float64Array(rows.length);
      rows.forEach((i, r) => {
        x[2 * r] = Number.isFinite(a[i]) ? (a[i] - sa.mean) / sa.std : 0;
        x[2 * r + 1] = Number.isFinite(b[i]) ? (b[i] - sb.mean) / sb.std : 0;
        labels[r] = lab.y[i];
      });
      const fit = fitLogistic(x, 2, labels, { l2: 1e-3 });
      const theta = (s.degrees * intensity * Math.PI) / 180;
      const [w0, w1] = fit.weights;
      const r0 = w0 * Math.cos(theta) - w1 * Math.sin(theta);
      const r1 = w0 * Math.sin(theta) + w1 * Math.cos(theta);
      // Each row keeps its own noise: a latent uniform u consistent with its label under the fitted
      // model (u < p for positives), then its new label is u < σ(rotated score + b'). At 0° nothing
      // changes; b' = the fitted intercept ("free") or the quantile that keeps the share.
      const latent = new Float64Array(rows.length);
      rows.forEach((i, r) => {
        const z = fit.intercept + w0 * x[2 * r] + w1 * x[2 * r + 1];
        const p = 1 / (1 + Math.exp(-z));
        const u = lab.y[i] === 1 ? p * rng.next() : p + (1 - p) * rng.next();
        latent[r] = Math.log(u) - Math.log1p(-u) - (r0 * x[2 * r] + r1 * x[2 * r + 1]);
      });
      const want = wantedPositives(s.kind, lab, s.positiveShare);
      const next = Float64Array.from(lab.y);
      const order = Array.from(rows.keys()).sort((p, q) => latent[p] - latent[q] || p - q);
      let cut = fit.intercept;
      if (want === null) rows.forEach((i, r) => (next[i] = latent[r] < fit.intercept ? 1 : 0));
      else {
        order.forEach((r, rank) => (next[rows[r]] = rank < want ? 1 : 0));
        cut = want > 0 ? latent[order[want - 1]] : -Infinity;
      }
      return finishLabels(s.kind, table, s.target, lab, next, {
        columns: [s.target, fa, fb],
        details: { degrees: s.degrees * intensity, intercept: fit.intercept, cut },
        magnitude: () => s.degrees * intensity,
        unit: "degrees",
        truth,
      });
    }
    case "rule_replacement": {
      const x = numericColumn(table, s.column, s.kind);
      const lab = labelsOf(table, s.target, s.kind, s.positiveLabel);
      const mode = s.positiveShare ?? (s.threshold === undefined ? "keep" : undefined);
      if (mode === undefined) {
        throw new RangeError(
          `rule_replacement: a fixed threshold (${s.threshold}) sets the positive share itself; ` +
            `pass positiveShare: "free" to use it, or drop threshold to cut "${s.column}" at the quantile that keeps the share`,
        );
      }
      if (mode === "free" && s.threshold === undefined) {
        throw new RangeError(`rule_replacement: positiveShare "free" needs a threshold`);
      }
      // the relabelled rows: all, or a random `intensity` share of them
      const chosen = labelledRows(lab.y).filter(() => intensity >= 1 || rng.next() < intensity);
      const picked = new Uint8Array(n);
      for (const i of chosen) picked[i] = 1;
      const next = Float64Array.from(lab.y);
      const [hi, lo] = s.above === "positive" ? [1, 0] : [0, 1];
      let threshold = s.threshold ?? NaN;
      if (mode === "free") { for (const i of chosen) next[i] = x[i] > threshold ? hi : lo; }
      else {
        // positives among the chosen rows: enough to reach the wanted count overall
        const want = wantedPositives(s.kind, lab, mode)!;
        let others = 0;
        for (let i = 0; i < n; i++) if (!picked[i] && lab.y[i] === 1) others++;
        const k = Math.min(chosen.length, Math.max(0, want - others));
        const finite = (v: number) => (Number.isFinite(v) ? v : -Infinity);
        // rank by x, the side labelled positive first; missing x ranks last
        const ranked = [...chosen].sort((p, q) =>
          s.above === "positive"
            ? finite(x[q]) - finite(x[p]) || p - q
            : finite(-x[q]) - finite(-x[p]) || p - q
        );
        ranked.forEach((i, rank) => (next[i] = rank < k ? 1 : 0));
        threshold = k > 0 ? x[ranked[k - 1]] : NaN;
      }
      return finishLabels(s.kind, table, s.target, lab, next, {
        columns: [s.target, s.column],
        details: { threshold, relabelled: chosen.length },
        magnitude: (n: number, changed: number) => changed / Math.max(1, n),
        unit: "share",
        truth,
      });
    }
  }
}

/** A binary target as 0/1 (−1 where the label is missing) with its two label values. */
interface Labels {
  y: Float64Array;
  neg: string | number;
  pos: string | number;
  positives: number;
  labelled: number;
}

function labelsOf(table: Table, target: string, kind: string, positive?: string): Labels {
  const col = table[target];
  if (col === undefined) {
    throw new RangeError(
      `${kind}: the table has no target column "${target}" (it has ${
        Object.keys(table).join(", ")
      })`,
    );
  }
  const [neg, pos] = binaryLabels(col, positive);
  let positives = 0, labelled = 0;
  const y = Float64Array.from({ length: col.length }, (_, i) => {
    const v = col[i];
    if (v === null || (typeof v === "number" && Number.isNaN(v))) return -1;
    labelled++;
    if (v === pos) {
      positives++;
      return 1;
    }
    return 0;
  });
  return { y, neg, pos, positives, labelled };
}

function labelledRows(y: Float64Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < y.length; i++) if (y[i] >= 0) out.push(i);
  return out;
}

function count(y: Float64Array, v: number): number {
  let c = 0;
  for (const x of y) if (x === v) c++;
  return c;
}

/** The positive count a label change must end with, or null when the rule decides ("free"). */
function wantedPositives(kind: string, lab: Labels, mode: PositiveShare): number | null {
  if (mode === "free") return null;
  const want = mode === "keep" ? lab.positives : Math.round(mode * lab.labelled);
  if (lab.positives === 0 || lab.positives === lab.labelled) {
    throw new RangeError(
      `${kind}: the batch's labels are one class only (${lab.positives} positive of ${lab.labelled}); a label change needs both classes`,
    );
  }
  return want;
}

function assertBothClasses(
  kind: string,
  labelled: number,
  positives: number,
  neg: string | number,
  pos: string | number,
): void {
  if (labelled > 0 && (positives === 0 || positives === labelled)) {
    throw new RangeError(
      `${kind}: the injected labels would all be "${
        positives === 0 ? neg : pos
      }" (${labelled} rows); a binary target needs both classes — keep the positive share (positiveShare: "keep") or ask for a share strictly between 0 and 1`,
    );
  }
}

/** Writes the new 0/1 labels back as the target's values, checks both classes, and builds the truth. */
function finishLabels(
  kind: Spec["kind"],
  table: Table,
  target: string,
  lab: Labels,
  next: Float64Array,
  o: {
    columns: string[];
    details: Record<string, number | string>;
    magnitude: (n: number, changed: number) => number;
    unit: InjectionTruth["unit"];
    truth: (
      columns: string[],
      rowsAffected: number,
      details: Record<string, number | string>,
      magnitude: number,
      unit: InjectionTruth["unit"],
    ) => InjectionTruth;
  },
): { table: Table; truth: InjectionTruth } {
  const positives = count(next, 1);
  assertBothClasses(kind, lab.labelled, positives, lab.neg, lab.pos);
  const out = copyColumn(table[target]);
  let changed = 0;
  for (let i = 0; i < next.length; i++) {
    if (next[i] < 0) continue;
    if (next[i] !== lab.y[i]) changed++;
    setLabel(out, i, next[i] === 1 ? lab.pos : lab.neg);
  }
  const share = (k: number) => k / Math.max(1, lab.labelled);
  return {
    table: { ...table, [target]: out },
    truth: o.truth(
      o.columns,
      changed,
      {
        ...o.details,
        positiveShareBefore: share(lab.positives),
        positiveShare: share(positives),
        labelsChanged: share(changed),
      },
      o.magnitude(lab.labelled, changed),
      o.unit,
    ),
  };
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
