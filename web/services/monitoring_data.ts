/**
 * What the UI and API show of the tables DAG tasks keep in the same store (`drift_metrics`,
 * `alerts`, `predictions`) and of the engine's runs, read through each table's owner (the
 * monitoring table, the alerter, the prediction log, the engine's store) and shaped for display.
 * Each returns nothing when its table does not exist yet (no monitoring run, no alert, no
 * prediction so far); none creates a table.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "../../runner/store/open.ts";
 * import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
 * import { driftRows } from "./monitoring_data.ts";
 * const store = await openStore({ memory: true });
 * try {
 *   assert.deepEqual(await driftRows(store.db, { stream: "flights" }), []); // no table yet
 *   const table = await MonitoringTable.open(store.db); // what a monitoring task writes to
 *   const run = { dagId: "drift_monitoring", runId: 1 };
 *   await table.insert({ ...run, stream: "flights", batch: 0, rows: 500 });
 *   await table.insert({ ...run, stream: "text", batch: 0, rows: 80 });
 *   const rows = await driftRows(store.db, { stream: "flights", limit: 200 });
 *   assert.deepEqual(rows.map((r) => [r.stream, r.batch, r.rows]), [["flights", 0, 500]]);
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import { asStrings } from "../../tasks/monitoring/document.ts";
import { z } from "zod";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import type { Store } from "../../runner/store/store.ts";
import { predictionCounts } from "../../models/serving/prediction_log.ts";
import { sentAlertCounts, storedAlerts } from "../../tasks/alert/alerter.ts";
import { type MetricsRow, MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";

const num = z.number().nullable().optional().catch(null);
const interval = z.tuple([z.number(), z.number()]).nullable().optional().catch(null);

/**
 * One metric of the champion as the monitoring table stores it (`metrics` column): the reference
 * (out-of-time holdout) value, the value realized on the batch (null without labels), and — when
 * the loop estimated it without labels — the estimate and its interval. Any field may be absent in
 * older rows; a malformed value reads as null rather than failing the page.
 */
export const StoredMetric = z.object({
  reference: num,
  referenceInterval: interval,
  realized: num,
  estimated: num,
  estimatedInterval: interval,
  departed: z.boolean().nullable().optional().catch(null),
});

/** One verdict a batch got: when it came (`batch`), again when its labels landed (`labels`). */
const StoredVerdict = z.object({
  at: z.string().optional().catch(undefined),
  kind: z.string(),
  severity: z.string(),
  action: z.string(),
  reasons: z.array(z.string()).catch([]),
});
export type VerdictView = z.infer<typeof StoredVerdict>;

/** One metric of one batch, every field present (null where not stored). */
export interface MetricView {
  reference: number | null;
  referenceInterval: [number, number] | null;
  realized: number | null;
  estimated: number | null;
  estimatedInterval: [number, number] | null;
  /** The estimated-vs-realized test said they parted (a concept signal); null: not tested. */
  departed: boolean | null;
}

/** One monitored batch as the UI shows it. */
export interface DriftRow {
  id: number;
  at: string;
  runId: number;
  stream: string;
  batch: number;
  rows: number;
  driftedShare: number | null;
  severity: string | null;
  action: string | null;
  model: string | null;
  championVersion: number | null;
  /** The champion's realized ROC AUC on the batch (the column; also in `metrics.roc_auc`). */
  rocAuc: number | null;
  reportHtml: string | null;
  reportJson: string | null;
  columns: Record<string, { test: string; statistic: number; drifted: boolean }>;
  /** Kinds of drift injected into the batch (ground truth); empty for a batch as it came. */
  injected: string[];
  from: string | null;
  /** Why the batch got its severity and action. */
  reasons: string[];
  /** The champion's metrics by name (roc_auc, log_loss, …). */
  metrics: Record<string, MetricView>;
  /** A retraining (or recalibration) ran for this batch. */
  retrained: boolean;
  /** A new champion was promoted for this batch. */
  promoted: boolean;
  /** The significant changes (columns, data-quality checks, the prediction). */
  driftedColumns: string[];
  /** The error rate the grade controls, in words (from the stored verdict), or null. */
  errorRate: string | null;
  /** The sequential detectors' alarms after this batch (empty when none or not recorded). */
  sequentialAlarms: string[];
  /** Every verdict, oldest first: a second one when the labels came late (empty: not recorded). */
  verdicts: VerdictView[];
}

/** The `metrics` column as views; rows from before it existed get the AUC column as realized. */
function metricViews(raw: unknown, rocAuc: number | null): Record<string, MetricView> {
  const out: Record<string, MetricView> = {};
  const obj = raw && typeof raw === "object" ? raw as Record<string, unknown> : {};
  for (const [name, v] of Object.entries(obj)) {
    const m = StoredMetric.safeParse(v);
    if (!m.success) continue;
    out[name] = {
      reference: m.data.reference ?? null,
      referenceInterval: m.data.referenceInterval ?? null,
      realized: m.data.realized ?? null,
      estimated: m.data.estimated ?? null,
      estimatedInterval: m.data.estimatedInterval ?? null,
      departed: m.data.departed ?? null,
    };
  }
  if (!out.roc_auc && rocAuc !== null) {
    out.roc_auc = {
      reference: null,
      referenceInterval: null,
      realized: rocAuc,
      estimated: null,
      estimatedInterval: null,
      departed: null,
    };
  }
  return out;
}

/** The one mapping from a monitoring table row to what the UI and API show. */
function driftRow(r: MetricsRow): DriftRow {
  const d = r.details;
  const truth = d.truth as { drifted?: boolean; events?: { kind: string }[] } | undefined;
  const columns = (d.columns ?? {}) as DriftRow["columns"];
  return {
    id: r.id,
    at: r.at.toISOString(),
    runId: r.runId,
    stream: r.stream,
    batch: r.batch,
    rows: r.rows,
    driftedShare: r.driftedShare,
    severity: r.severity,
    action: r.action,
    model: r.model,
    championVersion: r.championVersion,
    rocAuc: r.rocAuc,
    reportHtml: r.reportHtml,
    reportJson: r.reportJson,
    columns,
    injected: truth && truth.drifted !== false ? truth.events?.map((e) => e.kind) ?? [] : [],
    from: (d.from as string | undefined) ?? null,
    reasons: asStrings(r.reasons),
    metrics: metricViews(r.metrics, r.rocAuc),
    retrained: r.retrained,
    promoted: r.promoted,
    errorRate: typeof (d.verdict as { errorRate?: unknown } | undefined)?.errorRate === "string"
      ? (d.verdict as { errorRate: string }).errorRate
      : null,
    sequentialAlarms: asStrings((d.sequential as { alarms?: unknown } | undefined)?.alarms),
    verdicts: Array.isArray(d.verdicts)
      ? d.verdicts.flatMap((v) => {
        const parsed = StoredVerdict.safeParse(v);
        return parsed.success ? [parsed.data] : [];
      })
      : [],
    driftedColumns: Array.isArray(d.drifted)
      ? asStrings(d.drifted)
      : Object.entries(columns).filter(([, c]) => c.drifted).map(([n]) => n),
  };
}

/** The rows of the latest pass over the stream, as `deno task monitoring` shows them. */
export { latestPass } from "../../tasks/monitoring/document.ts";

/** Monitored batches, oldest first (the latest `limit`). */
export async function driftRows(
  db: SqlClient,
  opts: { stream?: string; limit?: number } = {},
): Promise<DriftRow[]> {
  const table = await MonitoringTable.existing(db);
  return table ? (await table.list(opts.stream, opts.limit ?? 500)).map(driftRow) : [];
}

/** The JSON report key of one monitored batch row, or null. */
export async function driftReportKey(db: SqlClient, id: number): Promise<string | null> {
  return await (await MonitoringTable.existing(db))?.reportKey(id) ?? null;
}

/** The streams that have monitored batches. */
export async function driftStreams(db: SqlClient): Promise<string[]> {
  return await (await MonitoringTable.existing(db))?.streams() ?? [];
}

/** One stored alert. */
export interface AlertRow {
  id: number;
  at: string;
  level: string;
  key: string;
  title: string;
  message: string;
  dagId: string | null;
  runId: number | null;
  suppressed: boolean;
}

/** The latest alerts, newest first. */
export async function alertRows(db: SqlClient, limit = 100, offset = 0): Promise<AlertRow[]> {
  return (await storedAlerts(db, { limit, offset })).map((a) => ({
    id: a.id,
    at: a.at,
    level: a.level,
    key: a.key,
    title: a.title,
    message: a.message,
    dagId: a.dagId ?? null,
    runId: a.runId ?? null,
    suppressed: a.suppressed,
  }));
}

/** Counts for /metrics: alerts by level, predictions by model, the latest drift per stream and column. */
export async function monitoringCounts(db: SqlClient) {
  const [alerts, predictions, latest] = await Promise.all([
    sentAlertCounts(db),
    predictionCounts(db),
    MonitoringTable.existing(db).then((t) => t?.latestOfEachStream() ?? []),
  ]);
  return {
    alerts,
    predictions,
    latest: latest.map((r) => ({
      stream: r.stream,
      batch: r.batch,
      driftedShare: r.driftedShare,
      severity: r.severity,
      rocAuc: r.rocAuc,
      columns: (r.details.columns ?? {}) as DriftRow["columns"],
    })),
  };
}

/** Runs of an experiment DAG with their summary (its summary task's XCom), newest first. */
export async function experimentRuns(
  store: Store,
  experiment: { dagId: string; summaryTask: string },
  limit = 20,
  onlyRun?: number,
) {
  const runs = await store.returnValues(experiment.dagId, experiment.summaryTask, {
    limit,
    runId: onlyRun,
  });
  return runs.map((r) => {
    const v = r.value as {
      artifact?: string;
      csvArtifact?: string;
      cells?: number;
      csv?: string;
    } | null;
    return {
      runId: r.runId,
      at: r.logicalDate.toISOString(),
      artifact: v?.artifact ?? null,
      csvArtifact: v?.csvArtifact ?? null,
      cells: v?.cells ?? 0,
      csv: v?.csv ?? null,
    };
  });
}
