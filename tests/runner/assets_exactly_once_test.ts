// Data-aware scheduling consumes every asset event exactly once: an event whose transaction
// commits after a later one was consumed is not lost, and a run is never made twice for one event.
import assert from "node:assert/strict";
import { createAssetTriggeredRun, recordAssetEvent } from "../../runner/assets.ts";
import { dag } from "../../runner/dag.ts";
import { ASSET_MIGRATIONS } from "../../runner/store/assets_schema.ts";
import { migrate } from "../../runner/store/migrations.ts";
import { openPglite } from "../../runner/store/pglite.ts";
import { openPostgres } from "../../runner/store/postgres.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { Store } from "../../runner/store/store.ts";
import type { DagRun } from "../../runner/store/types.ts";
import { freshDatabase, storeTest } from "./helpers.ts";

let seq = 0;
const id = (name: string) => `${name}_${++seq}`;

/** The ids of the asset events each run consumed, in run order. */
async function consumedBy(store: Store, dagId: string): Promise<number[][]> {
  const runs: DagRun[] = (await store.listRuns(dagId)).reverse();
  return runs.map((r) => (r.conf.assetEvents as { id: number }[]).map((e) => e.id));
}

Deno.test({
  name: "an event committed after a later-numbered one was consumed still triggers a run",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const fresh = await freshDatabase();
    const store = new Store(await openPostgres(fresh.url, 2));
    const other = await openPostgres(fresh.url, 1); // a second connection: transaction A
    let release = () => {};
    const gate = new Promise<void>((resolve) => release = resolve);
    let txA: Promise<number> | null = null;
    try {
      await store.migrate();
      const uri = `s3://bucket/${id("inbox")}/`;
      const d = dag({ id: id("consumer"), onAssets: [uri] }).task("t", { run: () => 1 });
      assert.equal(await createAssetTriggeredRun(store, d), null, "first sight: nothing yet");

      let tookId = () => {};
      const taken = new Promise<void>((resolve) => tookId = resolve);
      // A takes the lower id and stays open; B takes the next id and commits first.
      txA = other.transaction(async (tx) => {
        const a = await recordAssetEvent(tx, { uri, source: "api" });
        tookId();
        await gate;
        return a.id;
      });
      await taken;
      const b = await recordAssetEvent(store.db, { uri, source: "api" });
      const first = await createAssetTriggeredRun(store, d);
      assert.ok(first, "B's event makes a run");
      release();
      const a = await txA;
      assert.ok(a < b.id, `A took id ${a}, below B's ${b.id}`);
      const second = await createAssetTriggeredRun(store, d);
      assert.ok(second, `A's event ${a}, committed after B's ${b.id} was consumed, makes a run`);
      assert.deepEqual(await consumedBy(store, d.id), [[b.id], [a]]);
      assert.equal(await createAssetTriggeredRun(store, d), null, "each event once");
    } finally {
      release();
      await txA?.catch(() => {});
      await other.close();
      await store.close();
      await fresh.drop();
    }
  },
});

/** `db`, whose statements matching `fail` throw (a process dying at that statement). */
function failing(db: SqlClient, fail: RegExp): SqlClient {
  const wrap = (c: SqlClient): SqlClient => ({
    kind: c.kind,
    query: (text, params) =>
      fail.test(text)
        ? Promise.reject(new Error(`simulated crash before: ${text.trim().split("\n")[0]}`))
        : c.query(text, params),
    exec: (text) => c.exec(text),
    transaction: (fn) => c.transaction((tx) => fn(wrap(tx))),
    listen: (channel, fn) => c.listen(channel, fn),
    close: () => c.close(),
  });
  return wrap(db);
}

storeTest(
  "a crash between making a run and consuming its events neither loses nor repeats them",
  async (store) => {
    const a = `s3://bucket/${id("a")}/`, b = `s3://bucket/${id("b")}/`;
    const d = dag({ id: id("crash"), onAssets: [a, b] }).task("t", { run: () => 1 });
    assert.equal(await createAssetTriggeredRun(store, d), null, "first sight");
    const e1 = await recordAssetEvent(store.db, { uri: a, source: "cli" });
    const e2 = await recordAssetEvent(store.db, { uri: b, source: "cli" });
    // The statement that records what the run consumed fails, after the run's insert.
    const crashing = new Store(
      failing(store.db, /^\s*(update asset_dag_cursors|insert into asset_event_consumptions)/),
    );
    await assert.rejects(() => createAssetTriggeredRun(crashing, d), /simulated crash/);
    assert.deepEqual(await store.listRuns(d.id), [], "the crash left no run behind");
    const e3 = await recordAssetEvent(store.db, { uri: a, source: "cli" });
    const e4 = await recordAssetEvent(store.db, { uri: b, source: "cli" });
    while (await createAssetTriggeredRun(store, d));
    const runs = await consumedBy(store, d.id);
    const all = runs.flat().sort((x, y) => x - y);
    assert.deepEqual(
      all,
      [e1.id, e2.id, e3.id, e4.id],
      `each event in one run: ${JSON.stringify(runs)}`,
    );
  },
);

Deno.test({
  name: "two schedulers on one DAG's events make one run of each",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const fresh = await freshDatabase();
    const one = new Store(await openPostgres(fresh.url, 2));
    const two = new Store(await openPostgres(fresh.url, 2));
    try {
      await one.migrate();
      const uri = `s3://bucket/${id("both")}/`;
      const d = dag({ id: id("twice"), onAssets: [uri] }).task("t", { run: () => 1 });
      assert.equal(await createAssetTriggeredRun(one, d), null);
      const ids: number[] = [];
      for (let round = 0; round < 5; round++) {
        ids.push((await recordAssetEvent(one.db, { uri, source: "cli" })).id);
        await Promise.all([createAssetTriggeredRun(one, d), createAssetTriggeredRun(two, d)]);
      }
      const runs = await consumedBy(one, d.id);
      assert.deepEqual(runs.flat().sort((x, y) => x - y), ids, JSON.stringify(runs));
    } finally {
      await one.close();
      await two.close();
      await fresh.drop();
    }
  },
});

Deno.test({
  // PGlite: no other transaction anywhere (on a shared server, another database's long
  // transaction holds the floor back: the marks wait for it, the events are not delayed).
  name: "the consumption marks stay bounded: those below the floor are dropped",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const store = new Store(await openPglite());
    try {
      await store.migrate();
      const uri = "s3://bucket/bounded/";
      const d = dag({ id: "bounded", onAssets: [uri] }).task("t", { run: () => 1 });
      assert.equal(await createAssetTriggeredRun(store, d), null);
      for (let i = 0; i < 5; i++) {
        await recordAssetEvent(store.db, { uri, source: "cli" });
        assert.ok(await createAssetTriggeredRun(store, d));
      }
      const [{ n }] = await store.db.query<{ n: number }>(
        "select count(*)::int as n from asset_event_consumptions where dag_id = $1",
        [d.id],
      );
      // no transaction was open at any consumption: every event was final, so no mark is kept
      assert.equal(n, 0, `${n} marks kept after 5 runs`);
      assert.equal((await consumedBy(store, d.id)).length, 5);
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name: "a database from assets migration 1: the id cursor's unconsumed events still count",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await openPglite();
    const store = new Store(db);
    try {
      await migrate(db);
      await migrate(db, ASSET_MIGRATIONS.slice(0, 1), "assets");
      const uri = "s3://bucket/legacy/";
      const d = dag({ id: "legacy", onAssets: [uri] }).task("t", { run: () => 1 });
      const consumed = await recordAssetEvent(db, { uri, source: "cli" });
      await db.query(
        `insert into asset_dag_cursors (dag_id, last_event_id, last_event_at)
         values ($1, $2, $3::timestamptz)`,
        [d.id, consumed.id, consumed.createdAt.toISOString()],
      );
      const pending = await recordAssetEvent(db, { uri, source: "cli" });
      await store.migrate();
      assert.ok(await createAssetTriggeredRun(store, d));
      assert.deepEqual(await consumedBy(store, d.id), [[pending.id]]);
      assert.equal(await createAssetTriggeredRun(store, d), null);
    } finally {
      await store.close();
    }
  },
});
