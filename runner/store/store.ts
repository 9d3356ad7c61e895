/**
 * The state store: DAGs, runs, task instances with every try, logs, XCom and pools, in PostgreSQL
 * (PGlite or a server — the same SQL through {@link SqlClient}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TaskStructure } from "../core/dag_structure.ts";
 * import { openStore } from "./open.ts";
 * // openStore() opens PGlite in .driftflow/, or the server at DATABASE_URL
 * const store = await openStore({ memory: true });
 * try {
 *   const at = new Date("2026-01-01T00:00:00Z");
 *   const extract: TaskStructure = {
 *     id: "extract",
 *     kind: "function",
 *     deps: [],
 *     triggerRule: "all_success",
 *     mapped: false,
 *   };
 *   const run = await store.createRun({ // what runner/runs.ts's createDagRun makes from a DAG
 *     dagId: "example",
 *     logicalDate: at,
 *     dataIntervalStart: at,
 *     dataIntervalEnd: at,
 *     runType: "manual",
 *     conf: {},
 *     params: {},
 *     structure: { dagId: "example", schedule: null, tasks: [extract] },
 *     structureHash: "example-1",
 *     tasks: [{ taskId: "extract", maxTries: 1, pool: "default_pool", poolSlots: 1 }],
 *   });
 *   const runs = await store.listRuns("example", { limit: 10 });
 *   assert.deepEqual(runs.map((r) => [r.id, r.state]), [[run.id, "queued"]]);
 *   assert.deepEqual((await store.taskInstances(run.id)).map((ti) => ti.taskId), ["extract"]);
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { RunState, TaskState } from "../core/states.ts";
import type { DagStructure } from "../core/dag_structure.ts";
import { ASSET_MIGRATIONS } from "./assets_schema.ts";
import { GroupWriter } from "./group_write.ts";
import { migrate } from "./migrations.ts";
import type { SqlClient } from "./sql_client.ts";
import type {
  DagRecord,
  DagRun,
  LogLine,
  NewRun,
  Pool,
  TaskInstance,
  TaskTry,
  TiKey,
  XcomRecord,
} from "./types.ts";

/** Thrown when a run already exists for a DAG and logical date. */
export class RunExistsError extends Error {
  constructor(readonly dagId: string, readonly logicalDate: Date, readonly existingId: number) {
    super(
      `a run of dag "${dagId}" at logical date ${logicalDate.toISOString()} already exists (run ${existingId}); ` +
        `pick another --date or resume that run with --resume ${existingId}`,
    );
  }
}

type Row = Record<string, unknown>;
const iso = (d: Date | number | null | undefined) => d == null ? null : new Date(d).toISOString();
const date = (v: unknown) => (v == null ? null : v instanceof Date ? v : new Date(String(v)));
const json = (v: unknown) => JSON.stringify(v ?? null);

const RUN_COLUMNS =
  `id, dag_id, logical_date, data_interval_start, data_interval_end, run_type, state,
  conf, params, structure_hash, triggered_by, executor, queued_at, start_date, end_date`;
const TI_COLUMNS = `run_id, task_id, map_index, state, try_number, max_tries, pool, pool_slots,
  start_date, end_date, duration_ms, hostname, error, next_retry_at`;
/** {@link TI_COLUMNS} of table alias `t`. */
const TI_OF = (t: string) => TI_COLUMNS.split(",").map((c) => `${t}.${c.trim()}`).join(", ");

function toRun(r: Row): DagRun {
  return {
    id: Number(r.id),
    dagId: String(r.dag_id),
    logicalDate: date(r.logical_date)!,
    dataIntervalStart: date(r.data_interval_start)!,
    dataIntervalEnd: date(r.data_interval_end)!,
    runType: r.run_type as DagRun["runType"],
    state: r.state as RunState,
    conf: (r.conf ?? {}) as Record<string, unknown>,
    params: (r.params ?? {}) as Record<string, unknown>,
    structureHash: String(r.structure_hash),
    triggeredBy: (r.triggered_by ?? null) as DagRun["triggeredBy"],
    executor: (r.executor ?? "local") as DagRun["executor"],
    queuedAt: date(r.queued_at)!,
    startDate: date(r.start_date),
    endDate: date(r.end_date),
  };
}

function toXcom(r: Row): XcomRecord {
  return {
    taskId: String(r.task_id),
    mapIndex: Number(r.map_index),
    key: String(r.key),
    value: r.value ?? null,
    artifact: (r.artifact ?? null) as string | null,
    sizeBytes: Number(r.size_bytes),
  };
}

function toTi(r: Row): TaskInstance {
  return {
    runId: Number(r.run_id),
    taskId: String(r.task_id),
    mapIndex: Number(r.map_index),
    state: (r.state ?? null) as TaskState | null,
    tryNumber: Number(r.try_number),
    maxTries: Number(r.max_tries),
    pool: String(r.pool),
    poolSlots: Number(r.pool_slots),
    startDate: date(r.start_date),
    endDate: date(r.end_date),
    durationMs: r.duration_ms == null ? null : Number(r.duration_ms),
    hostname: (r.hostname ?? null) as string | null,
    error: (r.error ?? null) as string | null,
    nextRetryAt: date(r.next_retry_at),
  };
}

/** A worker's start of a claimed try, as {@link Store.startTryAndRead} takes it. */
interface TryStartAndRead {
  key: TiKey;
  at: Date;
  hostname: string;
  workerId: string;
  others: readonly string[];
  reads: readonly string[];
}

/** A try {@link Store.startTryAndRead} started: its number and what it reads. */
export interface TryStartedAndRead {
  tryNumber: number;
  tis: TaskInstance[];
  item: unknown;
  xcoms: XcomRecord[];
}

/** A try's start, as {@link Store.startTry} takes it. */
interface TryStart {
  key: TiKey;
  tryNumber: number;
  at: Date;
  hostname: string;
  workerId: string | null;
}

/** A try's end, as {@link Store.finishTry} takes it. */
export interface TryEnd {
  state: "success" | "failed" | "up_for_retry" | "up_for_reschedule" | "skipped";
  at: Date;
  durationMs: number;
  error?: string | null;
  nextRetryAt?: Date | null;
  xcom?: { value: unknown; artifact: string | null; sizeBytes: number } | null;
}

const toKey = (r: Row): TiKey => ({
  runId: Number(r.run_id),
  taskId: String(r.task_id),
  mapIndex: Number(r.map_index),
});
const keyOf = (k: TiKey) => `${k.runId}\u0000${k.taskId}\u0000${k.mapIndex}`;

/** The engine's persistent state. */
export class Store {
  /**
   * Starts and ends of tries made while others are being written go out together (group commit,
   * see group_write.ts): one statement and one commit for a whole scheduling pass's worth.
   */
  readonly #starts: GroupWriter<TryStart, boolean>;
  readonly #ends: GroupWriter<{ key: TiKey; tryNumber: number; end: TryEnd }, boolean>;
  readonly #startsAndReads: GroupWriter<TryStartAndRead, TryStartedAndRead | null>;

  constructor(readonly db: SqlClient) {
    // As many writes at once as the client runs statements at once: batches form only when
    // writes would queue anyway, so none waits for a batch it did not need. Starts and ends, the
    // writes of every try, at most two at once: each commit waits for the WAL flush, and fewer,
    // larger ones cost the server less than one per connection (a worker's 16 tries ending at
    // once: a few statements, not ten).
    const maxInFlight = Math.max(1, db.connections ?? 1);
    const perTry = Math.min(maxInFlight, 2);
    this.#starts = new GroupWriter({
      one: (s) => this.#startOne(s),
      many: (ss) => this.#startMany(ss),
      key: (s) => keyOf(s.key),
      maxInFlight,
    });
    this.#startsAndReads = new GroupWriter({
      one: (s) => this.#startAndReadMany([s]).then(([r]) => r),
      many: (ss) => this.#startAndReadMany(ss),
      key: (s) => keyOf(s.key),
      maxInFlight: perTry,
      gather: true, // a worker starts the tries of one claim in one loop
    });
    this.#ends = new GroupWriter({
      one: (e) => this.#finishOne(e.key, e.tryNumber, e.end),
      many: (es) => this.#finishMany(es),
      key: (e) => keyOf(e.key),
      maxInFlight: perTry,
      // tries started by one statement end together (a no-op's, a short task's): their ends go
      // out in one statement too, not the first two alone and the rest after them
      gather: true,
    });
  }

  /** Applies pending migrations (the engine's, then the assets' component); the engine's applied. */
  async migrate(): Promise<number[]> {
    const applied = await migrate(this.db);
    await migrate(this.db, ASSET_MIGRATIONS, "assets");
    return applied;
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // ---- DAGs -------------------------------------------------------------------------------------

  /** Records a DAG as loaded from its file, with the hash and copy of its structure. */
  async upsertDag(d: {
    dagId: string;
    fileloc: string | null;
    schedule: string | null;
    timezone: string;
    description: string | null;
    paramsSchema: unknown;
    structure: DagStructure;
    structureHash: string;
  }): Promise<void> {
    await this.saveStructure(d.structureHash, d.dagId, d.structure);
    await this.db.query(
      `insert into dags (dag_id, fileloc, schedule, timezone, description, params_schema, structure_hash, updated_at)
       values ($1, $2, $3, $4, $5, $6::text::jsonb, $7, now())
       on conflict (dag_id) do update set fileloc = excluded.fileloc, schedule = excluded.schedule,
         timezone = excluded.timezone, description = excluded.description,
         params_schema = excluded.params_schema, structure_hash = excluded.structure_hash, updated_at = now()`,
      [
        d.dagId,
        d.fileloc,
        d.schedule,
        d.timezone,
        d.description,
        json(d.paramsSchema),
        d.structureHash,
      ],
    );
  }

  /** Stores a structure under its hash (once). */
  async saveStructure(hash: string, dagId: string, structure: DagStructure): Promise<void> {
    await this.db.query(
      `insert into dag_versions (hash, dag_id, structure) values ($1, $2, $3::text::jsonb) on conflict (hash) do nothing`,
      [hash, dagId, json(structure)],
    );
  }

  /** The structure recorded under `hash`. */
  async structure(hash: string): Promise<DagStructure | null> {
    const rows = await this.db.query<{ structure: DagStructure }>(
      "select structure from dag_versions where hash = $1",
      [hash],
    );
    return rows[0]?.structure ?? null;
  }

  /** Every known DAG with its last run's state. */
  async listDags(): Promise<DagRecord[]> {
    const rows = await this.db.query<Row>(
      `select d.*, r.state as last_state, r.id as last_id from dags d
       left join lateral (select id, state from dag_runs where dag_id = d.dag_id order by id desc limit 1) r on true
       order by d.dag_id`,
    );
    return rows.map((r) => ({
      dagId: String(r.dag_id),
      fileloc: (r.fileloc ?? null) as string | null,
      schedule: (r.schedule ?? null) as string | null,
      timezone: String(r.timezone),
      description: (r.description ?? null) as string | null,
      isPaused: Boolean(r.is_paused),
      paramsSchema: r.params_schema ?? null,
      structureHash: (r.structure_hash ?? null) as string | null,
      lastRunState: (r.last_state ?? null) as RunState | null,
      lastRunId: r.last_id == null ? null : Number(r.last_id),
    }));
  }

  /** Pauses or unpauses a DAG's schedule. */
  async setPaused(dagId: string, paused: boolean): Promise<void> {
    await this.db.query("update dags set is_paused = $2 where dag_id = $1", [dagId, paused]);
  }

  // ---- runs -------------------------------------------------------------------------------------

  /** Creates a run and its task instances in one transaction; throws RunExistsError on a duplicate. */
  async createRun(n: NewRun): Promise<DagRun> {
    await this.saveStructure(n.structureHash, n.dagId, n.structure);
    return await this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(
        `insert into dag_runs (dag_id, logical_date, data_interval_start, data_interval_end, run_type, state,
           conf, params, structure_hash, triggered_by, executor)
         values ($1, $2::timestamptz, $3::timestamptz, $4::timestamptz, $5, 'queued', $6::text::jsonb, $7::text::jsonb, $8, $9::text::jsonb, $10)
         on conflict (dag_id, logical_date) do nothing
         returning ${RUN_COLUMNS}`,
        [
          n.dagId,
          iso(n.logicalDate),
          iso(n.dataIntervalStart),
          iso(n.dataIntervalEnd),
          n.runType,
          json(n.conf),
          json(n.params),
          n.structureHash,
          n.triggeredBy ? json(n.triggeredBy) : null,
          n.executor ?? "local",
        ],
      );
      if (rows.length === 0) {
        const existing = await tx.query<{ id: number }>(
          "select id from dag_runs where dag_id = $1 and logical_date = $2::timestamptz",
          [n.dagId, iso(n.logicalDate)],
        );
        throw new RunExistsError(n.dagId, n.logicalDate, Number(existing[0]?.id));
      }
      const run = toRun(rows[0]);
      await tx.query(
        `insert into task_instances (run_id, task_id, map_index, max_tries, retries, pool, pool_slots)
         select $1, t.task_id, -1, t.max_tries, t.max_tries, t.pool, t.pool_slots
         from jsonb_to_recordset($2::text::jsonb) as t(task_id text, max_tries int, pool text, pool_slots int)`,
        [
          run.id,
          json(n.tasks.map((t) => ({
            task_id: t.taskId,
            max_tries: t.maxTries,
            pool: t.pool,
            pool_slots: t.poolSlots,
          }))),
        ],
      );
      return run;
    });
  }

  async getRun(id: number): Promise<DagRun | null> {
    const rows = await this.db.query<Row>(`select ${RUN_COLUMNS} from dag_runs where id = $1`, [
      id,
    ]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** A DAG's runs, newest first. */
  async listRuns(
    dagId: string | null,
    opts: { limit?: number; offset?: number; states?: RunState[] } = {},
  ): Promise<DagRun[]> {
    // one statement per shape, so the planner can use (dag_id, id desc) instead of a generic plan
    const where = [
      ...(dagId === null ? [] : ["dag_id = $3"]),
      ...(opts.states ? [`state = any($${dagId === null ? 3 : 4}::text[])`] : []),
    ];
    const rows = await this.db.query<Row>(
      `select ${RUN_COLUMNS} from dag_runs ${where.length ? `where ${where.join(" and ")}` : ""}
       order by id desc limit $1 offset $2`,
      [
        opts.limit ?? 25,
        opts.offset ?? 0,
        ...(dagId === null ? [] : [dagId]),
        ...(opts.states ? [opts.states] : []),
      ],
    );
    return rows.map(toRun);
  }

  /** The latest `perDag` runs of every known DAG, in one query (newest first within each DAG). */
  async recentRuns(perDag: number): Promise<DagRun[]> {
    const rows = await this.db.query<Row>(
      `select r.* from dags d cross join lateral (select ${RUN_COLUMNS} from dag_runs
         where dag_id = d.dag_id order by id desc limit $1) r order by r.dag_id, r.id desc`,
      [perDag],
    );
    return rows.map(toRun);
  }

  /** How many runs a DAG has (or all DAGs), by state. */
  async countRuns(dagId: string | null = null): Promise<Record<string, number>> {
    const rows = await this.db.query<{ state: string; n: number }>(
      "select state, count(*)::int as n from dag_runs where ($1::text is null or dag_id = $1) group by state",
      [dagId],
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  /** How many runs each DAG has in each state, by DAG then state. */
  async countRunsByDag(): Promise<{ dagId: string; state: RunState; n: number }[]> {
    const rows = await this.db.query<{ dag_id: string; state: RunState; n: number }>(
      "select dag_id, state, count(*)::int as n from dag_runs group by dag_id, state order by 1, 2",
    );
    return rows.map((r) => ({ dagId: r.dag_id, state: r.state, n: Number(r.n) }));
  }

  /** How many runs wait in `queued` (for the banner that says whether anything will pick them up). */
  async countQueuedRuns(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      "select count(*)::int as n from dag_runs where state = 'queued'",
    );
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Sets a run's state; `running` stamps the start (once), success/failed the end. The stamps come
   * from the database's clock, the one that stamped `queued_at`, so a run never starts before it
   * was queued whatever the clocks of the processes say (`_at` is kept for the callers' sake).
   */
  async setRunState(id: number, state: RunState, _at: Date): Promise<void> {
    await this.db.query(
      `update dag_runs set state = $2,
         start_date = case when $2 = 'running' then coalesce(start_date, greatest(clock_timestamp(), queued_at))
                           when $2 = 'failed' then coalesce(start_date, greatest(clock_timestamp(), queued_at))
                           else start_date end,
         end_date = case when $2 in ('success', 'failed') then greatest(clock_timestamp(), queued_at)
                         when $2 in ('queued', 'running') then null else end_date end
       where id = $1`,
      [id, state],
    );
  }

  /** Runs that the scheduler and workers carry, in the given states. */
  async distributedRuns(states: RunState[]): Promise<DagRun[]> {
    const rows = await this.db.query<Row>(
      `select ${RUN_COLUMNS} from dag_runs where executor = 'distributed' and state = any($1::text[])
       order by logical_date, id`,
      [states],
    );
    return rows.map(toRun);
  }

  /** Moves a run from queued to running when its DAG has fewer than `max` running; true if it did. */
  async startRunIfRoom(runId: number, dagId: string, max: number, _at: Date): Promise<boolean> {
    const rows = await this.db.query(
      `update dag_runs set state = 'running',
         start_date = coalesce(start_date, greatest(clock_timestamp(), queued_at))
       where id = $1 and state = 'queued'
         and (select count(*) from dag_runs where dag_id = $2 and state = 'running') < $3
       returning id`,
      [runId, dagId, max],
    );
    return rows.length > 0;
  }

  /** The latest logical date of a DAG's scheduled runs. */
  async lastScheduledDate(dagId: string): Promise<Date | null> {
    const rows = await this.db.query<{ d: unknown }>(
      "select max(logical_date) as d from dag_runs where dag_id = $1 and run_type = 'scheduled'",
      [dagId],
    );
    return date(rows[0]?.d);
  }

  /** The ids of paused DAGs. */
  async pausedDags(): Promise<Set<string>> {
    const rows = await this.db.query<{ dag_id: string }>("select dag_id from dags where is_paused");
    return new Set(rows.map((r) => r.dag_id));
  }

  // ---- task instances ---------------------------------------------------------------------------

  /** A run's task instances (of the named tasks only, when `taskIds` is given). */
  async taskInstances(runId: number, taskIds?: readonly string[]): Promise<TaskInstance[]> {
    const rows = await this.db.query<Row>(
      `select ${TI_COLUMNS} from task_instances where run_id = $1 and ($2::text[] is null or task_id = any($2::text[]))
       order by task_id, map_index`,
      [runId, taskIds ?? null],
    );
    return rows.map(toTi);
  }

  /** How many task instances there are in each state (null: not yet scheduled), of every run. */
  async countTaskInstancesByState(): Promise<{ state: TaskState | null; n: number }[]> {
    const rows = await this.db.query<{ state: TaskState | null; n: number }>(
      "select state, count(*)::int as n from task_instances group by 1 order by 1 nulls first",
    );
    return rows.map((r) => ({ state: r.state ?? null, n: Number(r.n) }));
  }

  /**
   * What one try needs to see: its own instance (and its mapped parent) and all of `others`; and
   * its map item (undefined for an instance that is not a mapped item).
   */
  async taskInstancesForTry(
    key: TiKey,
    others: readonly string[],
  ): Promise<{ tis: TaskInstance[]; item: unknown }> {
    const rows = await this.db.query<Row>(
      `select ${TI_COLUMNS}, (task_id = $2 and map_index = $3) as own,
         case when task_id = $2 and map_index = $3 then map_item end as map_item
       from task_instances where run_id = $1 and (task_id = any($4::text[])
         or (task_id = $2 and map_index in (-1, $3)))
       order by task_id, map_index`,
      [key.runId, key.taskId, key.mapIndex, others],
    );
    return { tis: rows.map(toTi), item: rows.find((r) => r.own === true)?.map_item };
  }

  /** Task instances of many runs at once (for grids), in one query. */
  async taskInstancesOfRuns(runIds: readonly number[]): Promise<TaskInstance[]> {
    if (runIds.length === 0) return [];
    const rows = await this.db.query<Row>(
      `select ${TI_COLUMNS} from task_instances where run_id = any($1::int[]) order by run_id, task_id, map_index`,
      [runIds],
    );
    return rows.map(toTi);
  }

  /** Adds the instances of a mapped task, one per item (map indexes 0…n-1), each with its item. */
  async expandMapped(key: TiKey, items: readonly unknown[]): Promise<void> {
    await this.db.query(
      `insert into task_instances (run_id, task_id, map_index, max_tries, retries, pool, pool_slots, state,
         scheduled_at, map_item)
       select p.run_id, p.task_id, (i.n - 1)::int, p.retries, p.retries, p.pool, p.pool_slots, 'scheduled', now(), i.item
       from task_instances p, jsonb_array_elements($3::text::jsonb) with ordinality as i(item, n)
       where p.run_id = $1 and p.task_id = $2 and p.map_index = -1
       on conflict do nothing`,
      [key.runId, key.taskId, JSON.stringify(items)],
    );
  }

  /** The item of one instance of a mapped task. */
  async mapItem(key: TiKey): Promise<unknown> {
    const rows = await this.db.query<{ map_item: unknown }>(
      "select map_item from task_instances where run_id = $1 and task_id = $2 and map_index = $3",
      [key.runId, key.taskId, key.mapIndex],
    );
    return rows[0]?.map_item;
  }

  /**
   * Sets the state of a task instance that is not being tried (scheduled, skipped, …). With
   * `wake`, the instance is scheduled and the listeners of that channel are woken by the same
   * statement, which does not wait for the WAL flush: a later synchronous commit (the try's start)
   * flushes it, and lost with a server crash it is only scheduled again by the next pass.
   */
  async setTaskState(
    key: TiKey,
    state: TaskState | null,
    fields: { error?: string | null; at?: Date; wake?: string } = {},
  ): Promise<void> {
    const update = `update task_instances set state = $4, error = coalesce($5, error),
         scheduled_at = case when $4 = 'scheduled' then coalesce($6::timestamptz, now()) else scheduled_at end,
         end_date = case when $4 in ('skipped', 'upstream_failed', 'success', 'failed') then coalesce($6::timestamptz, end_date) else end_date end
       where run_id = $1 and task_id = $2 and map_index = $3`;
    const params = [
      key.runId,
      key.taskId,
      key.mapIndex,
      state,
      fields.error ?? null,
      iso(fields.at),
    ];
    if (fields.wake === undefined || state !== "scheduled") {
      await this.db.query(update, params);
      return;
    }
    await this.db.query(
      `with cfg as (select set_config('synchronous_commit', 'off', true)),
       u as (${update} returning 1)
       select pg_notify($7, '') from u, cfg`,
      [...params, fields.wake],
    );
  }

  /**
   * Records the start of a try: the instance turns running and the try is added. With `workerId`
   * (a worker's claim) only while the instance is still queued under that worker: false when the
   * claim was lost meanwhile (requeued, or the outcome of an earlier try recorded late).
   */
  async startTry(
    key: TiKey,
    tryNumber: number,
    at: Date,
    hostname: string,
    workerId: string | null = null,
  ): Promise<boolean> {
    return await this.#starts.write({ key, tryNumber, at, hostname, workerId });
  }

  async #startOne(s: TryStart): Promise<boolean> {
    const rows = await this.db.query(
      `with ti as (
         update task_instances set state = 'running', try_number = $4, start_date = $5::timestamptz,
           end_date = null, duration_ms = null, hostname = $6, error = null, next_retry_at = null,
           heartbeat_at = $5::timestamptz
         where run_id = $1 and task_id = $2 and map_index = $3
           and ($7::text is null or (worker_id = $7 and state = 'queued'))
         returning 1)
       insert into task_tries (run_id, task_id, map_index, try_number, state, start_date, hostname)
       select $1, $2, $3, $4, 'running', $5::timestamptz, $6 from ti
       on conflict (run_id, task_id, map_index, try_number) do update
         set state = 'running', start_date = excluded.start_date, hostname = excluded.hostname
       returning 1`,
      [s.key.runId, s.key.taskId, s.key.mapIndex, s.tryNumber, iso(s.at), s.hostname, s.workerId],
    );
    return rows.length > 0;
  }

  /**
   * A worker's start of a try it claimed, with what the try reads, in one statement: only while
   * the instance is still queued under `workerId` it turns running with its next try recorded as
   * started at `at` (as {@link startTry}); then, as {@link taskInstancesForTry} and {@link xcoms}
   * would read them, the instances of `others` (and its own and its mapped parent's, as they were
   * before this start), its map item, and the XComs of `reads`. Null when the claim was lost
   * meanwhile (nothing is read or written then).
   */
  async startTryAndRead(
    key: TiKey,
    at: Date,
    hostname: string,
    workerId: string,
    others: readonly string[],
    reads: readonly string[],
  ): Promise<TryStartedAndRead | null> {
    return await this.#startsAndReads.write({ key, at, hostname, workerId, others, reads });
  }

  /** {@link startTryAndRead} for several tries in one statement (same conditions, row by row). */
  async #startAndReadMany(ss: readonly TryStartAndRead[]): Promise<(TryStartedAndRead | null)[]> {
    const rows = await this.db.query<Row>(
      `with k as (
         select * from jsonb_to_recordset($1::text::jsonb) as k(i int, run_id int, task_id text,
           map_index int, at timestamptz, hostname text, worker_id text, others text[],
           reads text[])),
       s as (
         update task_instances t set state = 'running', try_number = t.try_number + 1,
           start_date = k.at, end_date = null, duration_ms = null, hostname = k.hostname,
           error = null, next_retry_at = null, heartbeat_at = k.at
         from k
         where t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
           and t.worker_id = k.worker_id and t.state = 'queued'
         returning k.i, t.try_number),
       tr as (
         insert into task_tries (run_id, task_id, map_index, try_number, state, start_date, hostname)
         select k.run_id, k.task_id, k.map_index, s.try_number, 'running', k.at, k.hostname
         from s join k using (i)
         on conflict (run_id, task_id, map_index, try_number) do update
           set state = 'running', start_date = excluded.start_date, hostname = excluded.hostname)
       select k.i, s.try_number,
         (select coalesce(json_agg(x order by x.task_id, x.map_index), '[]') from (
            -- lookups by whole key (an OR, an array or a join the planner may leave to a filter
            -- or a merge would read every instance of the run: on a fresh table it has no
            -- statistics to know better)
            select ${TI_OF("ti")}, k.map_index = -1 as own,
              case when k.map_index = -1 then ti.map_item end as map_item
            from task_instances ti
            where ti.run_id = k.run_id and ti.task_id = k.task_id and ti.map_index = -1
            union all
            select ${TI_OF("ti")}, true, ti.map_item
            from task_instances ti
            where ti.run_id = k.run_id and ti.task_id = k.task_id and ti.map_index = k.map_index
              and k.map_index <> -1
            union all
            select ${TI_OF("ti")}, false, null
            from unnest(k.others) as o(task_id),
              lateral (select * from task_instances t2 where t2.run_id = k.run_id
                and t2.task_id = o.task_id offset 0) as ti -- (offset 0: looked up per task)
            where ti.task_id <> k.task_id) x) as tis,
         (select coalesce(json_agg(x order by x.task_id, x.map_index), '[]') from (
            select task_id, map_index, key, value, artifact, size_bytes from xcom
            where xcom.run_id = k.run_id and xcom.task_id = any(k.reads)) x) as xcoms
       from k join s using (i)`,
      [
        JSON.stringify(ss.map((s, i) => ({
          i,
          run_id: s.key.runId,
          task_id: s.key.taskId,
          map_index: s.key.mapIndex,
          at: iso(s.at),
          hostname: s.hostname,
          worker_id: s.workerId,
          others: s.others,
          reads: s.reads,
        }))),
      ],
    );
    const out: (TryStartedAndRead | null)[] = ss.map(() => null);
    for (const r of rows) {
      const tis = r.tis as Row[];
      out[Number(r.i)] = {
        tryNumber: Number(r.try_number),
        tis: tis.map(toTi),
        item: tis.find((t) => t.own === true)?.map_item,
        xcoms: (r.xcoms as Row[]).map(toXcom),
      };
    }
    return out;
  }

  /** {@link startTry} for several tries in one statement (same conditions, row by row). */
  async #startMany(ss: TryStart[]): Promise<boolean[]> {
    const rows = await this.db.query<Row>(
      `with k as (
         select * from jsonb_to_recordset($1::text::jsonb) as k(run_id int, task_id text,
           map_index int, try_number int, at timestamptz, hostname text, worker_id text)),
       ti as (
         update task_instances t set state = 'running', try_number = k.try_number,
           start_date = k.at, end_date = null, duration_ms = null, hostname = k.hostname,
           error = null, next_retry_at = null, heartbeat_at = k.at
         from k
         where t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
           and (k.worker_id is null or (t.worker_id = k.worker_id and t.state = 'queued'))
         returning k.run_id, k.task_id, k.map_index, k.try_number, k.at, k.hostname)
       insert into task_tries (run_id, task_id, map_index, try_number, state, start_date, hostname)
       select run_id, task_id, map_index, try_number, 'running', at, hostname from ti
       on conflict (run_id, task_id, map_index, try_number) do update
         set state = 'running', start_date = excluded.start_date, hostname = excluded.hostname
       returning run_id, task_id, map_index`,
      [
        JSON.stringify(ss.map((s) => ({
          run_id: s.key.runId,
          task_id: s.key.taskId,
          map_index: s.key.mapIndex,
          try_number: s.tryNumber,
          at: iso(s.at),
          hostname: s.hostname,
          worker_id: s.workerId,
        }))),
      ],
    );
    const started = new Set(rows.map((r) => keyOf(toKey(r))));
    return ss.map((s) => started.has(keyOf(s.key)));
  }

  /**
   * Records the end of a try — success, failed or up_for_retry — and, on success, its XCom, in one
   * statement. Only while that try is the instance's latest and not finished otherwise (a late
   * outcome never overwrites a later try's): false when nothing was recorded.
   */
  async finishTry(key: TiKey, tryNumber: number, end: TryEnd): Promise<boolean> {
    return await this.#ends.write({ key, tryNumber, end });
  }

  async #finishOne(key: TiKey, tryNumber: number, end: TryEnd): Promise<boolean> {
    const params = [
      key.runId,
      key.taskId,
      key.mapIndex,
      tryNumber,
      end.state,
      iso(end.at),
      end.durationMs,
      end.error ?? null,
      iso(end.nextRetryAt),
    ];
    const tiAndTry = `ti as (
         update task_instances set state = $5, end_date = $6::timestamptz, duration_ms = $7, error = $8,
           next_retry_at = $9::timestamptz, worker_id = null
         where run_id = $1 and task_id = $2 and map_index = $3 and try_number = $4
           and state in ('running', 'queued', 'up_for_retry')
         returning 1),
       tr as (update task_tries set state = $5, end_date = $6::timestamptz, duration_ms = $7, error = $8
         where run_id = $1 and task_id = $2 and map_index = $3 and try_number = $4
           and exists (select 1 from ti))`;
    const rows = end.xcom
      ? await this.db.query(
        `with ${tiAndTry}
         insert into xcom (run_id, task_id, map_index, key, value, artifact, size_bytes)
         select $1, $2, $3, 'return_value', $10::text::jsonb, $11, $12 from ti
         on conflict (run_id, task_id, map_index, key) do update
           set value = excluded.value, artifact = excluded.artifact, size_bytes = excluded.size_bytes,
               created_at = now()
         returning 1`,
        [...params, json(end.xcom.value), end.xcom.artifact, end.xcom.sizeBytes],
      )
      : await this.db.query(`with ${tiAndTry} select 1 from ti`, params);
    return rows.length > 0;
  }

  /** {@link finishTry} for several tries in one statement (same conditions, row by row). */
  async #finishMany(es: { key: TiKey; tryNumber: number; end: TryEnd }[]): Promise<boolean[]> {
    const rows = await this.db.query<Row>(
      `with k as (
         select * from jsonb_to_recordset($1::text::jsonb) as k(run_id int, task_id text,
           map_index int, try_number int, state text, at timestamptz, duration_ms double precision,
           error text, next_retry_at timestamptz, has_xcom boolean, xcom jsonb, artifact text,
           size_bytes int)),
       ti as (
         update task_instances t set state = k.state, end_date = k.at, duration_ms = k.duration_ms,
           error = k.error, next_retry_at = k.next_retry_at, worker_id = null
         from k
         where t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
           and t.try_number = k.try_number and t.state in ('running', 'queued', 'up_for_retry')
         returning t.run_id, t.task_id, t.map_index),
       tr as (
         update task_tries t set state = k.state, end_date = k.at, duration_ms = k.duration_ms,
           error = k.error
         from k join ti using (run_id, task_id, map_index)
         where t.run_id = k.run_id and t.task_id = k.task_id and t.map_index = k.map_index
           and t.try_number = k.try_number),
       x as (
         insert into xcom (run_id, task_id, map_index, key, value, artifact, size_bytes)
         select k.run_id, k.task_id, k.map_index, 'return_value', k.xcom, k.artifact, k.size_bytes
         from k join ti using (run_id, task_id, map_index) where k.has_xcom
         on conflict (run_id, task_id, map_index, key) do update
           set value = excluded.value, artifact = excluded.artifact, size_bytes = excluded.size_bytes,
               created_at = now())
       select run_id, task_id, map_index from ti`,
      [
        JSON.stringify(es.map(({ key, tryNumber, end }) => ({
          run_id: key.runId,
          task_id: key.taskId,
          map_index: key.mapIndex,
          try_number: tryNumber,
          state: end.state,
          at: iso(end.at),
          duration_ms: end.durationMs,
          error: end.error ?? null,
          next_retry_at: iso(end.nextRetryAt),
          has_xcom: !!end.xcom,
          xcom: end.xcom?.value ?? null,
          artifact: end.xcom?.artifact ?? null,
          size_bytes: end.xcom?.sizeBytes ?? 0,
        }))),
      ],
    );
    const ended = new Set(rows.map((r) => keyOf(toKey(r))));
    return es.map((e) => ended.has(keyOf(e.key)));
  }

  /**
   * Records the process group a command try runs in (its id and the leader's start time, so a
   * later try can tell it from a reused id).
   */
  async setTryProcess(
    key: TiKey,
    tryNumber: number,
    pgid: number,
    startTime: number | null,
  ): Promise<void> {
    await this.db.query(
      `update task_tries set pgid = $5, pgid_start = $6
       where run_id = $1 and task_id = $2 and map_index = $3 and try_number = $4`,
      [key.runId, key.taskId, key.mapIndex, tryNumber, pgid, startTime],
    );
  }

  /** The process groups recorded for a task instance's tries before `beforeTry`. */
  async tryProcesses(
    key: TiKey,
    beforeTry: number,
  ): Promise<
    { tryNumber: number; hostname: string | null; pgid: number; startTime: number | null }[]
  > {
    const rows = await this.db.query<Row>(
      `select try_number, hostname, pgid, pgid_start from task_tries
       where run_id = $1 and task_id = $2 and map_index = $3 and try_number < $4 and pgid is not null
       order by try_number`,
      [key.runId, key.taskId, key.mapIndex, beforeTry],
    );
    return rows.map((r) => ({
      tryNumber: Number(r.try_number),
      hostname: (r.hostname ?? null) as string | null,
      pgid: Number(r.pgid),
      startTime: r.pgid_start == null ? null : Number(r.pgid_start),
    }));
  }

  /** Every try of a run (or of one task in it), oldest first. */
  tries(runId: number, taskId?: string): Promise<TaskTry[]> {
    return this.#tries("run_id = $1 and ($2::text is null or task_id = $2)", [
      runId,
      taskId ?? null,
    ]);
  }

  /** Every try of several runs, in one query. */
  triesOfRuns(runIds: readonly number[]): Promise<TaskTry[]> {
    return this.#tries("run_id = any($1::int[])", [runIds]);
  }

  /** The finished tries of each DAG (those with a duration): how many, and their total time. */
  async tryDurationsByDag(): Promise<{ dagId: string; n: number; totalMs: number }[]> {
    const rows = await this.db.query<{ dag_id: string; n: number; ms: number }>(
      `select r.dag_id, count(*)::int as n, coalesce(sum(t.duration_ms), 0)::float8 as ms
       from task_tries t join dag_runs r on r.id = t.run_id where t.duration_ms is not null
       group by 1 order by 1`,
    );
    return rows.map((r) => ({ dagId: r.dag_id, n: Number(r.n), totalMs: Number(r.ms) }));
  }

  async #tries(where: string, params: unknown[]): Promise<TaskTry[]> {
    const rows = await this.db.query<Row>(
      `select * from task_tries where ${where} order by run_id, task_id, map_index, try_number`,
      params,
    );
    return rows.map((r) => ({
      runId: Number(r.run_id),
      taskId: String(r.task_id),
      mapIndex: Number(r.map_index),
      tryNumber: Number(r.try_number),
      state: r.state as TaskState,
      startDate: date(r.start_date)!,
      endDate: date(r.end_date),
      durationMs: r.duration_ms == null ? null : Number(r.duration_ms),
      hostname: (r.hostname ?? null) as string | null,
      error: (r.error ?? null) as string | null,
    }));
  }

  /**
   * Clears task instances so they run again: their state is reset, the items of mapped tasks and
   * their XComs are removed, and the run is queued again. Tries already made stay in the history.
   */
  async clear(runId: number, taskIds: readonly string[]): Promise<number> {
    return await this.db.transaction(async (tx) => {
      await tx.query(
        "delete from task_instances where run_id = $1 and task_id = any($2::text[]) and map_index >= 0",
        [runId, taskIds],
      );
      await tx.query("delete from xcom where run_id = $1 and task_id = any($2::text[])", [
        runId,
        taskIds,
      ]);
      const rows = await tx.query<{ n: number }>(
        `with c as (update task_instances
           set state = null, max_tries = try_number + retries,
               error = null, next_retry_at = null, start_date = null, end_date = null, duration_ms = null
           where run_id = $1 and task_id = any($2::text[]) returning 1)
         select count(*)::int as n from c`,
        [runId, taskIds],
      );
      await tx.query("update dag_runs set state = 'queued', end_date = null where id = $1", [
        runId,
      ]);
      return Number(rows[0]?.n ?? 0);
    });
  }

  // ---- logs -------------------------------------------------------------------------------------

  /** Appends log lines of one try. */
  async appendLogs(key: TiKey, tryNumber: number, lines: readonly LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    await this.db.query(
      `insert into task_logs (run_id, task_id, map_index, try_number, ts, stream, line)
       select $1, $2, $3, $4, l.ts, l.stream, l.line
       from jsonb_to_recordset($5::text::jsonb) as l(ts timestamptz, stream text, line text)`,
      [
        key.runId,
        key.taskId,
        key.mapIndex,
        tryNumber,
        json(lines.map((l) => ({ ...l, ts: iso(l.ts) }))),
      ],
    );
  }

  /** The log of one try (the latest when `tryNumber` is omitted) of every map index, in order. */
  async logs(
    runId: number,
    taskId: string,
    tryNumber?: number,
  ): Promise<(LogLine & { mapIndex: number; tryNumber: number })[]> {
    const rows = await this.db.query<Row>(
      `select map_index, try_number, ts, stream, line from task_logs
       where run_id = $1 and task_id = $2 and try_number = coalesce($3::int,
         (select max(try_number) from task_logs where run_id = $1 and task_id = $2))
       order by map_index, id`,
      [runId, taskId, tryNumber ?? null],
    );
    return rows.map((r) => ({
      mapIndex: Number(r.map_index),
      tryNumber: Number(r.try_number),
      ts: date(r.ts)!,
      stream: r.stream as LogLine["stream"],
      line: String(r.line),
    }));
  }

  // ---- XCom -------------------------------------------------------------------------------------

  /** The XComs of a run (return values), by task and map index. */
  async xcoms(runId: number, taskIds?: readonly string[]): Promise<XcomRecord[]> {
    const rows = await this.db.query<Row>(
      `select task_id, map_index, key, value, artifact, size_bytes from xcom
       where run_id = $1 and ($2::text[] is null or task_id = any($2::text[])) order by task_id, map_index`,
      [runId, taskIds ?? null],
    );
    return rows.map(toXcom);
  }

  /**
   * What `taskId` returned (its unmapped XCom) in the runs of `dagId` that have one, newest run
   * first: the latest `limit`, or only run `runId` when given.
   */
  async returnValues(
    dagId: string,
    taskId: string,
    opts: { limit?: number; runId?: number } = {},
  ): Promise<{ runId: number; logicalDate: Date; value: unknown }[]> {
    const rows = await this.db.query<Row>(
      `select x.run_id, x.value, r.logical_date from xcom x join dag_runs r on r.id = x.run_id
       where r.dag_id = $1 and x.task_id = $2 and x.map_index = -1
         and ($4::bigint is null or x.run_id = $4) order by x.run_id desc limit $3`,
      [dagId, taskId, opts.limit ?? 25, opts.runId ?? null],
    );
    return rows.map((r) => ({
      runId: Number(r.run_id),
      logicalDate: date(r.logical_date)!,
      value: r.value ?? null,
    }));
  }

  /**
   * The state of `taskId` in the latest run of `dagId` before `before` (by logical date): null when
   * it has none yet, undefined when there is no such run or that run has no such task.
   */
  async previousTaskState(
    dagId: string,
    before: Date,
    taskId: string,
  ): Promise<TaskState | null | undefined> {
    const rows = await this.db.query<{ state: string | null; has: boolean }>(
      `select ti.state, ti.task_id is not null as has from (select id from dag_runs
         where dag_id = $1 and logical_date < $2::timestamptz order by logical_date desc limit 1) r
       left join task_instances ti on ti.run_id = r.id and ti.task_id = $3 and ti.map_index = -1`,
      [dagId, before.toISOString(), taskId],
    );
    if (rows.length === 0 || !rows[0].has) return undefined;
    return (rows[0].state ?? null) as TaskState | null;
  }

  /** The XCom `taskId` left in the latest run of `dagId` before `before` (by logical date). */
  async priorXcom(dagId: string, before: Date, taskId: string): Promise<XcomRecord | null> {
    const rows = await this.db.query<Row>(
      `select x.task_id, x.map_index, x.key, x.value, x.artifact, x.size_bytes from xcom x
       join dag_runs r on r.id = x.run_id
       where r.dag_id = $1 and r.logical_date < $2::timestamptz and x.task_id = $3 and x.map_index = -1
       order by r.logical_date desc limit 1`,
      [dagId, before.toISOString(), taskId],
    );
    return rows[0] ? toXcom(rows[0]) : null;
  }

  // ---- pools ------------------------------------------------------------------------------------

  async pools(): Promise<Pool[]> {
    const rows = await this.db.query<Row>(
      "select name, slots, description from pools order by name",
    );
    return rows.map((r) => ({
      name: String(r.name),
      slots: Number(r.slots),
      description: String(r.description),
    }));
  }

  /** One more try for a task instance (a sensor's reschedule, which does not use a retry). */
  async extendTries(key: TiKey): Promise<void> {
    await this.db.query(
      `update task_instances set max_tries = max_tries + 1
       where run_id = $1 and task_id = $2 and map_index = $3`,
      [key.runId, key.taskId, key.mapIndex],
    );
  }

  /** Creates a pool unless one of that name exists (which is left as it is). */
  async ensurePool(name: string, slots: number, description = ""): Promise<void> {
    await this.db.query(
      "insert into pools (name, slots, description) values ($1, $2, $3) on conflict (name) do nothing",
      [name, slots, description],
    );
  }

  /** Creates or resizes a pool. */
  async setPool(name: string, slots: number, description = ""): Promise<void> {
    await this.db.query(
      `insert into pools (name, slots, description) values ($1, $2, $3)
       on conflict (name) do update set slots = excluded.slots,
         description = case when excluded.description = '' then pools.description else excluded.description end`,
      [name, slots, description],
    );
  }
}
