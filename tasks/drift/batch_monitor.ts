/**
 * One batch's monitoring beyond the per-batch drift tests: performance WITHOUT labels (CBPE, with
 * prediction intervals), the sequential detectors' evidence across batches (their state is plain
 * JSON the stream stores), and — when the batch has labels, at once or late — the realized metrics
 * beside the estimate with the test of their difference (a concept signal).
 *
 * Sequential signals, each standardised to ≈ N(0, 1) under no change (sequential.ts):
 * - `column:<name>`: Φ⁻¹(1 − p) of the column's KS (numeric) or pooled χ² (categorical) p-value;
 * - `prediction`: Φ⁻¹(1 − p) of KS on the champion's scores;
 * - `roc_auc_estimated`: (null mean − estimated AUC) / null sd, the null from CBPE's estimate on
 *   `nullRounds` bootstrap samples of the reference at the batch's size (a drop is drift);
 * - `roc_auc_departure`: (estimated − realized) / se on batches with labels (a concept drift that
 *   grows slowly: the realized AUC falls below what the covariates predict). Always Page–Hinkley:
 *   the calibrator's own error is one offset shared by every batch, which CUSUM against a zero
 *   null mean would accumulate into false alarms (measured on flights: 12 in 1,200 clean batches)
 *   while Page–Hinkley's running mean absorbs it; the per-batch `comparison` test covers a
 *   departure present from the first labelled batch.
 * The family's false-alarm rate is stated as one ARL0 (`arl0`, default 200 batches ≈ 0.5 false
 * alarms per 100 clean batches over ALL detectors): each of the D detectors runs at ARL0 × D
 * (a union bound). All batches are compared with one reference, which correlates their
 * statistics slightly (more so when the batch is large beside the reference); keep the reference
 * several times the batch's size.
 *
 * Labels that arrive late: call `monitorBatch` when the batch comes (no labels: realized is null),
 * then `judgeLateLabels` with the stored result's estimate and state when its labels land.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { monitorBatch } from "./batch_monitor.ts";
 * // a calibrated champion's scores: each row is late with the probability its score says
 * const rng = new Random(1);
 * const rows = (n: number, labelled: boolean) => {
 *   const p_late = Float64Array.from({ length: n }, () => rng.next());
 *   const late = Array.from(p_late, (p) => (labelled ? (rng.next() < p ? "yes" : "no") : null));
 *   return { distance: Float64Array.from(p_late, (p) => 500 + 1000 * p), p_late, late };
 * };
 * const reference = rows(1000, true), batch = rows(300, false); // the batch's labels come later
 * const options = { target: "late", prediction: "p_late", columns: ["distance"], simulations: 50 };
 * const r = monitorBatch(reference, batch, options, null); // null: the stream's first batch
 * const auc = r.estimated.metrics.roc_auc; // { estimated, ciLow, ciHigh, … } without labels
 * assert.ok(auc.ciLow < 0.83 && 0.83 < auc.ciHigh); // such scores have an AUC of 5/6
 * assert.equal(r.realized, null);
 * assert.deepEqual(r.sequential.alarms, []); // e.g. ["column:distance"] after a drift
 * const next = monitorBatch(reference, rows(300, false), options, r.sequential.state);
 * assert.equal(next.sequential.state.batches, 2);
 * ```
 */
import { z } from "zod";
import { classLabels } from "../../models/core/columns.ts";
import { accuracy, f1, rocAuc } from "../../models/metrics.ts";
import { type Column, isNumericColumn, type Table } from "../../models/core/table.ts";
import { Random } from "../../models/core/random.ts";
import {
  CBPE_ASSUMPTION,
  type CbpeModel,
  compareEstimate,
  estimateAuc,
  estimateAucOfDraws,
  EstimateComparison,
  estimatePerformance,
  fitCbpe,
  PerformanceEstimate,
  scorePool,
} from "./cbpe.ts";
import { chiSquarePooledTest } from "./policy_stats.ts";
import {
  DetectorState,
  falseAlarmStatement,
  initDetector,
  nextDetector,
  nullModel,
  standardise,
  zFromPValue,
} from "./sequential.ts";
import { ksTest } from "./stattests.ts";

export const BatchMonitorOptions = z.object({
  target: z.string().min(1),
  /** The champion's score column (probability of the positive class). */
  prediction: z.string().min(1),
  /** The positive class of a text target (default: the last label in sorted order). */
  positiveLabel: z.string().optional(),
  /**
   * The reference's time column (a date, timestamp or number): CBPE's calibration-shift τ is
   * measured on time blocks in its order. Without it the reference's row order is its time order.
   */
  time: z.string().min(1).optional(),
  /** Feature columns watched by sequential detectors. */
  columns: z.array(z.string()).default([]),
  alpha: z.number().gt(0).lt(1).default(0.05),
  threshold: z.number().default(0.5),
  detector: z.enum(["cusum", "page_hinkley"]).default("cusum"),
  /** Family ARL0: batches between false alarms over all detectors together. */
  arl0: z.number().min(2).default(200),
  k: z.number().nonnegative().default(0.5),
  clip: z.number().positive().default(2.5),
  simulations: z.number().int().min(10).default(200),
  calibrationRounds: z.number().int().min(2).default(20),
  nullRounds: z.number().int().min(5).default(40),
  seed: z.number().int().default(0),
}).strict();
export type BatchMonitorOptions = z.input<typeof BatchMonitorOptions>;

/** The stream's sequential state: stored between batches, restart-safe. */
export const SequentialState = z.object({
  version: z.literal(1),
  batches: z.number().int().nonnegative(),
  arl0: z.number(),
  detectors: z.record(z.string(), DetectorState),
});
export type SequentialState = z.infer<typeof SequentialState>;

export const SequentialSignal = z.object({
  detector: z.string(),
  statistic: z.string(),
  value: z.number(),
  z: z.number(),
  cumulative: z.number(),
  threshold: z.number(),
  alarm: z.boolean(),
});
export type SequentialSignal = z.infer<typeof SequentialSignal>;

export const RealizedMetrics = z.object({
  rows: z.number().int(),
  roc_auc: z.number(),
  accuracy: z.number(),
  f1: z.number(),
});
export type RealizedMetrics = z.infer<typeof RealizedMetrics>;

const Comparisons = z.object({
  roc_auc: EstimateComparison,
  accuracy: EstimateComparison,
  f1: EstimateComparison,
});

export const SequentialResult = z.object({
  state: SequentialState,
  signals: z.array(SequentialSignal),
  alarms: z.array(z.string()),
  falseAlarmRate: z.string(),
});

export const BatchMonitorResult = z.object({
  rows: z.number().int(),
  labelledRows: z.number().int(),
  estimated: PerformanceEstimate,
  /** Null until the batch has labels of both classes. */
  realized: RealizedMetrics.nullable(),
  /** Estimated (on the labelled rows) against realized; null without labels. */
  comparison: Comparisons.nullable(),
  sequential: SequentialResult,
  assumption: z.string(),
});
export type BatchMonitorResult = z.infer<typeof BatchMonitorResult>;

type Opts = z.output<typeof BatchMonitorOptions>;

function column(table: Table, name: string, side: string): Column {
  const c = table[name];
  if (c === undefined) {
    throw new RangeError(
      `monitorBatch: the ${side} table has no column "${name}"; it has ${
        Object.keys(table).join(", ")
      }`,
    );
  }
  return c;
}

/** 0/1 labels (NaN where missing) of a target column. */
function labels(c: Column, positive: string | undefined): Float64Array {
  return Float64Array.from({ length: c.length }, (_, i) => {
    const v = c[i];
    if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) return NaN;
    return typeof v === "number" ? (v === 1 ? 1 : 0) : v === positive ? 1 : 0;
  });
}

function scores(c: Column, side: string, name: string): Float64Array {
  if (!isNumericColumn(c)) {
    throw new RangeError(`monitorBatch: the ${side} score column "${name}" must be numeric`);
  }
  return c;
}

function positiveOf(reference: Table, o: Opts): string | undefined {
  const c = column(reference, o.target, "reference");
  return o.positiveLabel ?? (isNumericColumn(c) ? undefined : classLabels(c).at(-1));
}

/** Fits CBPE on the reference's scores and labels (reuse it across batches of one reference). */
export function fitReferenceCbpe(reference: Table, options: BatchMonitorOptions): CbpeModel {
  const o = BatchMonitorOptions.parse(options);
  const y = labels(column(reference, o.target, "reference"), positiveOf(reference, o));
  const s = scores(column(reference, o.prediction, "reference"), "reference", o.prediction);
  const order = o.time === undefined ? null : timeOrder(column(reference, o.time, "reference"));
  const inTime = (v: Float64Array) => (order ? Float64Array.from(order, (i) => v[i]) : v);
  return fitCbpe(inTime(s), inTime(y), {
    bootstrapRounds: o.calibrationRounds,
    seed: o.seed,
    threshold: o.threshold,
  });
}

/** Row indices in time order (stable; missing times last). */
function timeOrder(c: Column): Uint32Array {
  const key = (i: number): number => {
    const v = c[i];
    if (typeof v === "number") return Number.isFinite(v) ? v : Infinity;
    if (v === null || v === undefined) return Infinity;
    const t = Date.parse(String(v));
    return Number.isFinite(t) ? t : Infinity;
  };
  const keys = Float64Array.from({ length: c.length }, (_, i) => key(i));
  return Uint32Array.from({ length: c.length }, (_, i) => i).sort((a, b) =>
    keys[a] === keys[b] ? a - b : keys[a] < keys[b] ? -1 : 1
  );
}

/** Realized ROC AUC, accuracy and F1 on the labelled rows; null without both classes. */
export function realizedMetrics(
  y: ArrayLike<number>,
  score: ArrayLike<number>,
  threshold = 0.5,
): RealizedMetrics | null {
  const yy: number[] = [], ss: number[] = [];
  for (let i = 0; i < y.length; i++) {
    if (Number.isFinite(y[i]) && Number.isFinite(score[i])) {
      yy.push(y[i]);
      ss.push(score[i]);
    }
  }
  const pos = yy.reduce((a, b) => a + b, 0);
  if (pos === 0 || pos === yy.length) return null;
  // accuracy and F1 cut at 0.5: move the scores so the threshold lands there
  const shifted = threshold === 0.5 ? ss : ss.map((v) => v - threshold + 0.5);
  return {
    rows: yy.length,
    roc_auc: rocAuc(yy, ss),
    accuracy: accuracy(yy, shifted),
    f1: f1(yy, shifted),
  };
}

function detectorNames(o: Opts): string[] {
  return [
    ...o.columns.map((c) => `column:${c}`),
    "prediction",
    "roc_auc_estimated",
    "roc_auc_departure",
  ];
}

function startState(o: Opts, previous: SequentialState | null): SequentialState {
  const names = detectorNames(o);
  const state: SequentialState = previous
    ? SequentialState.parse(structuredClone(previous))
    : { version: 1, batches: 0, arl0: o.arl0, detectors: {} };
  const perDetector = o.arl0 * names.length;
  for (const n of names) {
    // the departure detector is Page–Hinkley whatever `detector` says: every batch's estimate
    // shares the calibrator's error, a constant offset that CUSUM would accumulate as evidence
    // and the running mean absorbs (the per-batch departure test judges it, with its se)
    const kind = n === "roc_auc_departure" ? "page_hinkley" : o.detector;
    state.detectors[n] ??= initDetector(kind, { arl0: perDetector, k: o.k, clip: o.clip });
  }
  return state;
}

function step(
  state: SequentialState,
  name: string,
  statistic: string,
  value: number,
  zv: number,
): SequentialSignal {
  const r = nextDetector(state.detectors[name], zv);
  state.detectors[name] = r.state;
  return {
    detector: name,
    statistic,
    value,
    z: r.state.lastZ ?? zv,
    cumulative: r.statistic,
    threshold: r.threshold,
    alarm: r.alarm,
  };
}

/** The null mean and sd of CBPE's AUC estimate at `n` rows, from bootstrap samples of the reference. */
function aucNull(
  cbpe: CbpeModel,
  refScores: Float64Array,
  n: number,
  rounds: number,
  seed: number,
) {
  const rng = new Random(seed + 7919);
  const values: number[] = [];
  // the reference ranked once and each sample kept as draw counts: the same estimates, no sorting
  const pool = scorePool(cbpe, refScores);
  if (pool) {
    const counts = new Uint32Array(refScores.length);
    for (let r = 0; r < rounds; r++) {
      counts.fill(0);
      for (let i = 0; i < n; i++) counts[rng.int(refScores.length)]++;
      values.push(estimateAucOfDraws(pool, counts));
    }
    return nullModel(values);
  }
  const sample = new Float64Array(n);
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) sample[i] = refScores[rng.int(refScores.length)];
    values.push(estimateAuc(cbpe, sample));
  }
  return nullModel(values);
}

function finite(values: Float64Array): Float64Array {
  return values.filter(Number.isFinite);
}

/**
 * Monitors one batch: CBPE estimate with intervals, the sequential detectors' update, and the
 * realized metrics and comparison when the batch has labels. `previous` is the state the last
 * batch returned (null for the first batch); `cbpe` a model from `fitReferenceCbpe` to reuse.
 */
export function monitorBatch(
  reference: Table,
  current: Table,
  options: BatchMonitorOptions,
  previous: SequentialState | null = null,
  cbpe?: CbpeModel,
): BatchMonitorResult {
  const o = BatchMonitorOptions.parse(options);
  const model = cbpe ?? fitReferenceCbpe(reference, o);
  const refScores = finite(
    scores(column(reference, o.prediction, "reference"), "reference", o.prediction),
  );
  const curScoresAll = scores(column(current, o.prediction, "current"), "current", o.prediction);
  const curScores = finite(curScoresAll);
  const seed = o.seed + (previous?.batches ?? 0);
  const estimated = estimatePerformance(model, curScores, {
    alpha: o.alpha,
    threshold: o.threshold,
    simulations: o.simulations,
    seed,
  });

  const state = startState(o, previous);
  const signals: SequentialSignal[] = [];
  for (const name of o.columns) {
    const ref = column(reference, name, "reference"), cur = column(current, name, "current");
    const numeric = isNumericColumn(ref);
    if (numeric !== isNumericColumn(cur)) {
      throw new RangeError(
        `monitorBatch: column "${name}" is ${numeric ? "numeric" : "text"} in the reference but ${
          numeric ? "text" : "numeric"
        } in the current batch; pass the same type on both sides`,
      );
    }
    const p = isNumericColumn(ref) && isNumericColumn(cur)
      ? ksTest(ref, cur).pValue
      : chiSquarePooledTest(ref as readonly (string | null)[], cur as readonly (string | null)[])
        .pValue;
    const label = numeric ? "KS p-value" : "pooled χ² p-value";
    signals.push(step(state, `column:${name}`, label, p, zFromPValue(p)));
  }
  const pPred = ksTest(refScores, curScores).pValue;
  signals.push(step(state, "prediction", "KS p-value of the scores", pPred, zFromPValue(pPred)));
  // one score for every row leaves no AUC to estimate: the detector waits (no step, no signal)
  const estAuc = estimated.metrics.roc_auc.estimated;
  const nul = Number.isFinite(estAuc)
    ? aucNull(model, refScores, curScores.length, o.nullRounds, seed)
    : null;
  if (nul && Number.isFinite(nul.mean)) {
    signals.push(
      step(
        state,
        "roc_auc_estimated",
        "estimated ROC AUC",
        estAuc,
        standardise(estAuc, nul, false),
      ),
    );
  }

  const targetCol = current[o.target];
  let realized: RealizedMetrics | null = null;
  let comparison: z.infer<typeof Comparisons> | null = null;
  let labelledRows = 0;
  if (targetCol !== undefined) {
    const late = judgeLabels(model, current, o, positiveOf(reference, o), seed, estimated);
    labelledRows = late.labelledRows;
    realized = late.realized;
    comparison = late.comparison;
    if (comparison && !Number.isNaN(comparison.roc_auc.z)) {
      const c = comparison.roc_auc;
      signals.push(
        step(state, "roc_auc_departure", "estimated − realized ROC AUC", -c.difference, -c.z),
      );
    }
  }
  state.batches++;
  return {
    rows: curScores.length,
    labelledRows,
    estimated,
    realized,
    comparison,
    sequential: {
      state,
      signals,
      alarms: signals.filter((s) => s.alarm).map((s) => s.detector),
      falseAlarmRate: familyStatement(state),
    },
    assumption: CBPE_ASSUMPTION,
  };
}

function familyStatement(state: SequentialState): string {
  const d = Object.values(state.detectors);
  const one = d[0] ? falseAlarmStatement(d[0]) : "";
  return `${d.length} detectors, each ${one}; together ARL0 ≥ ${state.arl0} batches ≈ ${
    (100 / state.arl0).toFixed(2)
  } false alarms per 100 clean batches (union bound)`;
}

function judgeLabels(
  model: CbpeModel,
  current: Table,
  o: Opts,
  positive: string | undefined,
  seed: number,
  estimatedAll: PerformanceEstimate | null,
) {
  const y = labels(column(current, o.target, "current"), positive);
  const s = scores(column(current, o.prediction, "current"), "current", o.prediction);
  const keep: number[] = [];
  for (let i = 0; i < y.length; i++) {
    if (Number.isFinite(y[i]) && Number.isFinite(s[i])) keep.push(i);
  }
  const yy = Float64Array.from(keep, (i) => y[i]), ss = Float64Array.from(keep, (i) => s[i]);
  const realized = keep.length ? realizedMetrics(yy, ss, o.threshold) : null;
  if (!realized) return { labelledRows: keep.length, realized: null, comparison: null };
  const allScored = s.filter(Number.isFinite).length;
  const est = estimatedAll && keep.length === allScored ? estimatedAll : estimatePerformance(
    model,
    ss,
    { alpha: o.alpha, threshold: o.threshold, simulations: o.simulations, seed },
  );
  const comparison = {
    roc_auc: compareEstimate(est.metrics.roc_auc, realized.roc_auc, o.alpha),
    accuracy: compareEstimate(est.metrics.accuracy, realized.accuracy, o.alpha),
    f1: compareEstimate(est.metrics.f1, realized.f1, o.alpha),
  };
  return { labelledRows: keep.length, realized, comparison };
}

/**
 * The second judgement of a batch whose labels arrived late: realized metrics, the comparison with
 * CBPE's estimate, and the `roc_auc_departure` detector's update on the CURRENT sequential state
 * (the stream's latest, not the batch's own). Returns the updated state.
 */
export function judgeLateLabels(
  reference: Table,
  labelledBatch: Table,
  options: BatchMonitorOptions,
  state: SequentialState,
  cbpe?: CbpeModel,
): {
  labelledRows: number;
  realized: RealizedMetrics | null;
  comparison: z.infer<typeof Comparisons> | null;
  signal: SequentialSignal | null;
  state: SequentialState;
} {
  const o = BatchMonitorOptions.parse(options);
  const model = cbpe ?? fitReferenceCbpe(reference, o);
  const next = startState(o, state);
  const r = judgeLabels(
    model,
    labelledBatch,
    o,
    positiveOf(reference, o),
    o.seed + next.batches,
    null,
  );
  let signal: SequentialSignal | null = null;
  if (r.comparison && !Number.isNaN(r.comparison.roc_auc.z)) {
    const c = r.comparison.roc_auc;
    signal = step(next, "roc_auc_departure", "estimated − realized ROC AUC", -c.difference, -c.z);
  }
  return { ...r, signal, state: next };
}

/** One metric as the monitoring JSON carries it: estimate with interval beside the realized value. */
export const MonitoredMetric = z.object({
  estimated: z.number(),
  estimatedInterval: z.tuple([z.number(), z.number()]),
  /** Null until the batch's labels arrive. */
  realized: z.number().nullable(),
  /** The estimated-vs-realized test said they parted (null without labels). */
  departed: z.boolean().nullable(),
});
export type MonitoredMetric = z.infer<typeof MonitoredMetric>;

/**
 * The fields a monitoring document shows per batch: `{ roc_auc, accuracy, f1 }` each with the
 * estimate, its interval, the realized value (null without labels) and whether they parted; plus
 * the detectors' alarms and state summary (kind, cumulative statistic, threshold, alarms so far).
 */
export function monitoringFields(result: BatchMonitorResult): {
  metrics: Record<"roc_auc" | "accuracy" | "f1", MonitoredMetric>;
  sequential: {
    alarms: string[];
    falseAlarmRate: string;
    detectors: Record<
      string,
      {
        kind: string;
        cumulative: number;
        threshold: number;
        alarms: number;
        lastAlarm: number | null;
      }
    >;
  };
} {
  const one = (m: "roc_auc" | "accuracy" | "f1"): MonitoredMetric => {
    const e = result.estimated.metrics[m];
    return {
      estimated: e.estimated,
      estimatedInterval: [e.ciLow, e.ciHigh],
      realized: result.realized ? result.realized[m] : null,
      departed: result.comparison ? result.comparison[m].departed : null,
    };
  };
  const signals = new Map(result.sequential.signals.map((s) => [s.detector, s]));
  const detectors = Object.fromEntries(
    Object.entries(result.sequential.state.detectors).map(([name, d]) => {
      const threshold = d.kind === "cusum" ? d.h : d.lambda;
      const cumulative = signals.get(name)?.cumulative ??
        (d.kind === "cusum" ? d.s : d.sum - d.min);
      return [name, {
        kind: d.kind,
        cumulative,
        threshold,
        alarms: d.alarms,
        lastAlarm: d.lastAlarm,
      }];
    }),
  );
  return {
    metrics: { roc_auc: one("roc_auc"), accuracy: one("accuracy"), f1: one("f1") },
    sequential: {
      alarms: result.sequential.alarms,
      falseAlarmRate: result.sequential.falseAlarmRate,
      detectors,
    },
  };
}
