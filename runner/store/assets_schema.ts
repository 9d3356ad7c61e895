/**
 * The tables of data-aware scheduling (Airflow's assets), as migrations of their own component
 * ("assets"), so they are numbered apart from the engine's: asset events (an asset was updated, by
 * a task's outlet, the CLI, the API or a watcher), each asset-scheduled DAG's cursor (where its
 * consumption starts) and the events its runs consumed, and each watched folder's files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ASSET_MIGRATIONS } from "./assets_schema.ts";
 * import { migrate } from "./migrations.ts";
 * import { openPglite } from "./pglite.ts";
 * const db = await openPglite();
 * try {
 *   const applied = await migrate(db, ASSET_MIGRATIONS, "assets");
 *   assert.deepEqual(applied, ASSET_MIGRATIONS.map((m) => m.version));
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import type { Migration } from "./migrations.ts";

export const ASSET_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "assets",
    sql: `
create table asset_events (
  id bigserial primary key,
  uri text not null,
  source text not null,
  source_dag_id text,
  source_run_id int,
  source_task_id text,
  extra jsonb not null default '{}',
  created_at timestamptz not null default clock_timestamp()
);
create index asset_events_uri_idx on asset_events (uri, id);
create table asset_dag_cursors (
  dag_id text primary key,
  last_event_id bigint not null,
  last_event_at timestamptz not null
);
create table asset_watermarks (
  uri text primary key,
  seen_until timestamptz not null
);
`,
  },
  {
    // An id cursor loses events: ids are taken at insert but seen at commit, so an event can
    // appear below a cursor that has already passed it. Each event now records the transaction
    // that wrote it; a DAG marks the events it consumed, and everything below the oldest
    // transaction in progress when it last consumed (its floor) is final, so it is not looked at
    // again (and its marks can go).
    version: 2,
    name: "asset consumption",
    sql: `
alter table asset_events add column xid xid8 not null default pg_current_xact_id();
create index asset_events_uri_xid_idx on asset_events (uri, xid);
alter table asset_dag_cursors add column floor_xid xid8 not null default '0';
create table asset_event_consumptions (
  dag_id text not null,
  event_id bigint not null,
  event_xid xid8 not null,
  run_id int,
  consumed_at timestamptz not null default clock_timestamp(),
  primary key (dag_id, event_id)
);
create index asset_event_consumptions_xid_idx on asset_event_consumptions (dag_id, event_xid);
`,
  },
  {
    // A watermark of the newest mtime seen misses files stamped at or before it (the same
    // millisecond, an mtime preserved by mv, cp -p or rsync -t, an S3 multipart upload stamped at
    // its start). A watched folder now keeps the files it holds, each with its version (mtime and
    // size, or ETag), and reports those not seen in that version; `generation` orders the passes.
    version: 3,
    name: "asset watch files",
    sql: `
alter table asset_watermarks add column listed boolean not null default false;
alter table asset_watermarks add column generation bigint not null default 0;
create table asset_watch_files (
  uri text not null,
  name text not null,
  version text not null,
  primary key (uri, name)
);
`,
  },
];
