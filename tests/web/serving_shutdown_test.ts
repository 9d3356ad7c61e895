// Shutdown of `deno task serve`: when the scheduler or the worker fails, the prediction log still
// writes the rows it holds queued before the store is closed (they used to be dropped silently).
import assert from "node:assert/strict";
import type { LoggedPrediction } from "../../models/serving/prediction_log.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { Store } from "../../runner/store/store.ts";
import { runThenClose, servingFor } from "../../web/services/serving.ts";
import { storeTest } from "../runner/helpers.ts";

/** The client, with every insert into predictions held back `ms` first. */
function slowInserts(db: SqlClient, ms: number): SqlClient {
  return {
    kind: db.kind,
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      if (text.includes("insert into predictions")) await new Promise((r) => setTimeout(r, ms));
      return await db.query<T>(text, params);
    },
    exec: (t) => db.exec(t),
    transaction: (fn) => db.transaction(fn),
    listen: (c, fn) => db.listen(c, fn),
    close: () => db.close(),
  };
}

storeTest("serve shutdown: a failing scheduler still lets queued predictions be written", async (
  store,
) => {
  const dir = await Deno.makeTempDir();
  try {
    const serving = servingFor({
      store: new Store(slowInserts(store.db, 300)),
      registry: () => ModelRegistry.open(store.db),
      artifacts: new LocalArtifactStore(dir),
      dags: () => new Map(),
      token: "t",
    });
    const { log } = await serving();
    const row: LoggedPrediction = {
      id: crypto.randomUUID(),
      model: "m",
      version: 1,
      input: { x: 1 },
      label: "yes",
      score: 0.5,
      output: {},
    };
    const written = log.write([row]);
    assert.equal(log.health().queued, 1);
    const failing = Promise.reject(new Error("the scheduler failed"));
    await assert.rejects(
      () => runThenClose([failing, new Promise(() => {})], serving),
      /scheduler/,
    );
    // closed only after the queued row was committed
    assert.equal(log.health().queued, 0);
    await written;
    const n = await store.db.query<{ n: number | string }>(
      "select count(*) as n from predictions where id = $1",
      [row.id],
    );
    assert.equal(Number(n[0].n), 1);
    await assert.rejects(() => log.write([row]), /closed/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
