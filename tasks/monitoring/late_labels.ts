/**
 * Labels that arrive late, and the stream's sequential state, for `drift_monitoring`: where a
 * batch's sequential detectors' state is read back from (the previous batch of the same pass,
 * same champion), how a sequential alarm enters a verdict, the monitoring row's ROC AUC fields
 * (reference, estimated with interval, realized), and the verdicts a batch collects (the first
 * when it comes, the second when its labels land `labelsDelay` batches later).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { labelledBatchIndex, previousSequentialState } from "./late_labels.ts";
 * import { MonitoringTable } from "./metrics_table.ts";
 * assert.equal(labelledBatchIndex(7, 2), 5); // batch 5's labels land with batch 7
 * assert.equal(labelledBatchIndex(1, 2), null); // none yet
 * const db = await openPglite(); // in memory
 * try {
 *   const table = await MonitoringTable.open(db);
 *   const sequentialState = { version: 1, batches: 7, arl0: 200, detectors: {} };
 *   await table.insert({
 *     dagId: "drift_monitoring",
 *     runId: 1,
 *     stream: "flights",
 *     batch: 6,
 *     rows: 5000,
 *     championVersion: 3,
 *     details: { sequentialState },
 *   });
 *   const rows = await table.list("flights");
 *   // batch 7 resumes from batch 6's state when the same champion scored it
 *   assert.deepEqual(previousSequentialState(rows, 7, 3), sequentialState);
 *   assert.equal(previousSequentialState(rows, 7, 4), null); // a new champion starts afresh
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import { z } from "zod";
import {
  type BatchMonitorResult,
  type monitoringFields,
  realizedMetrics,
  SequentialState,
} from "../drift/batch_monitor.ts";
import { isNumericColumn, type Table } from "../../models/core/table.ts";
import { Action, type Severity, SeverityHistory, SeverityResult } from "../drift/schema.ts";
import { BatchVerdict, latestPass, SequentialSummary } from "./document.ts";
import type { MetricPair, MetricsRow } from "./metrics_table.ts";

/** One verdict of a batch (the document's `BatchVerdict`). */
export const Verdict = BatchVerdict;
export type Verdict = z.infer<typeof Verdict>;

/** The verdicts stored on a row (none for rows written before verdicts were recorded). */
export function verdictsOf(row: Pick<MetricsRow, "details">): Verdict[] {
  const parsed = z.array(Verdict).safeParse(row.details.verdicts);
  return parsed.success ? parsed.data : [];
}

/** The batch whose labels land with batch `index` (null: none yet, or labels come at once). */
export function labelledBatchIndex(index: number, labelsDelay: number): number | null {
  if (labelsDelay <= 0) return null;
  const t = index - labelsDelay;
  return t >= 0 ? t : null;
}

/** The row of batch `batch` in the latest pass over the stream (rows oldest first). */
export function rowOfBatch(rows: readonly MetricsRow[], batch: number): MetricsRow | undefined {
  return latestPass(rows).filter((r) => r.batch === batch).at(-1);
}

/**
 * The sequential state batch `index` starts from: the one stored with batch `index − 1` of the
 * same pass when the same champion scored it; null (start afresh) for the first batch, after a
 * restart, or when the champion changed (its scores, estimate and reference are new).
 */
export function previousSequentialState(
  rows: readonly MetricsRow[],
  index: number,
  championVersion: number,
): SequentialState | null {
  if (index === 0) return null;
  const prev = rowOfBatch(rows, index - 1);
  if (!prev || prev.championVersion !== championVersion) return null;
  const parsed = SequentialState.safeParse(prev.details.sequentialState);
  return parsed.success ? parsed.data : null;
}

/**
 * The verdicts the late (labelled) grading looks at for persistence: each earlier batch's
 * labelled verdict when its labels landed, else its first verdict (same champion, latest pass).
 */
export function labelledHistoryFrom(
  rows: readonly MetricsRow[],
  championVersion: number,
  beforeBatch: number,
): SeverityHistory {
  const out: SeverityHistory = [];
  for (const r of latestPass(rows)) {
    if (r.batch >= beforeBatch || r.championVersion !== championVersion) continue;
    const parsed = SeverityResult.safeParse(r.details.labelledVerdict ?? r.details.verdict);
    if (parsed.success) out.push(parsed.data);
  }
  return out;
}

/**
 * A grade with the sequential detectors' alarms: each alarm is a reason; an alarm with no
 * per-batch finding (grade `none`) grades `minor`, since evidence accumulated over batches is a
 * finding too. Its false-alarm rate is the family's ARL0 (`falseAlarmRate`).
 */
export function withSequentialAlarms(
  severity: Severity,
  reasons: string[],
  alarms: readonly string[],
  falseAlarmRate: string,
): { severity: Severity; reasons: string[] } {
  if (alarms.length === 0) return { severity, reasons };
  const raised = severity === "none";
  return {
    severity: raised ? "minor" : severity,
    reasons: [
      ...reasons,
      `sequential alarm (${alarms.join(", ")}): evidence accumulated across batches${
        raised ? " with no per-batch finding — graded minor" : ""
      } (${falseAlarmRate})`,
    ],
  };
}

const STRENGTH: Record<Action, number> = { log: 0, warn: 1, recalibrate: 2, retrain: 3 };

/** The stronger of two actions (retrain > recalibrate > warn > log). */
export function strongerAction(a: Action, b: Action): Action {
  return STRENGTH[b] > STRENGTH[a] ? b : a;
}

/** A metric as the monitoring row carries it: reference, realized, estimate with its interval. */
export type MonitoredMetricPair = MetricPair & {
  estimated?: number;
  estimatedInterval?: [number, number];
  departed?: boolean | null;
};

/**
 * The row's `metrics` with CBPE's estimates beside each metric's reference and realized values
 * (realized null until labels arrive).
 */
export function withEstimates(
  pairs: Record<string, MetricPair>,
  fields: ReturnType<typeof monitoringFields>,
  referenceAuc: number | null,
): Record<string, MonitoredMetricPair> {
  const out: Record<string, MonitoredMetricPair> = { ...pairs };
  for (const [name, m] of Object.entries(fields.metrics)) {
    const pair = pairs[name] ?? {
      reference: name === "roc_auc" ? referenceAuc : null,
      realized: m.realized,
    };
    out[name] = {
      ...pair,
      estimated: m.estimated,
      estimatedInterval: m.estimatedInterval,
      departed: m.departed,
    };
  }
  return out;
}

/** The realized values and the estimated-vs-realized verdict landing on a row's metrics. */
export function withRealized(
  metrics: Record<string, MonitoredMetricPair>,
  realized: BatchMonitorResult["realized"],
  comparison: BatchMonitorResult["comparison"],
): Record<string, MonitoredMetricPair> {
  const out = { ...metrics };
  if (!realized) return out;
  for (const name of ["roc_auc", "accuracy", "f1"] as const) {
    out[name] = {
      ...(out[name] ?? { reference: null }),
      realized: realized[name],
      departed: comparison ? comparison[name].departed : null,
    };
  }
  return out;
}

/** The reasons the estimated-vs-realized comparison adds to a labelled verdict. */
export function departureReasons(comparison: BatchMonitorResult["comparison"]): string[] {
  const c = comparison?.roc_auc;
  if (!c) return [];
  const fmt = (v: number) => v.toFixed(4);
  return [
    `ROC AUC estimated ${fmt(c.estimated)} vs realized ${fmt(c.realized)} (p = ${
      c.pValue.toPrecision(2)
    }, α = ${c.alpha})${
      c.departed
        ? ": they parted — a concept (or calibration) signal; the estimate holds under covariate" +
          " shift only"
        : ": consistent"
    }`,
  ];
}

/** The document's summary of a sequential state: each detector's evidence against its threshold. */
export function sequentialSummary(
  state: SequentialState,
  alarms: readonly string[],
  falseAlarmRate: string,
): z.infer<typeof SequentialSummary> {
  return {
    alarms: [...alarms],
    falseAlarmRate,
    batches: state.batches,
    detectors: Object.fromEntries(
      Object.entries(state.detectors).map(([name, d]) => [name, {
        kind: d.kind,
        cumulative: d.kind === "cusum" ? d.s : d.sum - d.min,
        threshold: d.kind === "cusum" ? d.h : d.lambda,
        alarms: d.alarms,
        lastAlarm: d.lastAlarm ?? null,
      }]),
    ),
  };
}

/** The champion's ROC AUC on its (scored) reference; null without both classes. */
export function referenceAuc(
  reference: Table,
  target: string,
  positiveLabel: string,
  score: string,
): number | null {
  const y = reference[target], s = reference[score];
  if (!y || !s || !isNumericColumn(s)) return null;
  const y01 = Array.from({ length: y.length }, (_, i) => {
    const v = y[i];
    return v === null || v === undefined ? NaN : v === positiveLabel || v === 1 ? 1 : 0;
  });
  return realizedMetrics(y01, s)?.roc_auc ?? null;
}
