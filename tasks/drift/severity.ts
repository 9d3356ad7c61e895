/**
 * Graduated severity with causes: turns a drift report (and the previous batches' verdicts) into
 * `none | minor | moderate | major | prior | concept`, the reasons, the error rate the grade controls
 * and the default action. Policies are zod-validated data (a DAG's conf can carry one).
 *
 * Default preset (the report's own preset unless the policy names one; a report without `policy`
 * predates presets and is judged by the evidently rules):
 * - `minor`: at least one check is significant after the report's multiple-testing correction
 *   (columns, data-quality checks, prediction drift, domain classifier), whatever its size: the
 *   family-wise error rate (Holm) is ≤ α on clean data.
 * - `moderate` / `major`: by impact — the largest importance-weighted effect size among the
 *   significant findings (weights scaled so the most important feature weighs 1; prediction drift
 *   weighs 1). Effect sizes are on a 0–1 total-variation scale: KS statistic D (numbers), total
 *   variation of the pooled shares (categories), |Δ share| (missing), excess share (unseen), KS D
 *   of the champion's scores, 2·(AUC − ½) of the domain classifier; D and total variation less
 *   their expected value when nothing changed (detect.ts), so a small batch's noise does not
 *   escalate. impact ≥ 0.1 is moderate (KS D
 *   0.1 ≈ a 0.25σ mean shift of a normal, Cohen's d between small and medium); ≥ 0.25 is major
 *   (≈ 0.64σ, between medium and large). A large sample's tiny real change stays minor.
 * - `prior`: the label's positive share moved (two-proportion z-test, two-sided; like the AUC test
 *   it is one check of the report's corrected family, so every grade ≥ minor alarms on clean data
 *   with probability ≤ α) while the
 *   champion's ROC AUC held (no significant drop): recalibrate, do not retrain. Covariate findings
 *   are listed among its reasons (under a label shift the covariates move with the labels). Without
 *   the AUC test (no scores) a moved label share is one more finding, effect |Δ share|.
 * - `concept`: ROC AUC dropped significantly — one-sided test on the difference with both
 *   sides' DeLong standard errors, z = (ref − cur)/√(se_ref² + se_cur²) — and the drop either
 *   persisted (the previous `persistence − 1` batches also showed a significant drop; pass their
 *   verdicts as `history`) or is large (≥ `largeDrop`, 0.05 AUC by default). A significant drop that
 *   is neither yet is graded at least `moderate` (warn) with the reason "concept pending".
 * - With labels and no significant AUC drop, `major` covariate findings are capped at `moderate`
 *   (`capWhenAucHeld`, on by default): the inputs moved but the champion's ranking held — warn,
 *   do not retrain. (Short contiguous batches move hour and weekday against a reference of weeks:
 *   real, large, and harmless to a model that already knows them.)
 * Accuracy at a 0.5 threshold is never used: it moves with the base rate.
 *
 * Evidently preset: the share of drifted columns (importance-weighted when given) against the
 * minor/moderate/major thresholds scaled by sensitivity, and `concept` when a metric falls below the
 * reference interval's low end by `conceptMargin` — the rules before presets existed, unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { detectDrift } from "./detect.ts";
 * import type { SeverityHistory } from "./schema.ts";
 * import { evaluateSeverity } from "./severity.ts";
 * const rng = new Random(1);
 * const rows = (n: number, shift: number) => ({
 *   distance: Float64Array.from({ length: n }, () => 800 + 200 * (rng.normal() + shift)),
 *   hour: Float64Array.from({ length: n }, () => rng.int(24)),
 * });
 * const report = detectDrift(rows(500, 0), rows(500, 1)); // distance moved by one σ
 * const history: SeverityHistory = []; // the previous batches' verdicts, oldest first
 * const policy = { featureImportance: { distance: 3, hour: 1 } };
 * const verdict = evaluateSeverity(report, policy, history);
 * assert.equal(verdict.severity, "major"); // KS effect ≈ 0.3 ≥ 0.25 on the most important feature
 * assert.equal(verdict.action, "retrain");
 * assert.match(verdict.errorRate!, /family-wise error rate \(Holm\) ≤ 0\.050/);
 * ```
 */
import { z } from "zod";
import { ERROR_RATE } from "./correction.ts";
import {
  DEFAULT_ACTIONS,
  type DriftReport,
  Preset,
  type Severity,
  type SeverityHistory,
  type SeverityResult,
  type SeveritySignals,
} from "./schema.ts";

export { DEFAULT_ACTIONS };

/** How sensitivity presets scale the thresholds (high sensitivity = lower thresholds). */
export const SENSITIVITY_SCALE = { low: 2, medium: 1, high: 0.5 } as const;

/** Default effect-size thresholds of the default preset (see the module doc). */
export const DEFAULT_EFFECT_THRESHOLDS = { moderate: 0.1, major: 0.25 } as const;

/** A severity policy. */
export const SeverityPolicy = z.object({
  /** Which rules: the report's preset when not given (evidently for reports without a policy). */
  preset: Preset.optional(),
  sensitivity: z.enum(["low", "medium", "high"]).default("medium"),
  /** Evidently preset: shares of drifted columns. */
  thresholds: z.object({
    minor: z.number().min(0).max(1).default(0.05),
    moderate: z.number().min(0).max(1).default(0.15),
    major: z.number().min(0).max(1).default(0.3),
  }).default({ minor: 0.05, moderate: 0.15, major: 0.3 }).refine(
    (t) => t.minor <= t.moderate && t.moderate <= t.major,
    { message: "thresholds must rise: minor ≤ moderate ≤ major" },
  ),
  /** Default preset: impact (importance-weighted effect size) thresholds, scaled by sensitivity. */
  effectThresholds: z.object({
    moderate: z.number().positive().max(1).default(DEFAULT_EFFECT_THRESHOLDS.moderate),
    major: z.number().positive().max(1).default(DEFAULT_EFFECT_THRESHOLDS.major),
  }).default(DEFAULT_EFFECT_THRESHOLDS).refine((t) => t.moderate <= t.major, {
    message: "effectThresholds must rise: moderate ≤ major",
  }),
  /** Weights per column (e.g. feature importance); columns not named weigh 0 when any is given. */
  featureImportance: z.record(z.string(), z.number().nonnegative()).optional(),
  /** α of the label-share and AUC-drop tests when the report did not correct them in its family. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Batches in a row with a significant AUC drop before `concept` (this one included). */
  persistence: z.number().int().min(1).default(2),
  /** An AUC drop at least this large (and significant) is `concept` at once. */
  largeDrop: z.number().min(0).max(1).default(0.05),
  /**
   * Default preset, with labels: when the champion's ROC AUC shows no significant drop, covariate
   * findings are graded at most `moderate` (warn, not retrain) — the inputs moved but the model's
   * ranking held, so a retrain has nothing to fix yet. Without labels (no AUC test) nothing is
   * capped. false: grade by impact alone.
   */
  capWhenAucHeld: z.boolean().default(true),
  /** Evidently preset: drop below the reference's lower confidence bound that means concept drift. */
  conceptMargin: z.number().min(0).default(0.05),
  /** Evidently preset: the metrics of its concept rule. */
  conceptMetrics: z.array(z.enum(["roc_auc", "accuracy", "f1"])).default(["roc_auc", "accuracy"]),
}).strict();
export type SeverityPolicy = z.input<typeof SeverityPolicy>;
type Policy = z.infer<typeof SeverityPolicy>;

const fmt = (x: number) => (Math.abs(x) >= 0.001 || x === 0 ? x.toFixed(3) : x.toExponential(2));

/** Severity of a drift report under a policy, given the previous batches' verdicts (oldest first). */
export function evaluateSeverity(
  report: DriftReport,
  policy: SeverityPolicy = {},
  history: SeverityHistory = [],
): SeverityResult {
  const p = SeverityPolicy.parse(policy);
  // a report without a policy was made before presets existed, by Evidently's rules
  const preset = p.preset ?? report.policy?.preset ?? "evidently";
  return preset === "evidently" ? evidentlySeverity(report, p) : honestSeverity(report, p, history);
}

function honestSeverity(report: DriftReport, p: Policy, history: SeverityHistory): SeverityResult {
  const scale = SENSITIVITY_SCALE[p.sensitivity];
  const moderateAt = Math.min(1, p.effectThresholds.moderate * scale);
  const majorAt = Math.min(1, p.effectThresholds.major * scale);
  const imp = p.featureImportance;
  const maxWeight = imp ? Math.max(0, ...Object.values(imp)) : 1;
  const weightOf = (column: string) =>
    imp ? (maxWeight > 0 ? (imp[column] ?? 0) / maxWeight : 0) : 1;
  const findings: SeveritySignals["findings"] = [];
  for (const c of report.columns) {
    if (!c.drifted) continue;
    findings.push({
      check: c.test,
      column: c.column,
      effect: c.effect ?? null,
      weight: weightOf(c.column),
      adjustedPValue: c.adjustedPValue ?? null,
    });
  }
  for (const q of report.quality ?? []) {
    if (!q.drifted) continue;
    findings.push({
      check: q.check,
      column: q.column,
      effect: q.effect,
      weight: weightOf(q.column),
      adjustedPValue: q.adjustedPValue,
    });
  }
  if (report.prediction?.drifted) {
    findings.push({
      check: "prediction_drift",
      column: report.prediction.column,
      effect: report.prediction.effect ?? null,
      weight: 1,
      adjustedPValue: report.prediction.adjustedPValue ?? null,
    });
  }
  const mv = report.multivariate;
  if (mv?.drifted) {
    findings.push({
      check: "domain_classifier",
      column: "(all features)",
      effect: Math.max(0, 2 * (mv.rocAuc - 0.5)),
      weight: 1,
      adjustedPValue: mv.adjustedPValue ?? null,
    });
  }
  // label share and AUC drop: in the report's family when it corrected them, else each at α
  const significant = (t: { pValue: number; adjustedPValue?: number }) =>
    t.adjustedPValue !== undefined
      ? t.adjustedPValue < (report.policy?.alpha ?? p.alpha)
      : t.pValue < p.alpha;
  const labels = report.labels;
  const labelShift = labels !== undefined && significant(labels);
  const auc = report.performance?.aucTest;
  if (labelShift && auc === undefined) {
    // without the champion's AUC a prior shift cannot be told from concept drift: a finding
    findings.push({
      check: "label_share",
      column: "(label)",
      effect: Math.abs(labels!.current - labels!.reference),
      weight: 1,
      adjustedPValue: labels!.adjustedPValue ?? labels!.pValue,
    });
  }
  // a finding without an effect size (a user-chosen distance test) adds no impact
  const impactOf = (f: SeveritySignals["findings"][number]) => f.weight * (f.effect ?? 0);
  findings.sort((a, b) => impactOf(b) - impactOf(a));
  const impact = findings.length ? impactOf(findings[0]) : 0;
  const rp = report.policy;
  const family = rp
    ? `${rp.controls} ≤ ${fmt(rp.alpha)} over ${rp.tests} checks`
    : "no correction recorded (report made without a policy)";
  const describe = (f: SeveritySignals["findings"][number]) =>
    `${f.column} (${f.check}: effect ${f.effect === null ? "n/a" : fmt(f.effect)}${
      f.weight !== 1 ? ` × importance ${fmt(f.weight)}` : ""
    }, adjusted p ${f.adjustedPValue === null ? "n/a" : fmt(f.adjustedPValue)})`;
  const reasons: string[] = [];
  let severity: Severity = "none";
  let errorRate = `all checks of the report: ${family}`;
  const inFamily = (t: { adjustedPValue?: number } | undefined) => t?.adjustedPValue !== undefined;
  const pText = (t: { pValue: number; adjustedPValue?: number }) =>
    t.adjustedPValue !== undefined
      ? `adjusted p ${fmt(t.adjustedPValue)} < α ${fmt(report.policy?.alpha ?? p.alpha)}`
      : `p ${fmt(t.pValue)} < α ${fmt(p.alpha)}`;
  if (findings.length > 0) {
    severity = impact >= majorAt ? "major" : impact >= moderateAt ? "moderate" : "minor";
    reasons.push(
      `${findings.length} significant change${findings.length > 1 ? "s" : ""} after correction (${
        rp ? ERROR_RATE[rp.correction] : "uncorrected"
      }): ${findings.map(describe).join("; ")}`,
    );
    reasons.push(
      severity === "minor"
        ? `impact ${fmt(impact)} < moderate threshold ${fmt(moderateAt)}: real but small, logged`
        : `impact ${fmt(impact)} ≥ ${severity} threshold ${
          fmt(severity === "major" ? majorAt : moderateAt)
        } (largest importance-weighted effect: ${findings[0].column})`,
    );
  } else {
    reasons.push(`no check significant after correction (${family})`);
  }

  // threshold-free performance: ROC AUC drop
  const aucDrop = auc !== undefined && significant(auc);
  const aucDropLarge = aucDrop && auc!.drop >= p.largeDrop;
  const previous = history.slice(-(p.persistence - 1));
  const persisted = p.persistence <= 1 ||
    (previous.length >= p.persistence - 1 && previous.every((h) => h.signals?.aucDrop === true));
  const aucText = auc
    ? `ROC AUC ${fmt(auc.reference)} → ${fmt(auc.current)} (drop ${fmt(auc.drop)}, z ${
      fmt(auc.z)
    }, one-sided p ${fmt(auc.pValue)}, DeLong SEs ${fmt(auc.seReference)} / ${fmt(auc.seCurrent)})`
    : "";
  if (aucDrop && (aucDropLarge || persisted)) {
    severity = "concept";
    reasons.unshift(
      `${aucText} fell significantly (${pText(auc!)}) and ${
        aucDropLarge
          ? `by at least the large-drop margin ${fmt(p.largeDrop)}`
          : `persisted for ${p.persistence} batches`
      }`,
    );
    errorRate = `AUC-drop test (one-sided) ${
      inFamily(auc) ? `in the family — ${family}` : `at α ${fmt(p.alpha)} per batch`
    }${aucDropLarge ? "" : `, and significant ${p.persistence} batches in a row`}`;
  } else if (labelShift && auc !== undefined && !aucDrop) {
    severity = "prior";
    reasons.unshift(
      `label share ${fmt(labels!.reference)} → ${fmt(labels!.current)} (z ${
        fmt(labels!.statistic)
      }, ${pText(labels!)}) while ROC AUC held${
        auc ? ` (${aucText.replace(/^ROC AUC /, "")})` : ""
      }: a prior shift, recalibrate`,
    );
    errorRate = `label-share test (two-sided) ${
      inFamily(labels) ? `in the family — ${family}` : `at α ${fmt(p.alpha)}`
    }`;
  } else {
    if (aucDrop) {
      if (severity === "none" || severity === "minor") severity = "moderate";
      const seen = previous.filter((h) => h.signals?.aucDrop).length + 1;
      reasons.unshift(
        `${aucText} fell significantly, below the large-drop margin ${
          fmt(p.largeDrop)
        }: concept pending (${seen} of ${p.persistence} batches)`,
      );
    } else if (auc) {
      reasons.push(`${aucText}: no significant drop`);
      if (severity === "major" && p.capWhenAucHeld) {
        severity = "moderate";
        reasons.unshift(
          `impact ${fmt(impact)} would be major, but with labels ROC AUC held (${
            aucText.replace(/^ROC AUC /, "")
          }): the inputs moved, the champion's ranking did not — moderate (warn), no retrain`,
        );
      }
    }
    if (labels) {
      reasons.push(
        `label share ${fmt(labels.reference)} → ${fmt(labels.current)} (p ${fmt(labels.pValue)})${
          labelShift ? " moved, but ROC AUC dropped too" : ": held"
        }`,
      );
    }
  }
  return {
    severity,
    score: impact,
    reasons,
    errorRate,
    action: DEFAULT_ACTIONS[severity],
    signals: { impact, findings, labelShift, aucDrop, aucDropLarge },
  };
}

function evidentlySeverity(report: DriftReport, p: Policy): SeverityResult {
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
  let severity: Severity = "none";
  if (driftedNames.length > 0 && score >= t.minor) {
    severity = score >= t.major ? "major" : score >= t.moderate ? "moderate" : "minor";
    reasons.push(
      `${what} of drifted columns ${fmt(score)} ≥ ${severity} threshold ${
        fmt(t[severity as "minor" | "moderate" | "major"])
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
  return {
    severity,
    score,
    reasons,
    errorRate:
      "evidently preset: per-test p < 0.05 or fixed distance thresholds, no correction — the false-alarm rate is not controlled",
    action: DEFAULT_ACTIONS[severity],
  };
}
