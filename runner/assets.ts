/**
 * Data-aware scheduling (Airflow's assets, once datasets): a task declares the assets it updates
 * (`outlets`, URIs such as `s3://bucket/inbox/`), and each successful try records an asset event;
 * events also come from outside (`deno task assets touch URI`, `POST /api/v1/assets/events`) or
 * from a watcher. A DAG with `onAssets` runs when every one of its assets has had an event since
 * its last run (Airflow's rule); the run's data interval spans from the events its previous run
 * consumed to the latest one it consumes, and `ctx.conf.assetEvents` lists them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAssetTriggeredRun, recordAssetEvent } from "./assets.ts";
 * import { dag } from "./dag.ts";
 * import { openStore } from "./store/open.ts";
 * const store = await openStore({ memory: true });
 * try {
 *   const textMonitoring = dag({ id: "text_monitoring", onAssets: ["s3://bucket/inbox/"] })
 *     .task("read", { run: (ctx) => ctx.conf.assetEvents });
 *   assert.equal(await createAssetTriggeredRun(store, textMonitoring), null); // no event: not yet
 *   await recordAssetEvent(store.db, { uri: "s3://bucket/inbox/", source: "cli" });
 *   const run = await createAssetTriggeredRun(store, textMonitoring);
 *   assert.equal(run?.runType, "asset_triggered");
 *   assert.equal(await createAssetTriggeredRun(store, textMonitoring), null); // event consumed
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import { z } from "zod";
import type { DagDefinition } from "./dag.ts";
import { createDagRun, type CreateRunOptions } from "./runs.ts";
import type { SqlClient } from "./store/sql_client.ts";
import { RunExistsError, Store } from "./store/store.ts";
import type { DagRun } from "./store/types.ts";

/** An asset's URI: a scheme, "://", and a path (`s3://bucket/inbox/`, `file:///data/inbox/`). */
export const AssetUri = z.string().regex(
  /^[a-z][a-z0-9+.-]*:\/\/\S+$/i,
  "an asset is a URI such as s3://bucket/inbox/ or file:///data/inbox/",
);

/** Where an event came from. */
export type AssetEventSource = "task" | "cli" | "api" | "watcher";

/** One update of an asset. */
export interface AssetEvent {
  id: number;
  uri: string;
  source: AssetEventSource;
  sourceDagId: string | null;
  sourceRunId: number | null;
  sourceTaskId: string | null;
  extra: Record<string, unknown>;
  createdAt: Date;
}

type Row = Record<string, unknown>;
const toEvent = (r: Row): AssetEvent => ({
  id: Number(r.id),
  uri: String(r.uri),
  source: r.source as AssetEventSource,
  sourceDagId: (r.source_dag_id ?? null) as string | null,
  sourceRunId: r.source_run_id == null ? null : Number(r.source_run_id),
  sourceTaskId: (r.source_task_id ?? null) as string | null,
  extra: (r.extra ?? {}) as Record<string, unknown>,
  createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
});

/** Records that `uri` was updated; the database's clock stamps it. */
export async function recordAssetEvent(
  db: SqlClient,
  e: {
    uri: string;
    source: AssetEventSource;
    sourceDagId?: string;
    sourceRunId?: number;
    sourceTaskId?: string;
    extra?: Record<string, unknown>;
  },
): Promise<AssetEvent> {
  const uri = AssetUri.parse(e.uri);
  const rows = await db.query<Row>(
    `insert into asset_events (uri, source, source_dag_id, source_run_id, source_task_id, extra)
     values ($1, $2, $3, $4, $5, $6::text::jsonb) returning *`,
    [
      uri,
      e.source,
      e.sourceDagId ?? null,
      e.sourceRunId ?? null,
      e.sourceTaskId ?? null,
      JSON.stringify(e.extra ?? {}),
    ],
  );
  return toEvent(rows[0]);
}

/** Every asset with an event, with its event count and latest event, by URI. */
export async function listAssets(
  db: SqlClient,
): Promise<{ uri: string; events: number; lastEventAt: Date }[]> {
  const rows = await db.query<Row>(
    `select uri, count(*)::int as n, max(created_at) as last from asset_events group by uri
     order by uri`,
  );
  return rows.map((r) => ({
    uri: String(r.uri),
    events: Number(r.n),
    lastEventAt: r.last instanceof Date ? r.last : new Date(String(r.last)),
  }));
}

/** The latest events, newest first (of one asset, when given). */
export async function assetEvents(
  db: SqlClient,
  opts: { uri?: string; limit?: number } = {},
): Promise<AssetEvent[]> {
  const rows = await db.query<Row>(
    `select * from asset_events where ($1::text is null or uri = $1) order by id desc limit $2`,
    [opts.uri ?? null, opts.limit ?? 50],
  );
  return rows.map(toEvent);
}

/**
 * Makes the run an asset-scheduled DAG is due, if it is: every asset in `onAssets` has an event
 * the DAG has not consumed yet. A DAG seen for the first time ignores the events already there
 * (events from before it existed do not trigger it).
 *
 * Every event is consumed exactly once. Consumption is a mark per (DAG, event), not an id cursor:
 * ids are taken at insert but seen at commit, so an event can appear below ids already consumed,
 * and it still counts. The marks are bounded: events written by transactions older than the
 * oldest one in progress at a consumption (the DAG's floor) are all final and consumed, so they
 * are not looked at again (a long transaction anywhere on the server holds the floor back: marks
 * accumulate until it ends, events are not delayed). The run is created and its events marked in one transaction, with the
 * DAG's cursor row locked, so two schedulers take turns and a crash leaves neither half.
 */
export async function createAssetTriggeredRun(
  store: Store,
  dag: DagDefinition,
  opts: { executor?: "local" | "distributed" } = {},
): Promise<DagRun | null> {
  const uris = dag.options.onAssets ?? [];
  if (uris.length === 0) return null;
  await store.db.query(
    `insert into asset_dag_cursors (dag_id, last_event_id, last_event_at, floor_xid)
     select $1, coalesce(max(id), 0), clock_timestamp(), pg_snapshot_xmin(pg_current_snapshot())
     from asset_events
     on conflict (dag_id) do nothing`,
    [dag.id],
  );
  // The run and the marks of the events it consumes commit together: a process dying between
  // them would leave a run whose events a later run consumes again.
  return await store.db.transaction((tx) =>
    consumeAssetEvents(new Store(tx), dag, uris, opts.executor ?? "distributed")
  );
}

/** Makes the run of `dag` from its unconsumed events, if every one of `uris` has one. */
async function consumeAssetEvents(
  store: Store,
  dag: DagDefinition,
  uris: readonly string[],
  executor: "local" | "distributed",
): Promise<DagRun | null> {
  const db = store.db;
  // The snapshot's xmin: every transaction below it has ended, so its events are final.
  const [cursor] = await db.query<Row>(
    `select last_event_id, last_event_at, floor_xid::text as floor_xid,
       pg_snapshot_xmin(pg_current_snapshot())::text as xmin
     from asset_dag_cursors where dag_id = $1 for update`,
    [dag.id],
  );
  const fromAt = cursor.last_event_at instanceof Date
    ? cursor.last_event_at
    : new Date(String(cursor.last_event_at));
  const events = (await db.query<Row>(
    `select e.* from asset_events e
     where e.uri = any($1::text[]) and e.id > $2 and e.xid >= $3::xid8
       and not exists (
         select 1 from asset_event_consumptions c where c.dag_id = $4 and c.event_id = e.id)
     order by e.id`,
    [[...uris], Number(cursor.last_event_id), String(cursor.floor_xid), dag.id],
  )).map(toEvent);
  const updated = new Set(events.map((e) => e.uri));
  if (!uris.every((u) => updated.has(u))) return null;
  const times = events.map((e) => e.createdAt.getTime());
  const end = new Date(Math.max(...times));
  // An event that committed late may be older than the previous run's last one.
  const start = new Date(Math.min(fromAt.getTime(), ...times));
  const run = await createRunAtFreeDate(store, dag, {
    logicalDate: end,
    dataInterval: { start, end },
    runType: "asset_triggered",
    conf: {
      assetEvents: events.map((e) => ({
        id: e.id,
        uri: e.uri,
        source: e.source,
        createdAt: e.createdAt.toISOString(),
        ...(e.sourceDagId ? { dagId: e.sourceDagId, runId: e.sourceRunId } : {}),
        ...(Object.keys(e.extra).length ? { extra: e.extra } : {}),
      })),
    },
    executor,
  });
  await db.query(
    `insert into asset_event_consumptions (dag_id, event_id, event_xid, run_id)
     select $1, e.id, e.xid, $2 from asset_events e where e.id = any($3::bigint[])`,
    [dag.id, run.id, events.map((e) => e.id)],
  );
  await db.query(
    `update asset_dag_cursors set floor_xid = $2::xid8,
       last_event_at = greatest(last_event_at, $3::timestamptz)
     where dag_id = $1`,
    [dag.id, String(cursor.xmin), end.toISOString()],
  );
  await db.query(
    "delete from asset_event_consumptions where dag_id = $1 and event_xid < $2::xid8",
    [dag.id, String(cursor.xmin)],
  );
  return run;
}

/** Creates the run, a millisecond later per clash with an existing logical date. */
async function createRunAtFreeDate(
  store: Store,
  dag: DagDefinition,
  opts: CreateRunOptions & { logicalDate: Date },
): Promise<DagRun> {
  for (let attempt = 0;; attempt++) {
    try {
      return await createDagRun(store, dag, {
        ...opts,
        logicalDate: new Date(opts.logicalDate.getTime() + attempt),
      });
    } catch (e) {
      if (!(e instanceof RunExistsError) || attempt >= 100) throw e;
    }
  }
}
