/**
 * The task queue on PostgreSQL, for workers on many machines: claiming ready task instances with
 * `FOR UPDATE SKIP LOCKED` within pool slots and per-run limits, heartbeats, finding zombies, and
 * LISTEN/NOTIFY wake-ups. No broker: PostgreSQL is the coordination engine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TaskStructure } from "../core/dag_structure.ts";
 * import { openStore } from "./open.ts";
 * import { TaskQueue } from "./queue.ts";
 * const store = await openStore({ memory: true });
 * try {
 *   const now = new Date();
 *   const extract: TaskStructure = {
 *     id: "extract",
 *     kind: "function",
 *     deps: [],
 *     triggerRule: "all_success",
 *     mapped: false,
 *   };
 *   const run = await store.createRun({ // what createDagRun(store, dag, { executor }) makes
 *     dagId: "etl",
 *     logicalDate: now,
 *     dataIntervalStart: now,
 *     dataIntervalEnd: now,
 *     runType: "manual",
 *     conf: {},
 *     params: {},
 *     structure: { dagId: "etl", schedule: null, tasks: [extract] },
 *     structureHash: "etl-1",
 *     executor: "distributed",
 *     tasks: [{ taskId: "extract", maxTries: 1, pool: "default_pool", poolSlots: 1 }],
 *   });
 *   await store.setRunState(run.id, "running", now); // what the scheduler does
 *   await store.setTaskState({ runId: run.id, taskId: "extract", mapIndex: -1 }, "scheduled");
 *   const queue = new TaskQueue(store.db);
 *   const claim = { workerId: "w1", hostname: "box", limit: 4, pools: null, now };
 *   const claimed = await queue.claim(claim);
 *   assert.deepEqual(claimed.map((c) => [c.taskId, c.pool]), [["extract", "default_pool"]]);
 *   assert.deepEqual(await queue.claim(claim), []); // queued under w1 now
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { SqlClient } from "./sql_client.ts";
import type { TiKey } from "./types.ts";

/** Channels workers and the scheduler wake each other on. */
export const CHANNEL_TASKS = "driftflow_tasks";
export const CHANNEL_SCHEDULER = "driftflow_scheduler";

/** A task instance a worker claimed. */
export interface Claimed extends TiKey {
  dagId: string;
  pool: string;
  poolSlots: number;
}

/** What a claim may take. */
export interface ClaimOptions {
  workerId: string;
  hostname: string;
  /** How many task instances at most. */
  limit: number;
  /** Only these pools (null: all). */
  pools: readonly string[] | null;
  now: Date;
  /** Each DAG's maxActiveTasks, by DAG id (default 16), held across all workers. */
  maxActiveTasks?: ReadonlyMap<string, number>;
}

type Row = Record<string, unknown>;

export class TaskQueue {
  constructor(readonly db: SqlClient) {}

  /**
   * Claims ready task instances (scheduled, or up for retry and due): they turn `queued` under this
   * worker. The pool rows are locked while slots are counted, so pools hold across workers. Slots in
   * use are those of tries held by a worker (a mapped task's own row, "running" while its items run,
   * holds none). One statement, one round trip (the function of migration 5).
   */
  async claim(o: ClaimOptions): Promise<Claimed[]> {
    const rows = await this.db.query<Row>(
      `select run_id, task_id, map_index, dag_id, pool, pool_slots
       from driftflow_claim($1, $2, $3, $4::text[], $5::timestamptz, $6::text::jsonb)`,
      [
        o.workerId,
        o.hostname,
        o.limit,
        o.pools,
        o.now.toISOString(),
        JSON.stringify(Object.fromEntries(o.maxActiveTasks ?? [])),
      ],
    );
    return rows.map((r) => ({
      runId: Number(r.run_id),
      taskId: String(r.task_id),
      mapIndex: Number(r.map_index),
      dagId: String(r.dag_id),
      pool: String(r.pool),
      poolSlots: Number(r.pool_slots),
    }));
  }

  /**
   * Marks every try this worker runs as alive; returns their instances (one the worker runs that is
   * not among them has left `queued`/`running` meanwhile: skipped by a run's timeout, cleared).
   */
  async heartbeat(workerId: string, now: Date): Promise<TiKey[]> {
    const rows = await this.db.query<Row>(
      `update task_instances set heartbeat_at = $2::timestamptz where worker_id = $1 and state in ('queued', 'running')
       returning run_id, task_id, map_index`,
      [workerId, now.toISOString()],
    );
    return rows.map((r) => ({
      runId: Number(r.run_id),
      taskId: String(r.task_id),
      mapIndex: Number(r.map_index),
    }));
  }

  /**
   * Running tries whose heartbeat is older than `before` (their worker is gone), with how many of
   * the instance's earlier tries ended as zombies.
   */
  async zombies(before: Date): Promise<
    (TiKey & {
      tryNumber: number;
      maxTries: number;
      workerId: string | null;
      zombieTries: number;
    })[]
  > {
    const rows = await this.db.query<Row>(
      `select ti.run_id, ti.task_id, ti.map_index, ti.try_number, ti.max_tries, ti.worker_id,
         (select count(*) from task_tries tt where tt.run_id = ti.run_id and tt.task_id = ti.task_id
            and tt.map_index = ti.map_index and tt.error like 'zombie:%')::int as zombie_tries
       from task_instances ti join dag_runs r on r.id = ti.run_id
       where ti.state = 'running' and ti.heartbeat_at < $1::timestamptz and r.executor = 'distributed'`,
      [before.toISOString()],
    );
    return rows.map((r) => ({
      runId: Number(r.run_id),
      taskId: String(r.task_id),
      mapIndex: Number(r.map_index),
      tryNumber: Number(r.try_number),
      maxTries: Number(r.max_tries),
      workerId: (r.worker_id ?? null) as string | null,
      zombieTries: Number(r.zombie_tries),
    }));
  }

  /**
   * Ends a zombie try — only if it is still that try, still running and still without a
   * heartbeat since `before` (its worker may have come back meanwhile). `grant` gives the instance
   * one more try (a try lost with its worker is not the task's failure). True if it ended it.
   */
  async reapZombie(
    z: TiKey & { tryNumber: number },
    o: {
      before: Date;
      now: Date;
      state: "up_for_retry" | "failed";
      error: string;
      grant: boolean;
    },
  ): Promise<boolean> {
    const rows = await this.db.query(
      `with ti as (
         update task_instances set state = $5, end_date = $6::timestamptz, duration_ms = 0, error = $7,
           next_retry_at = case when $5 = 'up_for_retry' then $6::timestamptz end, worker_id = null,
           max_tries = max_tries + (case when $8 then 1 else 0 end)
         where run_id = $1 and task_id = $2 and map_index = $3 and try_number = $4
           and state = 'running' and heartbeat_at < $9::timestamptz
         returning 1),
       tr as (update task_tries set state = $5, end_date = $6::timestamptz, duration_ms = 0, error = $7
         where run_id = $1 and task_id = $2 and map_index = $3 and try_number = $4
           and exists (select 1 from ti))
       select 1 from ti`,
      [
        z.runId,
        z.taskId,
        z.mapIndex,
        z.tryNumber,
        o.state,
        o.now.toISOString(),
        o.error,
        o.grant,
        o.before.toISOString(),
      ],
    );
    return rows.length > 0;
  }

  /**
   * Gives back a try this worker started ({@link Store.startTryAndRead}) but could not run: it
   * ends as up for retry, due at once, with one more try granted (it does not use up a retry) —
   * only while it is still that try, running under this worker.
   */
  async unclaimStarted(
    key: TiKey,
    tryNumber: number,
    workerId: string,
    now: Date,
    error: string,
  ): Promise<void> {
    await this.db.query(
      `with ti as (
         update task_instances set state = 'up_for_retry', end_date = $6::timestamptz, duration_ms = 0,
           error = $7, next_retry_at = $6::timestamptz, worker_id = null, max_tries = max_tries + 1
         where run_id = $1 and task_id = $2 and map_index = $3 and try_number = $4
           and worker_id = $5 and state = 'running'
         returning 1)
       update task_tries set state = 'up_for_retry', end_date = $6::timestamptz, duration_ms = 0,
         error = $7
       where run_id = $1 and task_id = $2 and map_index = $3 and try_number = $4
         and exists (select 1 from ti)`,
      [key.runId, key.taskId, key.mapIndex, tryNumber, workerId, now.toISOString(), error],
    );
  }

  /** Gives back a claim this worker could not start (it goes back to `scheduled` at once). */
  async unclaim(key: TiKey, workerId: string): Promise<void> {
    await this.db.query(
      `update task_instances set state = 'scheduled', worker_id = null
       where run_id = $1 and task_id = $2 and map_index = $3 and worker_id = $4 and state = 'queued'`,
      [key.runId, key.taskId, key.mapIndex, workerId],
    );
  }

  /** Puts back task instances claimed (queued) but not started before `before`: their worker is gone. */
  async requeueStale(before: Date): Promise<number> {
    const rows = await this.db.query<Row>(
      `update task_instances set state = 'scheduled', worker_id = null
       where state = 'queued' and coalesce(heartbeat_at, queued_at) < $1::timestamptz returning 1`,
      [before.toISOString()],
    );
    return rows.length;
  }

  /** Gives a task instance one more try (a try released by a worker shutting down does not count). */
  async grantTry(key: TiKey): Promise<void> {
    await this.db.query(
      "update task_instances set max_tries = max_tries + 1 where run_id = $1 and task_id = $2 and map_index = $3",
      [key.runId, key.taskId, key.mapIndex],
    );
  }

  /** True when some of `taskIds` (mapped tasks of run `runId`) have no unfinished item left. */
  async anyItemsFinished(runId: number, taskIds: readonly string[]): Promise<boolean> {
    const rows = await this.db.query<Row>(
      // From the last item backwards: items are claimed in order, so while a task runs its last
      // ones are unfinished and the look stops at once (forwards it passed every finished one,
      // for every check of every worker).
      // (A scalar subquery: inside NOT EXISTS the order would be dropped.)
      `select 1 from unnest($2::text[]) as t(task_id) where (
         select ti.map_index from task_instances ti where ti.run_id = $1 and ti.task_id = t.task_id
           and ti.map_index >= 0
           and (ti.state is null or ti.state not in ('success', 'failed', 'skipped', 'upstream_failed'))
         order by ti.map_index desc limit 1) is null
       limit 1`,
      [runId, taskIds],
    );
    return rows.length > 0;
  }

  /** Wakes the listeners of `channel`. */
  async notify(channel: string, payload = ""): Promise<void> {
    await this.db.query("select pg_notify($1, $2)", [channel, payload]);
  }
}
