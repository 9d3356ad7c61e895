/**
 * Graduated severity: turns a drift report into `none | minor | moderate | major | concept` with the
 * reasons, so a DAG can decide between doing nothing, alerting and retraining. The drift score is the
 * share of drifted columns, weighted by feature importance when the policy gives it; `concept` wins
 * whenever labelled performance falls below the reference's confidence interval by more than a
 * margin, whatever the feature drift. Policies are zod-validated data (a DAG's conf can carry one).
 *
 * @example
 * ```ts
 * import { evaluateSeverity } from "./severity.ts";
 * const { severity, reasons } = evaluateSeverity(report, { sensitivity: "high" });
 * ```
 */
import { z } from "zod";
import type { DriftReport, SeverityResult } from "./schema.ts";

/** How sensitivity presets scale the thresholds (high sensitivity = lower thresholds). */
export const SENSITIVITY_SCALE = { low: 2, medium: 1, high: 0.5 } as const;

/** A severity policy. */
export const SeverityPolicy = z.object({
  sensitivity: z.enum(["low", "medium", "high"]).default("medium"),
  thresholds: z.object({
    minor: z.number().min(0).max(1).default(0.05),
    moderate: z.number().min(0).max(1).default(0.15),
    major: z.number().min(0).max(1).default(0.3),
  }).default({ minor: 0.05, moderate: 0.15, major: 0.3 }).refine(
    (t) => t.minor <= t.moderate && t.moderate <= t.major,
    { message: "thresholds must rise: minor ≤ moderate ≤ major" },
  ),
  /** Weights per column (e.g. feature importance); columns not named weigh 0 when any is given. */
  featureImportance: z.record(z.string(), z.number().nonnegative()).optional(),
  /** Drop in ROC AUC or accuracy below the reference's lower confidence bound that means concept drift. */
  conceptMargin: z.number().min(0).default(0.05),
  conceptMetrics: z.array(z.enum(["roc_auc", "accuracy", "f1"])).default(["roc_auc", "accuracy"]),
}).strict();
export type SeverityPolicy = z.input<typeof SeverityPolicy>;

/** Severity of a drift report under a policy. */
export function evaluateSeverity(report: DriftReport, policy: SeverityPolicy = {}): SeverityResult {
  const p = SeverityPolicy.parse(policy);
  const scale = SENSITIVITY_SCALE[p.sensitivity];
  const reasons: string[] = [];
  const weightOf = (column: string) => p.featureImportance ? p.featureImportance[column] ?? 0 : 1;
  let total = 0, drifted = 0;
  for (const c of report.columns) {
    const w = weightOf(c.column);
    total += w;
    if (c.drifted) drifted += w;
  }
  const score = total > 0 ? drifted / total : 0;
  const driftedNames = report.columns.filter((c) => c.drifted).map((c) => c.column);
  const t = {
    minor: Math.min(1, p.thresholds.minor * scale),
    moderate: Math.min(1, p.thresholds.moderate * scale),
    major: Math.min(1, p.thresholds.major * scale),
  };
  const what = p.featureImportance ? "importance-weighted share" : "share";
  let severity: SeverityResult["severity"] = "none";
  if (driftedNames.length > 0 && score >= t.minor) {
    severity = score >= t.major ? "major" : score >= t.moderate ? "moderate" : "minor";
    reasons.push(
      `${what} of drifted columns ${fmt(score)} ≥ ${severity} threshold ${
        fmt(t[severity])
      } (${p.sensitivity} sensitivity): ${driftedNames.join(", ")}`,
    );
  } else {
    reasons.push(`${what} of drifted columns ${fmt(score)} < minor threshold ${fmt(t.minor)}`);
  }
  if (report.multivariate?.drifted) {
    reasons.push(
      `domain classifier tells current from reference rows (ROC AUC ${
        fmt(report.multivariate.rocAuc)
      }, p ${fmt(report.multivariate.pValue)})`,
    );
    if (severity === "none") severity = "minor";
  }
  for (const m of report.performance?.metrics ?? []) {
    if (!(p.conceptMetrics as string[]).includes(m.name)) continue;
    const floor = m.reference.ciLow - p.conceptMargin;
    if (m.current.value < floor) {
      severity = "concept";
      reasons.push(
        `${m.name} fell to ${fmt(m.current.value)}, below the reference interval's low ${
          fmt(m.reference.ciLow)
        } by more than ${fmt(p.conceptMargin)} (reference ${fmt(m.reference.value)})`,
      );
    }
  }
  return { severity, score, reasons };
}

const fmt = (x: number) => (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(2));
