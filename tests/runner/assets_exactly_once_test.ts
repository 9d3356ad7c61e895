// Data-aware scheduling consumes every asset event exactly once: an event whose transaction
// commits after a later one was consumed is not lost, and a run is never made twice for one event.
import assert from "node:assert/strict";
import { createAssetTriggeredRun, recordAssetEvent } from "../../runner/assets.ts";
import { dag } from "../../runner/dag.ts";
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
