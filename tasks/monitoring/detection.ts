/**
 * The detection benchmark in the manner of "Failing Loudly" (Rabanser, Günnemann and Lipton, 2019),
 * on a time-ordered labelled data set such as the flights reference: a model is trained on the
 * earlier part; the later part (its out-of-time holdout) is split at random into the monitoring
 * reference and a pool of rows from the same period. Batches of n rows drawn from the pool are the
 * true null (clean: any flag is a false positive); the same batches with a shift injected measure
 * power; batches of later periods (the season's natural drift: real, mostly harmless) are reported
 * apart. Every batch is judged by every detector:
 *
 * - `policy`: the default policy's drift verdict (a significant change in a feature, a data-quality
 *   column or the prediction, after its multiple-testing correction);
 * - `evidently`: the Evidently preset's rules (a batch is flagged when any column drifts);
 * - `per_column`: the per-column tests on the features alone, Bonferroni-corrected;
 * - `prediction`: drift of the model's scores (BBSD);
 * - `domain_classifier`: the domain classifier's permutation p-value < 0.05;
 * - `severity`: the graded verdict (labels included) is minor or above.
 *
 * `drift_experiment` and `deno task bench detection` both run it (one implementation); every batch
 * is judged by {@link judgeBatch}, as `drift_monitoring` judges its batches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import {
 *   type BenchShift,
 *   benchGrid,
 *   runGridCell,
 *   setupBench,
 *   summariseDetection,
 * } from "./detection.ts";
 * // a small time-ordered labelled data set: late flights are the long ones, mostly
 * const rng = new Random(1);
 * const n = 2000;
 * const distance = Float64Array.from({ length: n }, () => 800 + 300 * rng.normal());
 * const data = {
 *   date: Float64Array.from({ length: n }, (_, i) => i * 3_600_000),
 *   distance,
 *   origin: Array.from({ length: n }, () => ["SEA", "SFO", "LAX"][rng.int(3)]),
 *   late: Array.from(distance, (d) => (d + 300 * rng.normal() > 900 ? "yes" : "no")),
 * };
 * const setup = setupBench(data, null, {
 *   features: ["distance", "origin"],
 *   trainRows: 800,
 *   rounds: 10,
 *   referenceRows: 400,
 * });
 * const shifts: BenchShift[] = [
 *   { name: "distance +1σ", drift: { kind: "mean_shift", column: "distance", k: 1 } },
 * ];
 * const cells = benchGrid({ shifts, sizes: [200], seeds: 1, clean: 1, later: false });
 * const verdicts = cells.map((c) => runGridCell(setup, c, { shifts }));
 * const summary = summariseDetection(verdicts);
 * const power = summary.power.find((p) => p.detector === "policy")!;
 * assert.equal(power.rate, 1); // the shifted batch is flagged
 * const fpr = summary.fpr.find((f) => f.detector === "policy")!;
 * assert.equal(fpr.runs, 1); // one clean batch judged
 * ```
 */
import { z } from "zod";
import { predictModel, type TrainedModel, trainModel } from "../../models/model.ts";
import {
  isNumericColumn,
  rowCount,
  sliceRows,
  type Table,
  takeRows,
} from "../../models/core/table.ts";
import { domainClassifier, type FeatureColumn } from "../drift/domain_classifier.ts";
import { type ColumnScale, DriftSpec, injectDrift, scaleOf } from "../drift/inject.ts";
import { fnv1a, Random } from "../../models/core/random.ts";
import { type Action, actionFor, type Grade, judgeBatch, type JudgePolicy } from "./judge.ts";

/** A named shift to inject. */
export const BenchShift = z.object({ name: z.string().min(1), drift: DriftSpec });
export type BenchShift = z.input<typeof BenchShift>;

/** The shifts of the benchmark on the flights columns. */
export const DEFAULT_SHIFTS: BenchShift[] = [
  { name: "distance +0.1σ", drift: { kind: "mean_shift", column: "distance", k: 0.1 } },
  { name: "distance +0.5σ", drift: { kind: "mean_shift", column: "distance", k: 0.5 } },
  { name: "distance +1σ", drift: { kind: "mean_shift", column: "distance", k: 1 } },
  {
    name: "distance variance ×1.5",
    drift: { kind: "variance_scale", column: "distance", factor: 1.5 },
  },
  { name: "distance 10% missing", drift: { kind: "missing", column: "distance", share: 0.1 } },
  { name: "origin 5% unseen", drift: { kind: "unseen_category", column: "origin", share: 0.05 } },
  { name: "origin 20% unseen", drift: { kind: "unseen_category", column: "origin", share: 0.2 } },
  { name: "late share → 35%", drift: { kind: "prior_shift", target: "late", positiveShare: 0.35 } },
  {
    name: "concept: boundary hour×distance 90°",
    drift: {
      kind: "boundary_rotation",
      target: "late",
      features: ["hour", "distance"],
      degrees: 90,
    },
  },
];

/** The detectors, in the order tables show them. */
export const DETECTORS = [
  "policy",
  "evidently",
  "per_column",
  "prediction",
  "domain_classifier",
  "severity",
] as const;
export type Detector = typeof DETECTORS[number];

/**
 * The policy the benchmark judges with: the default policy, with one bootstrap round for the
 * performance metrics' reported intervals — the default preset grades by the DeLong AUC-drop and
 * label-share tests, never by those intervals, so its grades are the same as with 200 rounds, and
 * the bootstrap would be most of the benchmark's time.
 */
export const BENCH_POLICY: JudgePolicy = { bootstrapRounds: 1 };

/** The column the model's scores are put in. */
export const SCORE_COLUMN = "__score";

/** Options of {@link setupBench}. */
export const BenchSetupOptions = z.object({
  features: z.array(z.string()).min(1).default([
    "day_of_week",
    "hour",
    "distance",
    "origin",
    "destination",
  ]),
  target: z.string().default("late"),
  positiveLabel: z.string().default("yes"),
  timeColumn: z.string().default("date"),
  /** Share of the data (earliest by time) the model is trained on; the rest is the reference period. */
  trainShare: z.number().gt(0).lt(1).default(0.5),
  trainRows: z.number().int().positive().default(40_000),
  rounds: z.number().int().positive().default(60),
  /** Rows of the reference period used as the monitoring reference (the rest is the pool). */
  referenceRows: z.number().int().positive().default(20_000),
  /** Rows of the stream per later period (a week of flights ≈ 116,000). */
  periodRows: z.number().int().positive().default(116_000),
  /** Later periods taken from the stream (every `periodStep`-th period). */
  periods: z.number().int().nonnegative().default(12),
  seed: z.number().int().default(1),
});
export type BenchSetupOptions = z.input<typeof BenchSetupOptions>;

/** The data and model a benchmark judges with. */
export interface BenchSetup {
  features: string[];
  target: string;
  positiveLabel: string;
  model: TrainedModel;
  /** The positive share of the model's training rows: the prior its probabilities are calibrated to. */
  calibratedShare: number;
  /** The monitoring reference, scored (column {@link SCORE_COLUMN}). */
  reference: Table;
  /** Rows of the reference period not in the reference (unscored): the true null. */
  pool: Table;
  /** Later periods of the stream (unscored), oldest first. */
  later: { name: string; rows: Table }[];
  /** σ of the numeric columns, measured on the reference: what a k·σ shift means. */
  scales: Record<string, ColumnScale>;
}

function columnsOf(t: Table, names: string[], where: string): Table {
  const out: Record<string, Table[string]> = {};
  for (const c of names) {
    if (!(c in t)) {
      throw new RangeError(
        `${where}: column "${c}" is missing (it has ${Object.keys(t).join(", ")})`,
      );
    }
    out[c] = t[c];
  }
  return out;
}

function byTime(t: Table, column: string): Table {
  const c = t[column];
  if (c === undefined || !isNumericColumn(c)) return t;
  for (let i = 1; i < c.length; i++) {
    if (c[i - 1] > c[i]) {
      return takeRows(t, Float64Array.from(c.keys()).sort((a, b) => c[a] - c[b]));
    }
  }
  return t;
}

/** The table with the model's probability of the positive class in {@link SCORE_COLUMN}. */
export function withScores(model: TrainedModel, t: Table, positiveLabel: string): Table {
  const classes = model.spec.target.classes ?? [];
  const k = classes.indexOf(positiveLabel);
  if (k < 0) {
    throw new RangeError(
      `the model's classes are ${
        classes.join(", ")
      }; the positive label "${positiveLabel}" is not one`,
    );
  }
  return { ...t, [SCORE_COLUMN]: predictModel(model, t).probabilities![k] };
}

/**
 * Trains the model on the earliest `trainShare` of `data` (by time), splits the rest at random into
 * the reference and the pool, and cuts `stream` (when given) into later periods.
 */
export function setupBench(
  data: Table,
  stream: Table | null,
  options: BenchSetupOptions = {},
): BenchSetup {
  const o = BenchSetupOptions.parse(options);
  const columns = [...o.features, o.target];
  const ordered = byTime(data, o.timeColumn);
  const n = rowCount(ordered);
  const cut = Math.round(n * o.trainShare);
  const rng = new Random(o.seed);
  const trainPart = columnsOf(sliceRows(ordered, 0, cut), columns, "training data");
  const train = takeRows(trainPart, rng.sample(cut, o.trainRows));
  const { model } = trainModel(train, {
    target: o.target,
    seed: o.seed,
    validFraction: 0,
    params: { nEstimators: o.rounds },
  });
  const rest = columnsOf(sliceRows(ordered, cut, n), columns, "reference period");
  const order = rng.permutation(n - cut);
  const nRef = Math.min(o.referenceRows, Math.floor((n - cut) / 2));
  const reference = withScores(model, takeRows(rest, order.subarray(0, nRef)), o.positiveLabel);
  const pool = takeRows(rest, order.subarray(nRef));
  const later: BenchSetup["later"] = [];
  if (stream) {
    const s = byTime(stream, o.timeColumn);
    const total = rowCount(s);
    const time = s[o.timeColumn];
    for (let p = 0; p < o.periods && (p + 1) * o.periodRows <= total; p++) {
      const rows = sliceRows(s, p * o.periodRows, (p + 1) * o.periodRows);
      const from = time && isNumericColumn(time)
        ? new Date(time[p * o.periodRows]).toISOString().slice(0, 10)
        : `rows ${p * o.periodRows}`;
      later.push({ name: `week of ${from}`, rows: columnsOf(rows, columns, "stream") });
    }
  }
  const y = train[o.target];
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === o.positiveLabel) positives++;
  return benchSetupOf({
    features: o.features,
    target: o.target,
    positiveLabel: o.positiveLabel,
    model,
    calibratedShare: positives / Math.max(1, y.length),
    reference,
    pool,
    later,
  });
}

/** A setup from its parts (e.g. read back from artifacts): measures the scales on the reference. */
export function benchSetupOf(parts: Omit<BenchSetup, "scales">): BenchSetup {
  const scales: Record<string, ColumnScale> = {};
  for (const c of parts.features) {
    const col = parts.reference[c];
    if (col !== undefined && isNumericColumn(col)) scales[c] = scaleOf(col);
  }
  return { ...parts, scales };
}

/** Every detector's verdict on one batch, the grade and the action it calls for. */
export interface BatchVerdict {
  flags: Record<Detector, boolean>;
  severity: Grade;
  action: Action;
  reasons: string[];
}

/** Judges a batch (unscored) with every detector. */
function judgeWithDetectors(
  setup: BenchSetup,
  batch: Table,
  seed: number,
  policy: JudgePolicy = {},
): BatchVerdict {
  const scored = withScores(setup.model, batch, setup.positiveLabel);
  const common = {
    reference: setup.reference,
    current: scored,
    features: setup.features,
    seed,
  };
  const j = judgeBatch({
    ...common,
    target: setup.target,
    prediction: SCORE_COLUMN,
    positiveLabel: setup.positiveLabel,
    policy,
  });
  const evidently = judgeBatch({ ...common, policy: { ...policy, preset: "evidently" } });
  const featureTests = j.report.columns.filter((c) => setup.features.includes(c.column));
  const bonferroni = 0.05 / Math.max(1, featureTests.length);
  const dcColumns: FeatureColumn[] = setup.features.map((name) => ({
    name,
    type: isNumericColumn(setup.reference[name]) ? "numeric" : "categorical",
  }));
  const dc = domainClassifier(setup.reference, scored, dcColumns, { seed });
  return {
    flags: {
      policy: j.driftedColumns.length > 0,
      evidently: evidently.driftedColumns.length > 0,
      per_column: featureTests.some((c) => c.pValue !== null && c.pValue < bonferroni),
      prediction: j.predictionDrifted,
      domain_classifier: dc.pValue < 0.05,
      severity: j.severity !== "none",
    },
    severity: j.severity,
    action: actionFor(j.severity),
    reasons: j.reasons,
  };
}

/** One batch of the grid: a shifted batch, a clean one from the reference period, or a later one. */
export interface GridCell {
  kind: "shift" | "clean" | "later";
  /** The shift's name (kind shift). */
  shift?: string;
  n: number;
  seed: number;
  /** Which clean batch of this seed and size (kind clean). */
  replicate?: number;
}

/** The cells of a grid: per size and seed, each shift, `clean` clean batches and one later batch. */
export function benchGrid(
  o: {
    shifts?: readonly BenchShift[];
    sizes?: readonly number[];
    seeds?: number;
    clean?: number;
    later?: boolean;
  } = {},
): GridCell[] {
  const shifts = o.shifts ?? DEFAULT_SHIFTS, sizes = o.sizes ?? [100, 1000, 10_000];
  const cells: GridCell[] = [];
  for (const n of sizes) {
    for (let seed = 0; seed < (o.seeds ?? 20); seed++) {
      for (const s of shifts) cells.push({ kind: "shift", shift: s.name, n, seed });
      for (let r = 0; r < (o.clean ?? 2); r++) cells.push({ kind: "clean", n, seed, replicate: r });
      if (o.later ?? true) cells.push({ kind: "later", n, seed });
    }
  }
  return cells;
}

/** A judged cell. */
export interface CellVerdict extends GridCell, BatchVerdict {
  /** The later period's name (kind later). */
  period?: string;
}

/** Judges one cell of the grid. */
export function runGridCell(
  setup: BenchSetup,
  cell: GridCell,
  { shifts = DEFAULT_SHIFTS, policy = BENCH_POLICY }: {
    shifts?: readonly BenchShift[];
    policy?: JudgePolicy;
  } = {},
): CellVerdict {
  const key = fnv1a(`${cell.kind}|${cell.shift ?? ""}|${cell.replicate ?? 0}`);
  const seed = (cell.seed * 1_000_003 + cell.n * 7919 + key) >>> 0;
  const rng = new Random(seed);
  if (cell.kind === "later") {
    if (setup.later.length === 0) throw new RangeError("the setup has no later periods");
    const period = setup.later[cell.seed % setup.later.length];
    const batch = takeRows(period.rows, rng.sample(rowCount(period.rows), cell.n));
    return { ...cell, period: period.name, ...judgeWithDetectors(setup, batch, seed, policy) };
  }
  const clean = takeRows(setup.pool, rng.sample(rowCount(setup.pool), cell.n));
  if (cell.kind === "clean") return { ...cell, ...judgeWithDetectors(setup, clean, seed, policy) };
  const shift = shifts.find((s) => s.name === cell.shift);
  if (!shift) {
    throw new RangeError(
      `no shift named "${cell.shift}" (there are ${shifts.map((s) => s.name).join(", ")})`,
    );
  }
  const { table } = injectDrift(clean, shift.drift, { seed, scales: setup.scales });
  return { ...cell, ...judgeWithDetectors(setup, table, seed, policy) };
}

/** Power, false-positive rates and the later periods' figures of a set of judged cells. */
export interface DetectionSummary {
  /** Per shift × size × detector: the share of shifted batches flagged. */
  power: { shift: string; n: number; detector: Detector; runs: number; rate: number }[];
  /** Per size × detector: the share of clean same-period batches flagged. */
  fpr: { n: number; detector: Detector; runs: number; rate: number }[];
  /**
   * Per size: shares of later-period batches flagged (≥ minor), escalated (moderate, major or
   * concept) and graded prior (recalibrate), and the count of retrains.
   */
  later: {
    n: number;
    runs: number;
    flagged: number;
    escalated: number;
    prior: number;
    retrains: number;
  }[];
  /** Per size: the mean over shifts of the default policy's power (severity ≥ minor). */
  meanPower: { n: number; detector: Detector; rate: number }[];
}

/** Grades above minor other than prior (a prior shift is recalibrated, not escalated). */
export const ESCALATED: ReadonlySet<Grade> = new Set<Grade>(["moderate", "major", "concept"]);

const share = (xs: readonly boolean[]) => xs.length ? xs.filter(Boolean).length / xs.length : 0;

/** Summarises judged cells. */
export function summariseDetection(cells: readonly CellVerdict[]): DetectionSummary {
  const sizes = [...new Set(cells.map((c) => c.n))].sort((a, b) => a - b);
  const shifts = [...new Set(cells.filter((c) => c.kind === "shift").map((c) => c.shift!))];
  const power: DetectionSummary["power"] = [];
  const fpr: DetectionSummary["fpr"] = [];
  const later: DetectionSummary["later"] = [];
  const meanPower: DetectionSummary["meanPower"] = [];
  for (const n of sizes) {
    for (const detector of DETECTORS) {
      const rates: number[] = [];
      for (const shift of shifts) {
        const g = cells.filter((c) => c.kind === "shift" && c.shift === shift && c.n === n);
        if (g.length === 0) continue;
        const rate = share(g.map((c) => c.flags[detector]));
        rates.push(rate);
        power.push({ shift, n, detector, runs: g.length, rate });
      }
      if (rates.length) {
        meanPower.push({ n, detector, rate: rates.reduce((a, b) => a + b, 0) / rates.length });
      }
      const clean = cells.filter((c) => c.kind === "clean" && c.n === n);
      if (clean.length) {
        fpr.push({
          n,
          detector,
          runs: clean.length,
          rate: share(clean.map((c) => c.flags[detector])),
        });
      }
    }
    const l = cells.filter((c) => c.kind === "later" && c.n === n);
    if (l.length) {
      later.push({
        n,
        runs: l.length,
        flagged: share(l.map((c) => c.severity !== "none")),
        escalated: share(l.map((c) => ESCALATED.has(c.severity))),
        prior: share(l.map((c) => c.severity === "prior")),
        retrains: l.filter((c) => c.action === "retrain").length,
      });
    }
  }
  return { power, fpr, later, meanPower };
}
