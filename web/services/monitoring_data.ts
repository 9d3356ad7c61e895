/**
 * Read-only queries the UI and API make on tables that DAG tasks keep in the same store
 * (`drift_metrics`, `alerts`, `predictions`): each returns nothing when its table does not exist yet
 * (no monitoring run, no alert, no prediction so far).
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
import { z } from "zod";
import type { SqlClient } from "../../runner/store/sql_client.ts";

/** A jsonb value as an object (postgres.js parses it; PGlite may hand over text). */
function details(v: unknown): Record<string, unknown> {
  return (typeof v === "string" ? JSON.parse(v) : v ?? {}) as Record<string, unknown>;
}

/** A jsonb value of any shape (PGlite may hand over text). */
const jsonValue = (v: unknown): unknown => (typeof v === "string" ? JSON.parse(v) : v);

async function exists(db: SqlClient, table: string): Promise<boolean> {
  const r = await db.query<{ t: string | null }>("select to_regclass($1)::text as t", [table]);
  return r[0]?.t !== null && r[0]?.t !== undefined;
}

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

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

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

/** The one mapping from a `drift_metrics` row to what the UI and API show. */
export function driftRow(r: Record<string, unknown>): DriftRow {
  const d = details(r.details);
  const truth = d.truth as { drifted?: boolean; events?: { kind: string }[] } | undefined;
  const columns = (d.columns ?? {}) as DriftRow["columns"];
  const rocAuc = r.roc_auc === null || r.roc_auc === undefined ? null : Number(r.roc_auc);
  return {
    id: r.id as number,
    at: new Date(r.at as string).toISOString(),
    runId: r.run_id as number,
    stream: r.stream as string,
    batch: r.batch as number,
    rows: r.rows as number,
    driftedShare: r.drifted_share as number | null,
    severity: r.severity as string | null,
    action: r.action as string | null,
    model: r.model as string | null,
    championVersion: r.champion_version as number | null,
    rocAuc,
    reportHtml: r.report_html as string | null,
    reportJson: r.report_json as string | null,
    columns,
    injected: truth && truth.drifted !== false ? truth.events?.map((e) => e.kind) ?? [] : [],
    from: (d.from as string | undefined) ?? null,
    reasons: strings(jsonValue(r.reasons)),
    metrics: metricViews(jsonValue(r.metrics), rocAuc),
    retrained: Boolean(r.retrained),
    promoted: Boolean(r.promoted),
    errorRate: typeof (d.verdict as { errorRate?: unknown } | undefined)?.errorRate === "string"
      ? (d.verdict as { errorRate: string }).errorRate
      : null,
    sequentialAlarms: strings((d.sequential as { alarms?: unknown } | undefined)?.alarms),
    verdicts: Array.isArray(d.verdicts)
      ? d.verdicts.flatMap((v) => {
        const parsed = StoredVerdict.safeParse(v);
        return parsed.success ? [parsed.data] : [];
      })
      : [],
    driftedColumns: Array.isArray(d.drifted)
      ? strings(d.drifted)
      : Object.entries(columns).filter(([, c]) => c.drifted).map(([n]) => n),
  };
}

/**
 * The rows of the latest pass over the stream (a run with `restart` starts the batches again at
 * 0), as `deno task monitoring` shows them; the earlier passes are the rows before.
 */
export function latestPass<T extends { batch: number }>(rows: readonly T[]): T[] {
  let start = 0;
  for (let i = 1; i < rows.length; i++) if (rows[i].batch <= rows[i - 1].batch) start = i;
  return rows.slice(start);
}

/** Monitored batches, oldest first (the latest `limit`). */
export async function driftRows(
  db: SqlClient,
  opts: { stream?: string; limit?: number } = {},
): Promise<DriftRow[]> {
  if (!await exists(db, "drift_metrics")) return [];
  const rows = await db.query<Record<string, unknown>>(
    `select * from (select * from drift_metrics ${opts.stream ? "where stream = $2" : ""}
       order by id desc limit $1) t order by id`,
    opts.stream ? [opts.limit ?? 500, opts.stream] : [opts.limit ?? 500],
  );
  return rows.map(driftRow);
}

/** The JSON report key of one monitored batch row, or null. */
export async function driftReportKey(db: SqlClient, id: number): Promise<string | null> {
  if (!await exists(db, "drift_metrics")) return null;
  const r = await db.query<{ report_json: string | null }>(
    "select report_json from drift_metrics where id = $1",
    [id],
  );
  return r[0]?.report_json ?? null;
}

/** The streams that have monitored batches. */
export async function driftStreams(db: SqlClient): Promise<string[]> {
  if (!await exists(db, "drift_metrics")) return [];
  return (await db.query<{ stream: string }>(
    "select distinct stream from drift_metrics order by 1",
  )).map((r) => r.stream);
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
  if (!await exists(db, "alerts")) return [];
  const rows = await db.query<Record<string, unknown>>(
    "select id, at, level, key, title, message, dag_id, run_id, suppressed from alerts order by id desc limit $1 offset $2",
    [limit, offset],
  );
  return rows.map((r) => ({
    id: r.id as number,
    at: new Date(r.at as string).toISOString(),
    level: r.level as string,
    key: r.key as string,
    title: r.title as string,
    message: r.message as string,
    dagId: r.dag_id as string | null,
    runId: r.run_id as number | null,
    suppressed: r.suppressed as boolean,
  }));
}

/** Counts for /metrics: alerts by level, predictions by model, the latest drift per stream and column. */
export async function monitoringCounts(db: SqlClient) {
  const [alerts, predictions, latest] = await Promise.all([
    exists(db, "alerts").then((e) =>
      e
        ? db.query<{ level: string; n: number | string }>(
          "select level, count(*) as n from alerts where not suppressed group by 1 order by 1",
        )
        : []
    ),
    exists(db, "predictions").then((e) =>
      e
        ? db.query<{ model: string; n: number | string }>(
          "select model, count(*) as n from predictions group by 1 order by 1",
        )
        : []
    ),
    exists(db, "drift_metrics").then((e) =>
      e
        ? db.query<Record<string, unknown>>(
          `select distinct on (stream) stream, batch, drifted_share, severity, roc_auc, details from drift_metrics order by stream, id desc`,
        )
        : []
    ),
  ]);
  return {
    alerts: alerts.map((r) => ({ level: r.level, n: Number(r.n) })),
    predictions: predictions.map((r) => ({ model: r.model, n: Number(r.n) })),
    latest: latest.map((r) => {
      const d = details(r.details);
      return {
        stream: r.stream as string,
        batch: r.batch as number,
        driftedShare: r.drifted_share as number | null,
        severity: r.severity as string | null,
        rocAuc: r.roc_auc === null || r.roc_auc === undefined ? null : Number(r.roc_auc),
        columns: (d.columns ?? {}) as DriftRow["columns"],
      };
    }),
  };
}

/** Runs of drift_experiment with their summary artifacts, newest first. */
export async function experimentRuns(db: SqlClient, limit = 20, onlyRun?: number) {
  const rows = await db.query<{ run_id: number; value: unknown; logical_date: string }>(
    `select x.run_id, x.value, r.logical_date from xcom x join dag_runs r on r.id = x.run_id
     where r.dag_id = 'drift_experiment' and x.task_id = 'summarise' and x.map_index = -1
       and ($2::bigint is null or x.run_id = $2) order by x.run_id desc limit $1`,
    [limit, onlyRun ?? null],
  );
  return rows.map((r) => {
    const v = (typeof r.value === "string" ? JSON.parse(r.value) : r.value) as {
      artifact?: string;
      csvArtifact?: string;
      cells?: number;
      csv?: string;
    };
    return {
      runId: r.run_id,
      at: new Date(r.logical_date).toISOString(),
      artifact: v?.artifact ?? null,
      csvArtifact: v?.csvArtifact ?? null,
      cells: v?.cells ?? 0,
      csv: v?.csv ?? null,
    };
  });
}
