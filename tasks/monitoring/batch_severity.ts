/**
 * `drift_monitoring`'s `evaluate_severity`: the batch's report graded (with the earlier verdicts of
 * the same champion and the sequential detectors' alarms), and — when an earlier batch's labels
 * landed — that batch's labelled report graded too; each verdict is written to its row, and the
 * run acts on the stronger of the two.
 *
 * @example
 * ```ts
 * import { strongerOutcome } from "./batch_severity.ts";
 * const batch = { severity: "minor", reasons: ["hour drifted"], errorRate: "5 %", action: "log" as const,
 *   actedOn: { batch: 7, row: 70, path: null } };
 * const labels = { severity: "concept", reasons: ["AUC fell"], errorRate: "5 %", action: "retrain" as const,
 *   actedOn: { batch: 5, row: 50, path: "b5.parquet" } };
 * const o = strongerOutcome(batch, labels);
 * if (o.action !== "retrain" || o.actedOn.batch !== 5 || o.reasons[0] !== "AUC fell") throw new Error("labels win");
 * ```
 */
import { type Action, DriftReport } from "../drift/schema.ts";
import type { BatchDrift } from "./batch_drift.ts";
import { actionFor, gradeReport, historyFrom } from "./judge.ts";
import {
  labelledHistoryFrom,
  strongerAction,
  verdictsOf,
  withSequentialAlarms,
} from "./late_labels.ts";
import { MonitoringTable } from "./metrics_table.ts";
import type { SimulatedBatch } from "./stream_batch_file.ts";
import type { StreamMonitorParams } from "./stream_params.ts";
import type { TaskEnv } from "./task_env.ts";

/** What the run does, why, and on which batch (its row; its labelled file for recalibration). */
export interface SeverityOutcome {
  severity: string;
  reasons: string[];
  errorRate: string | undefined;
  action: Action;
  actedOn: { batch: number; row: number; path: string | null };
}

/**
 * The outcome the run acts on: the labelled verdict when its action is stronger (its reasons
 * first), else the batch's (the labelled reasons after its own).
 */
export function strongerOutcome(batch: SeverityOutcome, labels: SeverityOutcome): SeverityOutcome {
  const stronger = strongerAction(batch.action, labels.action) !== batch.action;
  return {
    severity: stronger ? labels.severity : batch.severity,
    reasons: stronger
      ? [...labels.reasons, ...batch.reasons]
      : [...batch.reasons, ...labels.reasons],
    errorRate: stronger ? labels.errorRate : batch.errorRate,
    action: strongerAction(batch.action, labels.action),
    actedOn: stronger ? labels.actedOn : batch.actedOn,
  };
}

/** Grades batch `index` (and the batch whose labels landed with it); see the module's doc. */
export async function evaluateBatchSeverity(
  ctx: Pick<TaskEnv<StreamMonitorParams>, "params" | "db" | "getArtifact" | "log">,
  index: number,
  batch: SimulatedBatch,
  version: number,
  d: BatchDrift,
): Promise<SeverityOutcome> {
  const p = ctx.params;
  const readReport = async (key: string) =>
    DriftReport.parse(JSON.parse(new TextDecoder().decode(await ctx.getArtifact(key))));
  const table = await MonitoringTable.open(ctx.db);
  const rows = await table.list(p.streamName);
  const j = gradeReport(await readReport(d.report), p.policy, historyFrom(rows, version, index));
  const first = withSequentialAlarms(j.severity, j.reasons, d.alarms, d.falseAlarmRate);
  const action = actionFor(first.severity, p.actions);
  const at = new Date().toISOString();
  const row = rows.find((r) => r.id === d.row);
  await table.update(d.row, {
    severity: first.severity,
    action,
    reasons: first.reasons,
    details: {
      ...row?.details,
      verdict: j.verdict,
      verdicts: [{ at, kind: "batch", severity: first.severity, action, reasons: first.reasons }],
    },
  });
  // the run acts on the stronger of this batch's verdict and the late-labelled one's
  let outcome: SeverityOutcome = {
    severity: first.severity as string,
    reasons: first.reasons,
    errorRate: j.verdict.errorRate,
    action: action as Action,
    // the batch whose row records the outcome, and its labelled data (recalibration)
    actedOn: { batch: index, row: d.row, path: batch.done || p.labelsDelay ? null : batch.path },
  };
  if (d.late) {
    const late = d.late;
    const lj = gradeReport(
      await readReport(late.report),
      p.policy,
      labelledHistoryFrom(rows, version, late.batch),
    );
    const second = withSequentialAlarms(
      lj.severity,
      [...lj.reasons, ...late.reasons],
      late.alarms,
      d.falseAlarmRate,
    );
    const lateAction = actionFor(second.severity, p.actions);
    const lateRow = rows.find((r) => r.id === late.row);
    await table.update(late.row, {
      details: {
        ...lateRow?.details,
        labelledVerdict: lj.verdict,
        verdicts: [...(lateRow ? verdictsOf(lateRow) : []), {
          at,
          kind: "labels",
          severity: second.severity,
          action: lateAction,
          reasons: second.reasons,
        }],
      },
    });
    const lateReasons = second.reasons.map((r) => `batch ${late.batch} (labels landed): ${r}`);
    for (const r of lateReasons) ctx.log(r);
    outcome = strongerOutcome(outcome, {
      severity: second.severity,
      reasons: lateReasons,
      errorRate: lj.verdict.errorRate,
      action: lateAction,
      actedOn: { batch: late.batch, row: late.row, path: late.path },
    });
  }
  for (const r of first.reasons) ctx.log(r);
  ctx.log(`${outcome.severity} → ${outcome.action} (${outcome.errorRate ?? ""})`);
  return outcome;
}
