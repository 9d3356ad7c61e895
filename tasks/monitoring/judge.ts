/**
 * The monitoring judgement of one batch, in one place: the drift report of the batch against the
 * champion's reference (data, data quality, prediction and performance drift) under a policy, its
 * severity grade with reasons (with the previous batches' verdicts, for persistence), and the
 * action the grade calls for. `drift_monitoring`, the detection benchmark and `drift_experiment`
 * all judge through this module, so what the benchmark measures is what the DAG does.
 *
 * Default actions per grade: none → log, minor → log, moderate → warn, major → retrain,
 * prior → recalibrate, concept → retrain.
 *
 * @example
 * ```ts
 * import { actionFor, judgeBatch } from "./judge.ts";
 * const j = judgeBatch({ reference, current, features: ["distance", "origin"], target: "late", prediction: "p_late", positiveLabel: "yes", seed: 1 });
 * actionFor(j.severity); // "log" on a clean batch
 * ```
 */
import { z } from "zod";
import type { Table } from "../data/table.ts";
import { ColumnOptions, detectDrift } from "../drift/detect.ts";
import type { DriftReport } from "../drift/schema.ts";
import { evaluateSeverity, SeverityPolicy } from "../drift/severity.ts";
import type { MetricPair } from "./metrics_table.ts";

/** Severity grades, from nothing to act on to a changed relation between features and label. */
export const Grade = z.enum(["none", "minor", "moderate", "major", "prior", "concept"]);
export type Grade = z.infer<typeof Grade>;

/** What monitoring does about a batch. */
export const Action = z.enum(["log", "warn", "retrain", "recalibrate"]);
export type Action = z.infer<typeof Action>;

/** The default action of each grade. */
export const DEFAULT_ACTIONS: Readonly<Record<Grade, Action>> = {
  none: "log",
  minor: "log",
  moderate: "warn",
  major: "retrain",
  prior: "recalibrate",
  concept: "retrain",
};

/** Overrides of the default actions (a DAG's conf). */
export const ActionOverrides = z.partialRecord(Grade, Action);
export type ActionOverrides = z.infer<typeof ActionOverrides>;

/** The action a grade calls for. */
export function actionFor(grade: Grade, overrides: ActionOverrides = {}): Action {
  return overrides[grade] ?? DEFAULT_ACTIONS[grade];
}

/** The judgement policy: the named rule set and the severity policy. */
export const JudgePolicy = z.object({
  /** `default`: the honest p-value policy; `evidently`: Evidently's default rules, unchanged. */
  preset: z.enum(["default", "evidently"]).default("default"),
  severity: SeverityPolicy.prefault({}),
  /** Per-column settings (test, threshold, skip). */
  columns: z.record(z.string(), ColumnOptions).default({}),
  /** Bootstrap rounds of the performance intervals. */
  bootstrapRounds: z.number().int().positive().default(200),
});
export type JudgePolicy = z.input<typeof JudgePolicy>;

/** A previous batch's verdict, oldest first: what persistence rules look at. */
export interface PastVerdict {
  batch: number;
  severity: string | null;
  metrics: Record<string, MetricPair>;
}

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
  history?: readonly PastVerdict[];
}

/** The judgement of one batch. */
export interface Judgement {
  report: DriftReport;
  severity: Grade;
  reasons: string[];
  /** Columns (features, data-quality columns) whose change is significant. */
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

/** Judges one batch against the reference under the policy. */
export function judgeBatch(input: JudgeInput): Judgement {
  const policy = JudgePolicy.parse(input.policy ?? {});
  const report = detectDrift(input.reference, input.current, {
    only: input.features,
    target: input.target,
    prediction: input.prediction,
    positiveLabel: input.positiveLabel,
    seed: input.seed,
    columns: policy.columns,
    histograms: true,
    bootstrapRounds: policy.bootstrapRounds,
  });
  const s = evaluateSeverity(report, policy.severity);
  const severity = Grade.parse(s.severity);
  const predictionDrifted = report.prediction?.drifted ?? false;
  return {
    report: { ...report, severity: s },
    severity,
    reasons: s.reasons,
    driftedColumns: report.columns.filter((c) => c.drifted).map((c) => c.column),
    predictionDrifted,
    metrics: metricPairs(report),
  };
}
