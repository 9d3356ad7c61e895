/**
 * The labels of an earlier batch landing (`drift_monitoring` with `labelsDelay` > 0): batch
 * t = index − labelsDelay is read again with its target, judged with labels (its labelled report
 * is stored for the severity task), its realized metrics and the estimated-vs-realized comparison
 * written to its monitoring row, and the departure detector stepped.
 *
 * @example
 * ```ts
 * import { landedLabelsBatch } from "./landed_labels.ts";
 * import type { MetricsRow } from "./metrics_table.ts";
 * const row: MetricsRow = {
 *   id: 9, at: new Date(), dagId: "drift_monitoring", runId: 4, stream: "flights", batch: 3, rows: 5000,
 *   driftedShare: 0, datasetDrift: false, severity: "none", action: "log", model: "flights_delay",
 *   championVersion: 1, rocAuc: null, reportHtml: null, reportJson: null, reasons: [], metrics: {},
 *   retrained: false, promoted: false, details: { path: "data/batches/flights-batch-0003.parquet" },
 * };
 * // batch 5 with labels two batches late: the labels of batch 3 land now
 * const t = landedLabelsBatch([row], 5, 2, (i) => `batch-${i}.parquet`);
 * if (t?.batch !== 3 || t.path !== "data/batches/flights-batch-0003.parquet") throw new Error("batch 3");
 * if (landedLabelsBatch([row], 1, 2, String) !== null) throw new Error("nothing lands before batch 2");
 * ```
 */
import type { Table } from "../../models/core/table.ts";
import {
  type BatchMonitorOptions,
  judgeLateLabels,
  type SequentialState,
} from "../drift/batch_monitor.ts";
import type { CbpeModel } from "../drift/cbpe.ts";
import type { DriftReport } from "../drift/schema.ts";
import {
  departureReasons,
  labelledBatchIndex,
  type MonitoredMetricPair,
  rowOfBatch,
  withRealized,
} from "./late_labels.ts";
import type { MetricsRow, MonitoringTable } from "./metrics_table.ts";
import type { Scorer } from "./champion_scorer.ts";
import { getTable, pick } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";

/** The batch whose labels land now, as the severity task reads it from `detect_drift`'s XCom. */
export interface LandedLabels {
  batch: number;
  /** Its monitoring row. */
  row: number;
  /** Its file (with the target). */
  path: string;
  /** The key of its labelled drift report. */
  report: string;
  realized: number | null;
  /** Why estimated and realized performance part, if they do. */
  reasons: string[];
  /** The departure detector, when it fired. */
  alarms: string[];
}

/**
 * The earlier batch whose labels land with batch `index` — its index, monitoring row and file (as
 * recorded on the row, else `pathOf(t)`) — or null when none does (too early, or no row for it).
 */
export function landedLabelsBatch(
  rows: readonly MetricsRow[],
  index: number,
  labelsDelay: number,
  pathOf: (batch: number) => string,
): { batch: number; row: MetricsRow; path: string } | null {
  const t = labelledBatchIndex(index, labelsDelay);
  const row = t === null ? undefined : rowOfBatch(rows, t);
  if (t === null || !row) return null;
  const path = typeof row.details.path === "string" ? row.details.path : pathOf(t);
  return { batch: t, row, path };
}

/** What judging the landed labels needs from `detect_drift`. */
export interface LandedLabelsInput {
  landed: { batch: number; row: MetricsRow; path: string };
  /** The champion's scored reference. */
  reference: Table;
  /** The batch's columns with the target. */
  columns: string[];
  score: Scorer;
  /** Judges a scored labelled table against the reference (the batch's policy, with labels). */
  judge: (labelled: Table) => DriftReport;
  options: BatchMonitorOptions;
  state: SequentialState;
  cbpe: CbpeModel;
  table: MonitoringTable;
}

/**
 * Judges the landed labels: the labelled report stored as an artifact, realized metrics and the
 * comparison written to the batch's row; resolves to what the severity task reads and the
 * detectors' state after the step.
 */
export async function judgeLandedLabels(
  ctx: Pick<TaskEnv<unknown>, "putArtifact" | "getArtifact" | "log">,
  i: LandedLabelsInput,
): Promise<{ late: LandedLabels; state: SequentialState }> {
  const { batch: t, row: lateRow, path } = i.landed;
  const labelled = await i.score(pick(await getTable(ctx, path), i.columns, path));
  const lateReport = i.judge(labelled);
  const j = judgeLateLabels(i.reference, labelled, i.options, i.state, i.cbpe);
  await i.table.update(lateRow.id, {
    rocAuc: j.realized?.roc_auc ?? null,
    metrics: withRealized(
      lateRow.metrics as Record<string, MonitoredMetricPair>,
      j.realized,
      j.comparison,
    ),
  });
  const late = {
    batch: t,
    row: lateRow.id,
    path,
    report: await ctx.putArtifact(JSON.stringify(lateReport)),
    realized: j.realized?.roc_auc ?? null,
    reasons: departureReasons(j.comparison),
    alarms: j.signal?.alarm ? [j.signal.detector] : [],
  };
  ctx.log(
    `labels of batch ${t} landed: ROC AUC realized ${
      j.realized?.roc_auc.toFixed(4) ?? "–"
    } (estimated ${j.comparison?.roc_auc.estimated.toFixed(4) ?? "–"})`,
  );
  return { late, state: j.state };
}
