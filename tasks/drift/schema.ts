/**
 * The JSON shapes of a drift report, as zod schemas: the stable contract between drift detection,
 * severity, the HTML report, the store and the web UI.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDrift } from "./detect.ts";
 * import { DriftReport } from "./schema.ts";
 * const made = detectDrift({ x: Float64Array.of(1, 2, 3) }, { x: Float64Array.of(1, 2, 4) });
 * const text = JSON.stringify(made); // e.g. as stored
 * const report = DriftReport.parse(JSON.parse(text));
 * assert.equal(report.columns[0].column, "x");
 * assert.throws(() => DriftReport.parse({ ...report, version: 2 })); // not a shape this code knows
 * ```
 */
import { z } from "zod";
import { Correction } from "./correction.ts";
import { TEST_NAMES } from "./registry.ts";

export { Correction };

/**
 * A drift policy preset: `default` — per-column p-value tests (KS; two-sample χ² with rare
 * categories pooled), data-quality checks (missing share, unseen-category share), prediction drift,
 * one multiple-testing correction across them all, severity by effect size; `evidently` —
 * Evidently's rules with their numbers (KS/χ²/z at p < 0.05 up to 1,000 reference rows, then
 * Wasserstein/Jensen–Shannon ≥ 0.1; severity by the share of drifted columns).
 */
export const Preset = z.enum(["default", "evidently"]);
export type Preset = z.infer<typeof Preset>;

/** How a column is treated. */
export const ColumnType = z.enum(["numeric", "categorical", "text"]);
export type ColumnType = z.infer<typeof ColumnType>;

/** The names of the tests detectDrift can apply to a column: the keys of the registry (registry.ts). */
export const TestName = z.enum(TEST_NAMES);
export type TestName = z.infer<typeof TestName>;

/** One column's verdict. A test with a p-value drifts when pValue < threshold; a distance when statistic >= threshold. */
export const ColumnDrift = z.object({
  column: z.string(),
  type: ColumnType,
  test: TestName,
  statistic: z.number(),
  pValue: z.number().nullable(),
  threshold: z.number(),
  drifted: z.boolean(),
  nRef: z.number().int().nonnegative(),
  nCur: z.number().int().nonnegative(),
  nullShareRef: z.number().min(0).max(1),
  nullShareCur: z.number().min(0).max(1),
  /**
   * The p-value after the policy's multiple-testing correction across every check of the report
   * (default preset); null for distances and under the evidently preset. Drift when < α.
   */
  adjustedPValue: z.number().min(0).max(1).nullable().optional(),
  /** Effect size on a 0–1 scale (KS statistic D for numbers, total variation for categories). */
  effect: z.number().nullable().optional(),
  /** Further statistics asked for with `extraTests`, by test name. */
  extra: z.record(z.string(), z.object({ statistic: z.number(), pValue: z.number().nullable() }))
    .optional(),
  /** Reference and current shares per bin (numeric) or per category, for charts. */
  histogram: z.object({
    labels: z.array(z.string()),
    ref: z.array(z.number()),
    cur: z.array(z.number()),
  }).optional(),
});
export type ColumnDrift = z.infer<typeof ColumnDrift>;

/** Domain-classifier (multivariate) drift: can a classifier tell reference rows from current rows? */
export const MultivariateDrift = z.object({
  method: z.literal("domain_classifier"),
  rocAuc: z.number(),
  /** The features the classifier relied on most (|standardised weight|), strongest first. */
  topFeatures: z.array(z.object({ feature: z.string(), weight: z.number() })).default([]),
  threshold: z.number(),
  pValue: z.number(),
  /** After the report's correction (default preset). */
  adjustedPValue: z.number().min(0).max(1).nullable().optional(),
  drifted: z.boolean(),
});
export type MultivariateDrift = z.infer<typeof MultivariateDrift>;

/** A metric with its bootstrap confidence interval. */
export const MetricWithCi = z.object({
  value: z.number(),
  ciLow: z.number(),
  ciHigh: z.number(),
});

/** One performance metric on reference and current data, and its change (current - reference). */
export const PerformanceMetric = z.object({
  name: z.enum(["accuracy", "f1", "roc_auc", "log_loss", "rmse", "mae"]),
  reference: MetricWithCi,
  current: MetricWithCi,
  change: z.number(),
});
export type PerformanceMetric = z.infer<typeof PerformanceMetric>;

/**
 * The one-sided test that ROC AUC fell: DeLong standard errors of both sides,
 * z = (reference − current) / √(se_ref² + se_cur²), p = P(Z ≥ z).
 */
export const AucDropTest = z.object({
  reference: z.number(),
  current: z.number(),
  seReference: z.number(),
  seCurrent: z.number(),
  /** reference − current. */
  drop: z.number(),
  z: z.number(),
  pValue: z.number().min(0).max(1),
  /** After the report's correction (default preset: the AUC test is one check of the family). */
  adjustedPValue: z.number().min(0).max(1).optional(),
});
export type AucDropTest = z.infer<typeof AucDropTest>;

/** Performance drift when labels exist. */
export const PerformanceDrift = z.object({
  task: z.enum(["classification", "regression"]),
  metrics: z.array(PerformanceMetric),
  /** Classification: the ROC AUC drop test (threshold-free; what `concept` is decided on). */
  aucTest: AucDropTest.optional(),
});
export type PerformanceDrift = z.infer<typeof PerformanceDrift>;

/**
 * A data-quality check of one feature (default preset): its missing share, or the share of its
 * values in categories the reference never saw. In the same correction family as the columns.
 */
export const QualityCheck = z.object({
  column: z.string(),
  check: z.enum(["missing_share", "unseen_share"]),
  test: TestName,
  /** Reference share (unseen: the reference's own leave-one-out unseen rate). */
  reference: z.number().min(0).max(1),
  /** Current share. */
  current: z.number().min(0).max(1),
  statistic: z.number(),
  pValue: z.number().min(0).max(1),
  adjustedPValue: z.number().min(0).max(1),
  /** |current − reference| (missing) or the excess unseen share. */
  effect: z.number(),
  drifted: z.boolean(),
  nRef: z.number().int().nonnegative(),
  nCur: z.number().int().nonnegative(),
});
export type QualityCheck = z.infer<typeof QualityCheck>;

/** The label's positive share, reference against current (two-proportion z-test, two-sided). */
export const LabelShift = z.object({
  positiveLabel: z.string().nullable(),
  reference: z.number().min(0).max(1),
  current: z.number().min(0).max(1),
  nRef: z.number().int().nonnegative(),
  nCur: z.number().int().nonnegative(),
  statistic: z.number(),
  pValue: z.number().min(0).max(1),
  /** After the report's correction (default preset: the label share is one check of the family). */
  adjustedPValue: z.number().min(0).max(1).optional(),
});
export type LabelShift = z.infer<typeof LabelShift>;

/** The decision policy a report was made under, and the error rate its alarms control. */
export const ReportPolicy = z.object({
  preset: Preset,
  /** Family-wise α (or FDR level for `bh`); the evidently preset's per-test p-value threshold. */
  alpha: z.number(),
  correction: Correction,
  /** In words: "family-wise error rate (Holm)"… */
  controls: z.string(),
  /** Number of checks in the correction family. */
  tests: z.number().int().nonnegative(),
});
export type ReportPolicy = z.infer<typeof ReportPolicy>;

/**
 * Severity grades: `minor` — a change significant after the correction, whatever its size;
 * `moderate`/`major` — by importance-weighted effect size; `prior` — the label share moved while
 * ROC AUC held; `concept` — ROC AUC dropped significantly and persisted or was large.
 */
export const Severity = z.enum(["none", "minor", "moderate", "major", "prior", "concept"]);
export type Severity = z.infer<typeof Severity>;

/** What a grade asks for. */
export const Action = z.enum(["log", "warn", "retrain", "recalibrate"]);
export type Action = z.infer<typeof Action>;

/** Default actions per grade; a DAG may override them. */
export const DEFAULT_ACTIONS: Readonly<Record<Severity, Action>> = Object.freeze({
  none: "log",
  minor: "log",
  moderate: "warn",
  major: "retrain",
  prior: "recalibrate",
  concept: "retrain",
});

/** The evidence a grade rests on, kept so later batches can judge persistence. */
export const SeveritySignals = z.object({
  /** The largest importance-weighted effect among significant findings (0 when none). */
  impact: z.number(),
  /** Significant findings after the correction (columns, quality checks, prediction, multivariate). */
  findings: z.array(z.object({
    check: z.string(),
    column: z.string(),
    effect: z.number().nullable(),
    weight: z.number(),
    adjustedPValue: z.number().nullable(),
  })),
  /** The label share moved significantly. */
  labelShift: z.boolean(),
  /** ROC AUC fell significantly (one-sided test at α). */
  aucDrop: z.boolean(),
  /** …and by at least the policy's large-drop margin. */
  aucDropLarge: z.boolean(),
});
export type SeveritySignals = z.infer<typeof SeveritySignals>;

/** A severity verdict, the reasons for it and the error rate it controls. */
export const SeverityResult = z.object({
  severity: Severity,
  score: z.number(),
  reasons: z.array(z.string()),
  /** The error rate this grade controls, in words (e.g. "family-wise error rate (Holm) ≤ 0.05 over 16 checks"). */
  errorRate: z.string().optional(),
  /** The policy's default action for the grade. */
  action: Action.optional(),
  signals: SeveritySignals.optional(),
});
export type SeverityResult = z.infer<typeof SeverityResult>;

/** Previous batches' severity verdicts, oldest first (for persistence). */
export const SeverityHistory = z.array(SeverityResult);
export type SeverityHistory = z.infer<typeof SeverityHistory>;

/** The whole report of one reference/current comparison. */
export const DriftReport = z.object({
  version: z.literal(1),
  createdAt: z.string(),
  nRef: z.number().int().nonnegative(),
  nCur: z.number().int().nonnegative(),
  columns: z.array(ColumnDrift),
  /** Columns left out of the verdict and why (datetime, id, target, constant…). */
  skipped: z.array(z.object({ column: z.string(), reason: z.string() })).default([]),
  driftedShare: z.number().min(0).max(1),
  driftShareThreshold: z.number(),
  datasetDrift: z.boolean(),
  /** The decision policy (absent in reports made before presets existed: evidently rules). */
  policy: ReportPolicy.optional(),
  /** Data-quality checks per feature (default preset). */
  quality: z.array(QualityCheck).optional(),
  /** Label share test, when the target is in both tables (classification). */
  labels: LabelShift.optional(),
  multivariate: MultivariateDrift.optional(),
  prediction: ColumnDrift.optional(),
  performance: PerformanceDrift.optional(),
  severity: SeverityResult.optional(),
});
export type DriftReport = z.infer<typeof DriftReport>;
