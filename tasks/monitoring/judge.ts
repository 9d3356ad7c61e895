/**
 * The monitoring judgement of one batch, in one place: the drift report of the batch against the
 * champion's reference (data, data quality, prediction and performance drift) under a policy, its
 * severity grade with reasons (with the previous batches' verdicts, for persistence), and the
 * action the grade calls for. `drift_monitoring`, the detection benchmark and `drift_experiment`
 * all judge through this module, so what the benchmark measures is what the DAG does.
 *
 * Default actions per grade (the drift library's DEFAULT_ACTIONS): none → log, minor → log,
 * moderate → warn, major → retrain, prior → recalibrate, concept → retrain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { actionFor, judgeBatch } from "./judge.ts";
 * // a champion's calibrated scores p_late, and labels drawn from them
 * const rng = new Random(1);
 * const rows = (n: number, shift: number) => {
 *   const p_late = Float64Array.from({ length: n }, () => rng.next());
 *   return {
 *     distance: Float64Array.from(p_late, () => 800 + 200 * (rng.normal() + shift)),
 *     origin: Array.from(p_late, () => ["SEA", "SFO", "LAX"][rng.int(3)]),
 *     p_late,
 *     late: Array.from(p_late, (p) => (rng.next() < p ? "yes" : "no")),
 *   };
 * };
 * const reference = rows(600, 0);
 * const input = {
 *   features: ["distance", "origin"],
 *   target: "late",
 *   prediction: "p_late",
 *   positiveLabel: "yes",
 *   seed: 1,
 *   policy: { bootstrapRounds: 20 },
 * };
 * const clean = judgeBatch({ ...input, reference, current: rows(300, 0) });
 * assert.equal(actionFor(clean.severity), "log"); // "log" on a clean batch
 * // distance moved by 1 σ; the labels show the champion's ROC AUC held: warned, not retrained
 * const moved = judgeBatch({ ...input, reference, current: rows(300, 1) });
 * assert.deepEqual(moved.driftedColumns, ["distance"]);
 * assert.equal(moved.severity, "moderate");
 * // judged before its labels land, nothing shows the champion copes: major, retrain
 * const early = judgeBatch({ ...input, target: undefined, reference, current: rows(300, 1) });
 * assert.equal(early.severity, "major");
 * assert.equal(actionFor(early.severity), "retrain");
 * assert.equal(actionFor(early.severity, { major: "warn" }), "warn"); // a DAG may override actions
 * ```
 */
import { z } from "zod";
import type { Table } from "../../models/core/table.ts";
import { ColumnOptions, detectDrift } from "../drift/detect.ts";
import {
  Action,
  Correction,
  DEFAULT_ACTIONS,
  type DriftReport,
  Preset,
  Severity,
  SeverityHistory,
  SeverityResult,
} from "../drift/schema.ts";
import { evaluateSeverity, SeverityPolicy } from "../drift/severity.ts";
import { latestPass } from "./document.ts";
import type { MetricPair, MetricsRow } from "./metrics_table.ts";

export { Action, DEFAULT_ACTIONS };

/** Severity grades (the drift library's), from nothing to act on to a changed concept. */
export const Grade = Severity;
export type Grade = Severity;

/** Overrides of the default actions (a DAG's conf). */
export const ActionOverrides = z.partialRecord(Severity, Action);
export type ActionOverrides = z.infer<typeof ActionOverrides>;

/** The action a grade calls for. */
export function actionFor(grade: Grade, overrides: ActionOverrides = {}): Action {
  return overrides[grade] ?? DEFAULT_ACTIONS[grade];
}

/** The judgement policy: the drift report's rules and the severity policy. */
export const JudgePolicy = z.object({
  /** `default`: the honest p-value policy; `evidently`: Evidently's default rules, unchanged. */
  preset: Preset.default("default"),
  /** Family-wise α of the default preset's checks. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  correction: Correction.default("holm"),
  severity: SeverityPolicy.prefault({}),
  /** Per-column settings (test, threshold, skip). */
  columns: z.record(z.string(), ColumnOptions).default({}),
  /** Add the domain classifier to the checks. */
  multivariate: z.boolean().default(false),
  /**
   * Bootstrap rounds of the performance metrics' intervals (reported; the default preset decides
   * by the DeLong AUC-drop and label-share tests, so fewer rounds do not change its grades).
   */
  bootstrapRounds: z.number().int().positive().default(200),
}).strict();
export type JudgePolicy = z.input<typeof JudgePolicy>;

/** What judgeBatch is given. */
export interface JudgeInput {
  reference: Table;
  current: Table;
  features: string[];
  target?: string;
  /** The champion's score column in both tables (prediction and performance drift). */
  prediction?: string;
  positiveLabel?: string;
  seed: number;
  policy?: JudgePolicy;
  /** The previous batches' verdicts, oldest first (persistence of an AUC drop). */
  history?: SeverityHistory;
}

/** The judgement of one batch. */
export interface Judgement {
  report: DriftReport;
  verdict: SeverityResult;
  severity: Grade;
  reasons: string[];
  /** Significant changes: features, data-quality checks ("x (missing_share)"), the prediction. */
  driftedColumns: string[];
  /** The prediction (champion's scores) drifted. */
  predictionDrifted: boolean;
  /** Each performance metric on the reference and realized on the batch (null: no labels). */
  metrics: Record<string, MetricPair>;
}

/** Performance metrics of a report as reference/realized pairs. */
export function metricPairs(report: DriftReport): Record<string, MetricPair> {
  const out: Record<string, MetricPair> = {};
  for (const m of report.performance?.metrics ?? []) {
    out[m.name] = { reference: m.reference.value, realized: m.current.value };
  }
  return out;
}

/** The significant changes of a report, by name. */
export function driftedColumns(report: DriftReport): string[] {
  return [
    ...report.columns.filter((c) => c.drifted).map((c) => c.column),
    ...(report.quality ?? []).filter((q) => q.drifted).map((q) => `${q.column} (${q.check})`),
    ...(report.prediction?.drifted ? [`${report.prediction.column} (prediction)`] : []),
  ];
}

/** The drift report of a batch against the reference under the policy (no grade yet). */
export function batchReport(input: Omit<JudgeInput, "history">): DriftReport {
  const policy = JudgePolicy.parse(input.policy ?? {});
  return detectDrift(input.reference, input.current, {
    preset: policy.preset,
    alpha: policy.alpha,
    correction: policy.correction,
    multivariate: policy.multivariate,
    only: input.features,
    target: input.target,
    prediction: input.prediction,
    positiveLabel: input.positiveLabel,
    seed: input.seed,
    columns: policy.columns,
    bootstrapRounds: policy.bootstrapRounds,
  });
}

/** Grades a batch's report under the policy, given the previous verdicts. */
export function gradeReport(
  report: DriftReport,
  policy: JudgePolicy = {},
  history: SeverityHistory = [],
): Judgement {
  const p = JudgePolicy.parse(policy);
  const verdict = evaluateSeverity(report, p.severity, history);
  return {
    report: { ...report, severity: verdict },
    verdict,
    severity: verdict.severity,
    reasons: verdict.reasons,
    driftedColumns: driftedColumns(report),
    predictionDrifted: report.prediction?.drifted ?? false,
    metrics: metricPairs(report),
  };
}

/** Judges one batch against the reference under the policy. */
export function judgeBatch(input: JudgeInput): Judgement {
  return gradeReport(batchReport(input), input.policy, input.history);
}

/**
 * The verdicts persistence looks at, from the monitoring table: the stream's earlier batches of
 * the latest pass that the same champion judged, oldest first (a new champion starts afresh).
 */
export function historyFrom(
  rows: readonly MetricsRow[],
  championVersion: number,
  beforeBatch: number,
): SeverityHistory {
  const out: SeverityHistory = [];
  for (const r of latestPass(rows)) {
    if (r.batch >= beforeBatch || r.championVersion !== championVersion) continue;
    const parsed = SeverityResult.safeParse(r.details.verdict);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}
