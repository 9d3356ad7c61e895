/**
 * The store's schema as numbered migrations. Each runs once, in a transaction, under an advisory
 * lock, so any number of processes may start at the same time; applied versions are recorded in
 * `schema_migrations`. Append new migrations; never edit one that has shipped.
 *
 * A client remembers the migration sets it has applied: asking again on the same client (every
 * `ModelRegistry.open(ctx.db)` of every task, say) sends nothing to the database. A new client
 * asks the database once per set; a client for one transaction remembers only for itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { migrate } from "./migrations.ts";
 * import { openPglite } from "./pglite.ts";
 * const db = await openPglite();
 * try {
 *   assert.ok((await migrate(db)).length > 0); // a new database: every version applied
 *   assert.deepEqual(await migrate(db), []); // afterwards: nothing to do (remembered by the client)
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import {
  CANDIDATES_V5,
  CANDIDATES_V6,
  CLAIM_SETTINGS_V6,
  claimFunction,
} from "./claim_function.ts";
import type { SqlClient } from "./sql_client.ts";

/** One schema change. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "engine",
    sql: `
create table dags (
  dag_id text primary key,
  fileloc text,
  schedule text,
  timezone text not null default 'UTC',
  description text,
  is_paused boolean not null default false,
  params_schema jsonb,
  structure_hash text,
  updated_at timestamptz not null default now()
);
create table dag_versions (
  hash text primary key,
  dag_id text not null,
  structure jsonb not null,
  created_at timestamptz not null default now()
);
create table dag_runs (
  id serial primary key,
  dag_id text not null,
  logical_date timestamptz not null,
  data_interval_start timestamptz not null,
  data_interval_end timestamptz not null,
  run_type text not null,
  state text not null,
  conf jsonb not null default '{}',
  params jsonb not null default '{}',
  structure_hash text not null references dag_versions(hash),
  triggered_by jsonb,
  queued_at timestamptz not null default now(),
  start_date timestamptz,
  end_date timestamptz,
  unique (dag_id, logical_date)
);
create index dag_runs_dag_idx on dag_runs (dag_id, id desc);
create index dag_runs_active_idx on dag_runs (state) where state in ('queued', 'running');
create table task_instances (
  run_id int not null references dag_runs(id) on delete cascade,
  task_id text not null,
  map_index int not null default -1,
  state text,
  try_number int not null default 0,
  max_tries int not null default 0,
  retries int not null default 0,
  pool text not null default 'default_pool',
  pool_slots int not null default 1,
  start_date timestamptz,
  end_date timestamptz,
  duration_ms double precision,
  hostname text,
  error text,
  next_retry_at timestamptz,
  queued_at timestamptz,
  heartbeat_at timestamptz,
  primary key (run_id, task_id, map_index)
);
create index task_instances_active_idx on task_instances (state)
  where state in ('scheduled', 'queued', 'running', 'up_for_retry');
create table task_tries (
  run_id int not null references dag_runs(id) on delete cascade,
  task_id text not null,
  map_index int not null,
  try_number int not null,
  state text not null,
  start_date timestamptz not null,
  end_date timestamptz,
  duration_ms double precision,
  hostname text,
  error text,
  primary key (run_id, task_id, map_index, try_number)
);
create table task_logs (
  id bigserial primary key,
  run_id int not null references dag_runs(id) on delete cascade,
  task_id text not null,
  map_index int not null,
  try_number int not null,
  ts timestamptz not null,
  stream text not null,
  line text not null
);
create index task_logs_try_idx on task_logs (run_id, task_id, map_index, try_number, id);
create table xcom (
  run_id int not null references dag_runs(id) on delete cascade,
  task_id text not null,
  map_index int not null,
  key text not null default 'return_value',
  value jsonb,
  artifact text,
  size_bytes int not null,
  created_at timestamptz not null default now(),
  primary key (run_id, task_id, map_index, key)
);
create table pools (
  name text primary key,
  slots int not null check (slots >= 0),
  description text not null default ''
);
insert into pools (name, slots, description)
  values ('default_pool', 128, 'The pool every task uses unless it names another');
`,
  },
  {
    version: 2,
    name: "distributed",
    sql: `
alter table task_instances add column worker_id text;
alter table task_instances add column scheduled_at timestamptz;
alter table task_instances add column map_item jsonb;
alter table dag_runs add column executor text not null default 'local';
create index task_instances_claim_idx on task_instances (pool, run_id)
  where state in ('scheduled', 'up_for_retry');
create index task_instances_worker_idx on task_instances (worker_id) where state in ('queued', 'running');
create index dag_runs_scheduled_idx on dag_runs (dag_id, logical_date desc) where run_type = 'scheduled';
`,
  },
  {
    version: 3,
    name: "try processes",
    sql: `
alter table task_tries add column pgid int;
alter table task_tries add column pgid_start bigint;
`,
  },
  {
    version: 4,
    name: "process heartbeats",
    sql: `
create table process_heartbeats (
  id text primary key,
  kind text not null,
  hostname text not null,
  pid int not null,
  status text not null default '',
  started_at timestamptz not null default now(),
  seen_at timestamptz not null default now()
);
`,
  },
  {
    version: 5,
    name: "claim in one statement",
    // A worker's claim as one statement (one round trip, no transaction held open from the
    // client): the candidates are locked (SKIP LOCKED), then the pools, then — in statements of
    // their own, whose snapshots see every slot the claims before this one took — the slots and
    // run slots in use counted, the claimable chosen in order, and the chosen queued under the
    // worker. See TaskQueue.claim.
    sql: `
create index task_instances_ready_idx on task_instances
  (scheduled_at nulls first, run_id, task_id, map_index) where state = 'scheduled';
create index task_instances_due_idx on task_instances (next_retry_at)
  where state in ('up_for_retry', 'up_for_reschedule');
${claimFunction("create", CANDIDATES_V5)}`,
  },
  {
    version: 6,
    name: "claim walks the ready index",
    sql: claimFunction("create or replace", CANDIDATES_V6, CLAIM_SETTINGS_V6),
  },
];

/**
 * What each client has applied, by component: the versions known to be in its database, and the
 * migration under way (so concurrent opens on one client wait for it instead of sending their own).
 * Kept per client object, so a wrapping client or a transaction's client starts empty.
 */
interface Ledger {
  applied: Map<string, Set<number>>;
  pending: Map<string, Promise<unknown>>;
}
const ledgers = new WeakMap<SqlClient, Ledger>();

function ledgerOf(db: SqlClient): Ledger {
  let ledger = ledgers.get(db);
  if (!ledger) ledgers.set(db, ledger = { applied: new Map(), pending: new Map() });
  return ledger;
}

/**
 * Applies the migrations of `component` that `db` lacks; returns the versions it applied. Each
 * component (the engine's "engine", and others such as a model registry that keep their own tables
 * in the same database) numbers its migrations on its own. Once a set is applied through `db`, the
 * same set (or any part of it) costs no round trip on `db` again.
 */
export async function migrate(
  db: SqlClient,
  migrations: readonly Migration[] = MIGRATIONS,
  component = "engine",
): Promise<number[]> {
  const ledger = ledgerOf(db);
  for (;;) {
    const known = ledger.applied.get(component);
    if (known && migrations.every((m) => known.has(m.version))) return [];
    const pending = ledger.pending.get(component);
    if (!pending) break;
    await pending.catch(() => {});
  }
  const run = applyMissing(db, migrations, component);
  ledger.pending.set(component, run);
  try {
    const applied = await run;
    const known = ledger.applied.get(component) ?? new Set<number>();
    for (const m of migrations) known.add(m.version);
    ledger.applied.set(component, known);
    return applied;
  } finally {
    ledger.pending.delete(component);
  }
}

/** The one SQL operation: under the lock, applies and records the versions the database lacks. */
async function applyMissing(
  db: SqlClient,
  migrations: readonly Migration[],
  component: string,
): Promise<number[]> {
  return await db.transaction(async (tx) => {
    await tx.query("select pg_advisory_xact_lock(73912)");
    await tx.exec(`create table if not exists schema_migrations (
      component text not null, version int not null, name text not null,
      applied_at timestamptz not null default now(), primary key (component, version))`);
    const done = new Set(
      (await tx.query<{ version: number }>(
        "select version from schema_migrations where component = $1",
        [
          component,
        ],
      )).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query(
        "insert into schema_migrations (component, version, name) values ($1, $2, $3)",
        [
          component,
          m.version,
          m.name,
        ],
      );
      applied.push(m.version);
    }
    return applied;
  });
}
