/**
 * The monitoring table: one row per monitored batch — its size, drift share, severity and its
 * reasons, the action taken (retrained? promoted?), the champion that scored it and its quality
 * (each metric on the reference and realized on the batch), and the keys of the HTML and JSON
 * reports.
 * It lives in the engine's store (created on first use), so the UI can chart a model's history;
 * the UI reads it through {@link MonitoringTable.existing}, which creates nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { MonitoringTable } from "./metrics_table.ts";
 * const db = await openPglite(); // in memory; a task passes ctx.db
 * try {
 *   const table = await MonitoringTable.open(db);
 *   const id = await table.insert({
 *     dagId: "drift_monitoring",
 *     runId: 7,
 *     stream: "flights",
 *     batch: 3,
 *     rows: 5000,
 *     driftedShare: 0.2,
 *   });
 *   await table.update(id, { severity: "moderate", action: "warn", reasons: ["distance moved"] });
 *   const [row] = await table.list("flights");
 *   assert.deepEqual([row.batch, row.severity, row.reasons], [3, "moderate", ["distance moved"]]);
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import { migrate, type Migration } from "../../runner/store/migrations.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { tableExists } from "../../runner/store/table_exists.ts";

const MIGRATIONS: Migration[] = [{
  version: 1,
  name: "drift_metrics",
  sql: `
create table drift_metrics (
  id serial primary key,
  at timestamptz not null default now(),
  dag_id text not null,
  run_id int not null,
  stream text not null,
  batch int not null,
  rows int not null,
  drifted_share double precision,
  dataset_drift boolean,
  severity text,
  action text,
  model text,
  champion_version int,
  roc_auc double precision,
  report_html text,
  report_json text,
  details jsonb not null default '{}'
);
create index drift_metrics_stream_idx on drift_metrics (stream, id desc);
`,
}, {
  version: 2,
  name: "drift_metrics_judgement",
  sql: `
alter table drift_metrics add column reasons jsonb not null default '[]';
alter table drift_metrics add column metrics jsonb not null default '{}';
alter table drift_metrics add column retrained boolean not null default false;
alter table drift_metrics add column promoted boolean not null default false;
`,
}];

/** One metric of the champion: its value on the reference (out-of-time holdout) and on the batch. */
export interface MetricPair {
  reference: number | null;
  /** null where the batch has no labels (yet). */
  realized: number | null;
  /** CBPE's estimate without labels (drift_monitoring's batches). */
  estimated?: number;
  /** Its (1 − α) prediction interval for the realized value. */
  estimatedInterval?: [number, number];
  /** The estimated-vs-realized test said they parted (null without labels). */
  departed?: boolean | null;
}

/** One monitored batch. */
export interface MetricsRow {
  id: number;
  at: Date;
  dagId: string;
  runId: number;
  stream: string;
  batch: number;
  rows: number;
  driftedShare: number | null;
  datasetDrift: boolean | null;
  severity: string | null;
  action: string | null;
  model: string | null;
  championVersion: number | null;
  rocAuc: number | null;
  reportHtml: string | null;
  reportJson: string | null;
  details: Record<string, unknown>;
  /** Why the batch got its severity and action. */
  reasons: string[];
  /** Performance of the champion by metric name (roc_auc, log_loss, …). */
  metrics: Record<string, MetricPair>;
  /** A retraining ran for this batch. */
  retrained: boolean;
  /** A new champion (retrained or recalibrated) was promoted for this batch. */
  promoted: boolean;
}

type NewRow =
  & Partial<Omit<MetricsRow, "id" | "at">>
  & Pick<MetricsRow, "dagId" | "runId" | "stream" | "batch" | "rows">;

const COLUMNS: Record<keyof Omit<MetricsRow, "id" | "at">, string> = {
  dagId: "dag_id",
  runId: "run_id",
  stream: "stream",
  batch: "batch",
  rows: "rows",
  driftedShare: "drifted_share",
  datasetDrift: "dataset_drift",
  severity: "severity",
  action: "action",
  model: "model",
  championVersion: "champion_version",
  rocAuc: "roc_auc",
  reportHtml: "report_html",
  reportJson: "report_json",
  details: "details",
  reasons: "reasons",
  metrics: "metrics",
  retrained: "retrained",
  promoted: "promoted",
};

const JSON_COLUMNS = new Set<string>(["details", "reasons", "metrics"]);

/** A stored row as {@link MetricsRow} (json columns arrive parsed, see sql_client.ts). */
function toRow(r: Record<string, unknown>): MetricsRow {
  return {
    id: r.id as number,
    at: new Date(r.at as string),
    dagId: r.dag_id as string,
    runId: r.run_id as number,
    stream: r.stream as string,
    batch: r.batch as number,
    rows: r.rows as number,
    driftedShare: r.drifted_share as number | null,
    datasetDrift: r.dataset_drift as boolean | null,
    severity: r.severity as string | null,
    action: r.action as string | null,
    model: r.model as string | null,
    championVersion: r.champion_version as number | null,
    rocAuc: r.roc_auc as number | null,
    reportHtml: r.report_html as string | null,
    reportJson: r.report_json as string | null,
    details: (r.details ?? {}) as Record<string, unknown>,
    reasons: (r.reasons ?? []) as string[],
    metrics: (r.metrics ?? {}) as Record<string, MetricPair>,
    retrained: Boolean(r.retrained),
    promoted: Boolean(r.promoted),
  };
}

export class MonitoringTable {
  private constructor(readonly db: SqlClient) {}

  /** The table on `db`, created when missing (once per client: see migrations.ts). */
  static async open(db: SqlClient): Promise<MonitoringTable> {
    await migrate(db, MIGRATIONS, "monitoring");
    return new MonitoringTable(db);
  }

  /**
   * The table on `db` for reading, as it is: null while no monitoring run has created it (nothing
   * is created, so a reader such as the UI leaves the schema alone).
   */
  static async existing(db: SqlClient): Promise<MonitoringTable | null> {
    return await tableExists(db, "drift_metrics") ? new MonitoringTable(db) : null;
  }

  /** Adds a row; returns its id. */
  async insert(row: NewRow): Promise<number> {
    const entries = Object.entries(row).filter(([, v]) => v !== undefined) as [
      keyof typeof COLUMNS,
      unknown,
    ][];
    const cols = entries.map(([k]) => COLUMNS[k]);
    const values = entries.map(([k, v]) => (JSON_COLUMNS.has(k) ? JSON.stringify(v) : v));
    const marks = entries.map((
      [k],
      i,
    ) => (JSON_COLUMNS.has(k) ? `$${i + 1}::text::jsonb` : `$${i + 1}`));
    const r = await this.db.query<{ id: number }>(
      `insert into drift_metrics (${cols.join(", ")}) values (${marks.join(", ")}) returning id`,
      values,
    );
    return r[0].id;
  }

  /** Changes some fields of a row. */
  async update(id: number, patch: Partial<Omit<NewRow, "dagId" | "runId">>): Promise<void> {
    const entries = Object.entries(patch).filter(([, v]) => v !== undefined) as [
      keyof typeof COLUMNS,
      unknown,
    ][];
    if (entries.length === 0) return;
    const sets = entries.map(([k], i) =>
      `${COLUMNS[k]} = $${i + 2}${JSON_COLUMNS.has(k) ? "::text::jsonb" : ""}`
    );
    await this.db.query(
      `update drift_metrics set ${sets.join(", ")} where id = $1`,
      [id, ...entries.map(([k, v]) => (JSON_COLUMNS.has(k) ? JSON.stringify(v) : v))],
    );
  }

  /** Rows of a stream (all streams when omitted), oldest first: the latest `limit`. */
  async list(stream?: string, limit = 1000): Promise<MetricsRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      `select * from (select * from drift_metrics ${
        stream ? "where stream = $2" : ""
      } order by id desc limit $1) t order by id`,
      stream ? [limit, stream] : [limit],
    );
    return rows.map(toRow);
  }

  /** The latest row of each stream, by stream name. */
  async latestOfEachStream(): Promise<MetricsRow[]> {
    const rows = await this.db.query<Record<string, unknown>>(
      "select distinct on (stream) * from drift_metrics order by stream, id desc",
    );
    return rows.map(toRow);
  }

  /** The streams that have rows, by name. */
  async streams(): Promise<string[]> {
    const rows = await this.db.query<{ stream: string }>(
      "select distinct stream from drift_metrics order by 1",
    );
    return rows.map((r) => r.stream);
  }

  /** The JSON report key of row `id`; null when the row has none or there is no such row. */
  async reportKey(id: number): Promise<string | null> {
    const rows = await this.db.query<{ report_json: string | null }>(
      "select report_json from drift_metrics where id = $1",
      [id],
    );
    return rows[0]?.report_json ?? null;
  }
}
