/**
 * The JSON shapes of a drift report, as zod schemas: the stable contract between drift detection,
 * severity, the HTML report, the store and the web UI.
 *
 * @example
 * ```ts
 * import { DriftReport } from "./schema.ts";
 * const report = DriftReport.parse(JSON.parse(text));
 * ```
 */
import { z } from "zod";

/** How a column is treated. */
export const ColumnType = z.enum(["numeric", "categorical", "text"]);
export type ColumnType = z.infer<typeof ColumnType>;

/** The names of the univariate tests detectDrift can apply to a column. */
export const TestName = z.enum([
  "ks",
  "chisquare",
  "z",
  "wasserstein",
  "jensenshannon",
  "psi",
  "kl_div",
  "hellinger",
  "cramer_von_mises",
  "mannw",
  "t_test",
  "anderson",
  "energy_distance",
  "domain_classifier",
]);
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

/** Performance drift when labels exist. */
export const PerformanceDrift = z.object({
  task: z.enum(["classification", "regression"]),
  metrics: z.array(PerformanceMetric),
});
export type PerformanceDrift = z.infer<typeof PerformanceDrift>;

/** Severity levels, from nothing to act on to a changed relation between features and label. */
export const Severity = z.enum(["none", "minor", "moderate", "major", "concept"]);
export type Severity = z.infer<typeof Severity>;

/** A severity verdict and the reasons for it. */
export const SeverityResult = z.object({
  severity: Severity,
  score: z.number(),
  reasons: z.array(z.string()),
});
export type SeverityResult = z.infer<typeof SeverityResult>;

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
  multivariate: MultivariateDrift.optional(),
  prediction: ColumnDrift.optional(),
  performance: PerformanceDrift.optional(),
  severity: SeverityResult.optional(),
});
export type DriftReport = z.infer<typeof DriftReport>;
