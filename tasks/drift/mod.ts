/**
 * The drift library: statistics equal to scipy's and Evidently's, the honest default policy
 * (p-value tests, data-quality checks, one multiple-testing correction), severity by impact with
 * causes (`none | minor | moderate | major | prior | concept`), drift injection with ground truth,
 * and reports; performance without labels (CBPE), sequential detectors (CUSUM, Page–Hinkley) and
 * one batch's monitoring with late labels (batch_monitor.ts). See the README's Drift section.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { DEFAULT_ACTIONS, detectDrift, evaluateSeverity, renderDriftReportHtml } from "./mod.ts";
 * import type { SeverityHistory } from "./mod.ts";
 * const rng = new Random(1);
 * const rows = (n: number) => ({ distance: Float64Array.from({ length: n }, () => rng.normal()) });
 * const report = detectDrift(rows(300), rows(300)); // nothing changed
 * const previousVerdicts: SeverityHistory = [];
 * report.severity = evaluateSeverity(report, {}, previousVerdicts);
 * assert.equal(report.severity.severity, "none");
 * assert.equal(DEFAULT_ACTIONS[report.severity.severity], "log");
 * assert.match(renderDriftReportHtml(report), /^<!doctype html>/i);
 * ```
 */
export * from "./stattests.ts";
export {
  ColumnOptions,
  DEFAULT_THRESHOLDS,
  defaultTest,
  detectDrift,
  detectDriftPresets,
  DriftOptions,
  type DriftProgress,
  driftVerdict,
  policyTest,
} from "./detect.ts";
export {
  DEFAULT_EFFECT_THRESHOLDS,
  evaluateSeverity,
  SENSITIVITY_SCALE,
  SeverityPolicy,
} from "./severity.ts";
export { adjustPValues, ERROR_RATE } from "./correction.ts";
export {
  appliesTo,
  type DecisionRule,
  type RegisteredTest,
  ruleVerdict,
  type Samples,
  STAT_TESTS,
  type StatOutcome,
  type StatTest,
  statTest,
  TEST_NAMES,
  type TestKind,
} from "./registry.ts";
export {
  chiSquarePooledTest,
  MIN_EXPECTED,
  missingShareTest,
  type PolicyTestResult,
  twoProportionTest,
  UNSEEN_GAMMA,
  unseenShareTest,
} from "./policy_stats.ts";
export { aucDropTest, type AucEstimate, aucWithSe } from "./auc_delong.ts";
export {
  type Batch,
  BatchStreamOptions,
  DriftEvent,
  DriftSpec,
  injectDrift,
  type InjectionTruth,
  temporalBatches,
} from "./inject.ts";
export { histogramSvg, renderDriftReportHtml } from "./report_html.tsx";
export * from "./schema.ts";
export {
  applyCalibrator,
  bootstrapCalibrators,
  fitIsotonic,
  IsotonicCalibrator,
} from "./calibration.ts";
export {
  CBPE_ASSUMPTION,
  type CbpeModel,
  compareEstimate,
  EstimateComparison,
  ESTIMATED_METRICS,
  type EstimatedMetric,
  estimatePerformance,
  fitCbpe,
  MetricEstimate,
  PerformanceEstimate,
} from "./cbpe.ts";
export {
  CusumState,
  cusumThreshold,
  type DetectorKind,
  DetectorOptions,
  DetectorState,
  falseAlarmStatement,
  initDetector,
  nextDetector,
  NullModel,
  nullModel,
  PageHinkleyState,
  pageHinkleyThreshold,
  siegmundArl0,
  standardise,
  zFromPValue,
} from "./sequential.ts";
export {
  BatchMonitorOptions,
  BatchMonitorResult,
  fitReferenceCbpe,
  judgeLateLabels,
  monitorBatch,
  MonitoredMetric,
  monitoringFields,
  RealizedMetrics,
  realizedMetrics,
  SequentialResult,
  SequentialSignal,
  SequentialState,
} from "./batch_monitor.ts";
