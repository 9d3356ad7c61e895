// Schedulers and workers record a heartbeat while they run and remove it when they stop; a stale
// one does not count as alive.
import assert from "node:assert/strict";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { Heartbeat, liveness } from "../../runner/liveness.ts";
import { Scheduler } from "../../runner/scheduler.ts";
import { Worker } from "../../runner/worker.ts";
import { storeSuite } from "./helpers.ts";
import type { Store } from "../../runner/store/store.ts";

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!await check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

storeSuite("liveness", {
  "a running scheduler and worker are alive; stopped, they are gone": async (store: Store) => {
    const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
    assert.deepEqual(await liveness(store.db), { schedulers: [], workers: [] });
    const stop = new AbortController();
    const scheduler = new Scheduler({
      store,
      dags: new Map(),
      artifacts,
      tickMs: 50,
      log: () => {},
    });
    const worker = new Worker(
      { store, dags: new Map(), artifacts, pollMs: 50, graceMs: 1000, log: () => {} },
      true,
    );
    const running = Promise.all([scheduler.run(stop.signal), worker.run(stop.signal)]);
    try {
      await until("both heartbeats", async () => {
        const live = await liveness(store.db);
        return live.schedulers.length === 1 && live.workers.length === 1;
      });
      const live = await liveness(store.db);
      assert.equal(live.schedulers[0].status, "leading");
      assert.equal(live.schedulers[0].pid, Deno.pid);
      assert.match(live.workers[0].status, /concurrency/);
    } finally {
      stop.abort();
      await running;
    }
    assert.deepEqual(await liveness(store.db), { schedulers: [], workers: [] });
  },

  "a heartbeat not seen for 30 s is a dead process": async (store: Store) => {
    const beat = new Heartbeat(store.db, "worker", "dead-worker");
    await beat.beat("idle");
    assert.equal((await liveness(store.db)).workers.length, 1);
    await store.db.query(
      "update process_heartbeats set seen_at = now() - interval '31 seconds' where id = $1",
      ["dead-worker"],
    );
    assert.equal((await liveness(store.db)).workers.length, 0);
    await beat.stop();
  },
});
