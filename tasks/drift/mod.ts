/**
 * The drift library: statistics equal to scipy's and Evidently's, dataset drift, severity, drift
 * injection with ground truth, and reports.
 *
 * @example
 * ```ts
 * import { detectDrift, evaluateSeverity, renderDriftReportHtml } from "./mod.ts";
 * const report = detectDrift(reference, current);
 * report.severity = evaluateSeverity(report);
 * await Deno.writeTextFile("drift.html", renderDriftReportHtml(report));
 * ```
 */
export * from "./stattests.ts";
export { DEFAULT_THRESHOLDS, defaultTest, detectDrift, DriftOptions } from "./detect.ts";
export { evaluateSeverity, SeverityPolicy } from "./severity.ts";
export {
  type Batch,
  BatchStreamOptions,
  DriftEvent,
  DriftSpec,
  injectDrift,
  type InjectionTruth,
  temporalBatches,
} from "./inject.ts";
export { histogramSvg, renderDriftReportHtml } from "./report_html.ts";
export * from "./schema.ts";
