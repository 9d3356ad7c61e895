/**
 * The claim function (`driftflow_claim`, migrations 5 and 6): a worker's claim in one statement,
 * one round trip, no transaction held open from the client. The candidates are locked (SKIP
 * LOCKED), then the pools; then, in statements of their own whose snapshots see every slot the
 * claims before this one took, the slots and run slots in use are counted, the claimable chosen in
 * order and queued under the worker. Only the candidate query differs between the migrations; the
 * SQL of a shipped migration stays byte for byte what it was (tests/runner/store_migrations_test.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CANDIDATES_V6, claimFunction } from "./claim_function.ts";
 * const sql = claimFunction("create or replace", CANDIDATES_V6);
 * assert.ok(sql.startsWith("create or replace function driftflow_claim("));
 * ```
 */
/**
 * The claim function of migrations 5 and 6 around its candidate query (the ready instances, locked
 * with SKIP LOCKED, as `c`); see TaskQueue.claim.
 */
export function claimFunction(
  create: "create" | "create or replace",
  candidates: string,
  settings = "",
): string {
  return `${create} function driftflow_claim(p_worker text, p_hostname text, p_limit int, p_pools text[],
  p_now timestamptz, p_max_active jsonb)
returns table (run_id int, task_id text, map_index int, dag_id text, pool text, pool_slots int)
language plpgsql volatile${settings} as $fn$
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
${candidates}  select coalesce(jsonb_agg(c order by c.scheduled_at nulls first, c.run_id, c.task_id,
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
`;
}

/** Migration 5's candidates: the ready instances joined with their running runs. */
export const CANDIDATES_V5 = `  with c1 as (
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
`;

/** Migration 6's candidates. */
export const CANDIDATES_V6 =
  `  -- Each candidate's run is looked up per row (a subquery, not a join the planner could start
  -- from), and dag_id read for the chosen few.
  with c1 as (
    select ti.run_id, ti.task_id, ti.map_index, ti.pool, ti.pool_slots, ti.scheduled_at
    from task_instances ti
    where ti.state = 'scheduled' and (p_pools is null or ti.pool = any(p_pools))
      and (select r.state from dag_runs r where r.id = ti.run_id) = 'running'
    order by ti.scheduled_at nulls first, ti.run_id, ti.task_id, ti.map_index
    limit p_limit * 4
    for update skip locked),
  c2 as (
    select ti.run_id, ti.task_id, ti.map_index, ti.pool, ti.pool_slots, ti.scheduled_at
    from task_instances ti
    where ti.state in ('up_for_retry', 'up_for_reschedule') and ti.next_retry_at <= p_now
      and (p_pools is null or ti.pool = any(p_pools))
      and (select r.state from dag_runs r where r.id = ti.run_id) = 'running'
    order by ti.scheduled_at nulls first, ti.run_id, ti.task_id, ti.map_index
    limit p_limit * 4
    for update skip locked),
  c as (
    select c0.*, r.dag_id from (
      select * from c1 union all select * from c2
      order by scheduled_at nulls first, run_id, task_id, map_index
      limit p_limit * 4) c0
    join dag_runs r on r.id = c0.run_id)
`;

/**
 * Migration 6's settings, for the claim function's own statements only: no plan that reads and
 * sorts every ready instance (a bitmap scan and a sort, or a join from the running runs) where the
 * ready index walked in its order stops at the limit, and no hash or merge join that scans the whole
 * table to queue the chosen few. The planner took those on a table that grew faster than its
 * statistics (5,000 instances expanded at once looked like 10): 2–3 ms a claim at 3,000 ready, 0.5
 * ms after. JIT off: the penalty these settings put on a plan's cost would have it compiled (250 ms).
 */
export const CLAIM_SETTINGS_V6 = "\nset enable_sort = off set enable_bitmapscan = off" +
  " set enable_hashjoin = off set enable_mergejoin = off set jit = off";
