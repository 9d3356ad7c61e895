/**
 * Issue 12 item 2: a prediction that answered 200 is stored, even when `deno task serve` is killed
 * with SIGKILL in the middle of a load. Real processes: the server on a fresh PostgreSQL database
 * (and on PGlite in its own folder), a bounded load of single-row predictions from 16 connections,
 * kill -9 once some hundreds were acknowledged, then every acknowledged id is looked up.
 */
import assert from "node:assert/strict";
import { freshDatabase } from "../runner/helpers.ts";
import { missingPredictions, predictions, serveHome, startServe } from "./serve_process.ts";

async function crashDuringLoad(databaseUrl: string | undefined): Promise<void> {
  const home = await serveHome({ databaseUrl });
  const server = startServe(home);
  try {
    await server.ready();
    let killed = false;
    const load = predictions(server, 2000, 16, {
      requestTimeoutMs: 20_000,
      onAck: (n) => {
        if (n === 300 && !killed) {
          killed = true;
          server.signal("SIGKILL");
        }
      },
    });
    const { acknowledged, statuses } = await load;
    await server.kill("SIGKILL");
    assert.ok(killed, `the load ended before 300 acknowledgements: ${[...statuses]}`);
    assert.ok(acknowledged.length >= 300, `acknowledged ${acknowledged.length}`);
    assert.ok(
      (statuses.get(0) ?? 0) > 0,
      `some requests must have been cut off by the kill: ${[...statuses]}`,
    );
    const store = await home.openStore();
    try {
      const missing = await missingPredictions(store, acknowledged);
      assert.deepEqual(
        missing,
        [],
        `${missing.length} of ${acknowledged.length} acknowledged predictions were lost`,
      );
    } finally {
      await store.close();
    }
  } catch (e) {
    console.error(await server.output());
    throw e;
  } finally {
    await server.kill("SIGKILL");
    await home.remove();
  }
}

Deno.test({
  name: "kill -9 of deno task serve under load loses no acknowledged prediction [postgres]",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await freshDatabase();
    try {
      await crashDuringLoad(db.url);
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name: "kill -9 of deno task serve under load loses no acknowledged prediction [pglite]",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: () => crashDuringLoad(undefined),
});
