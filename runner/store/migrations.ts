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
create function driftflow_claim(p_worker text, p_hostname text, p_limit int, p_pools text[],
  p_now timestamptz, p_max_active jsonb)
returns table (run_id int, task_id text, map_index int, dag_id text, pool text, pool_slots int)
language plpgsql volatile as $fn$
#variable_conflict use_column
declare
  v_slots jsonb;
  v_candidates jsonb;
  v_used jsonb;
  v_active jsonb;
  v_chosen jsonb := '[]';
  v_n int := 0;
  v_item jsonb;
  v_pool text;
  v_need int;
  v_run text;
begin
  -- The claim's commit does not wait for the WAL flush (this transaction only): a claim lost with
  -- a server crash is only a lease gone — the instance is back to what it was, and the worker's
  -- start, which checks the claim, records nothing.
  perform set_config('synchronous_commit', 'off', true);
  -- The scheduled in the order of their index (a walk of it that stops at the limit, not a sort
  -- of every ready instance under the pools' lock), and the retries due, apart (an OR of both
  -- could use neither index).
  with c1 as (
    select ti.run_id, ti.task_id, ti.map_index, ti.pool, ti.pool_slots, r.dag_id, ti.scheduled_at
    from task_instances ti join dag_runs r on r.id = ti.run_id
    where ti.state = 'scheduled' and r.state = 'running'
      and (p_pools is null or ti.pool = any(p_pools))
    order by ti.scheduled_at nulls first, ti.run_id, ti.task_id, ti.map_index
    limit p_limit * 4
    for update of ti skip locked),
  c2 as (
    select ti.run_id, ti.task_id, ti.map_index, ti.pool, ti.pool_slots, r.dag_id, ti.scheduled_at
    from task_instances ti join dag_runs r on r.id = ti.run_id
    where ti.state in ('up_for_retry', 'up_for_reschedule') and ti.next_retry_at <= p_now
      and r.state = 'running' and (p_pools is null or ti.pool = any(p_pools))
    order by ti.scheduled_at nulls first, ti.run_id, ti.task_id, ti.map_index
    limit p_limit * 4
    for update of ti skip locked),
  c as (
    select * from c1 union all select * from c2
    order by scheduled_at nulls first, run_id, task_id, map_index
    limit p_limit * 4)
  select coalesce(jsonb_agg(c order by c.scheduled_at nulls first, c.run_id, c.task_id,
    c.map_index), '[]') into v_candidates from c;
  if jsonb_array_length(v_candidates) = 0 then return; end if;
  -- Then the pools, locked: claims take turns from here to their commit, and each counts (in
  -- statements whose snapshots follow the lock) every slot the claims before it took. The
  -- candidates were locked first, outside the turn (no other claim can take them meanwhile).
  perform 1 from pools p where p_pools is null or p.name = any(p_pools) order by p.name for update;
  select
    (select coalesce(jsonb_object_agg(p.name, p.slots), '{}') from pools p
       where p_pools is null or p.name = any(p_pools)),
    (select coalesce(jsonb_object_agg(u.pool, u.used), '{}') from (
       select t.pool, coalesce(sum(t.pool_slots), 0)::int as used from task_instances t
       where t.state in ('queued', 'running') and t.worker_id is not null
         and t.pool in (select e->>'pool' from jsonb_array_elements(v_candidates) e)
       group by t.pool) u),
    (select coalesce(jsonb_object_agg(a.run_id::text, a.n), '{}') from (
       select t.run_id, count(*)::int as n from task_instances t
       where t.state in ('queued', 'running') and t.worker_id is not null
         and t.run_id in (select (e->>'run_id')::int from jsonb_array_elements(v_candidates) e)
       group by t.run_id) a)
  into v_slots, v_used, v_active;
  for v_item in select e from jsonb_array_elements(v_candidates) as e loop
    exit when v_n >= p_limit;
    v_pool := v_item->>'pool';
    v_need := (v_item->>'pool_slots')::int;
    v_run := v_item->>'run_id';
    continue when coalesce((v_used->>v_pool)::int, 0) + v_need > coalesce((v_slots->>v_pool)::int, 0);
    continue when coalesce((v_active->>v_run)::int, 0)
      >= coalesce((p_max_active->>(v_item->>'dag_id'))::int, 16);
    v_used := jsonb_set(v_used, array[v_pool], to_jsonb(coalesce((v_used->>v_pool)::int, 0) + v_need));
    v_active := jsonb_set(v_active, array[v_run], to_jsonb(coalesce((v_active->>v_run)::int, 0) + 1));
    v_n := v_n + 1;
    v_chosen := v_chosen || jsonb_build_array(v_item || jsonb_build_object('ord', v_n));
  end loop;
  if v_n = 0 then return; end if;
  -- heartbeat_at is reset with the claim: it still holds the previous try's last beat, and
  -- requeueStale (and zombies) would take that for a claim gone stale.
  return query
  with k as (
    select * from jsonb_to_recordset(v_chosen) as k(run_id int, task_id text, map_index int,
      dag_id text, ord int)),
  u as (
    update task_instances ti set state = 'queued', worker_id = p_worker, hostname = p_hostname,
      queued_at = p_now, heartbeat_at = p_now
    from k
    where ti.run_id = k.run_id and ti.task_id = k.task_id and ti.map_index = k.map_index
    returning ti.run_id, ti.task_id, ti.map_index, k.dag_id, ti.pool, ti.pool_slots, k.ord)
  select u.run_id, u.task_id, u.map_index, u.dag_id, u.pool, u.pool_slots from u order by u.ord;
end
$fn$;
`,
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
