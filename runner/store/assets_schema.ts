/**
 * The tables of data-aware scheduling (Airflow's assets), as migrations of their own component
 * ("assets"), so they are numbered apart from the engine's: asset events (an asset was updated, by
 * a task's outlet, the CLI, the API or a watcher), each asset-scheduled DAG's cursor (the last
 * event its runs consumed) and each watched prefix's watermark.
 *
 * @example
 * ```ts
 * import { migrate } from "./migrations.ts";
 * import { ASSET_MIGRATIONS } from "./assets_schema.ts";
 * await migrate(db, ASSET_MIGRATIONS, "assets");
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
];
