// Sensors, assets and dependsOnPast through the scheduler and a worker (in this process, on the
// test's own database): the paths `deno task scheduler` and `deno task worker` take.
import assert from "node:assert/strict";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { dag, type DagDefinition } from "../../runner/dag.ts";
import { createDagRun } from "../../runner/runs.ts";
import { Scheduler } from "../../runner/scheduler.ts";
import type { Store } from "../../runner/store/store.ts";
import type { DagRun } from "../../runner/store/types.ts";
import { Worker } from "../../runner/worker.ts";
import { storeSuite } from "./helpers.ts";

const artifacts = new LocalArtifactStore(await Deno.makeTempDir({ prefix: "driftflow-sched-" }));
let seq = 0;
const id = (name: string) => `${name}_${++seq}`;

/** Runs a scheduler and a one-slot worker until `done` holds (at most 20 s), then stops both. */
async function withProcesses(
  store: Store,
  dags: DagDefinition[],
  done: () => Promise<boolean>,
): Promise<void> {
  const map = new Map(dags.map((d) => [d.id, d]));
  const stop = new AbortController();
  const scheduler = new Scheduler({ store, dags: map, artifacts, tickMs: 50, log: () => {} });
  const worker = new Worker(
    { store, dags: map, artifacts, concurrency: 1, pollMs: 50, log: () => {} },
    true,
  );
  const loops = [scheduler.run(stop.signal), worker.run(stop.signal)];
  try {
    const deadline = Date.now() + 20_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error("not done within 20 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    stop.abort();
    await Promise.allSettled(loops);
  }
}

const finished = (store: Store, runId: number) => async () => {
  const run = await store.getRun(runId);
  return run?.state === "success" || run?.state === "failed";
};

storeSuite("scheduler and worker", {
  "a reschedule-mode sensor frees the worker's only slot between pokes": async (store) => {
    let flag = false;
    const d = dag({ id: id("resched") })
      .sensor("a_wait", {
        mode: "reschedule",
        poke: () => flag,
        interval: "100ms",
        timeout: "15s",
      })
      .task("b_other", { run: () => void (flag = true) });
    const run = await createDagRun(store, d, { executor: "distributed" });
    await withProcesses(store, [d], finished(store, run.id));
    assert.equal((await store.getRun(run.id))!.state, "success");
    const tries = await store.tries(run.id, "a_wait");
    assert.ok(tries.length >= 2);
    assert.equal(tries[0].state, "up_for_reschedule");
    assert.equal(tries.at(-1)!.state, "success");
  },

  "a task's outlet makes the scheduler run the DAG scheduled on that asset": async (store) => {
    const uri = `s3://bucket/${id("asset")}/`;
    const producer = dag({ id: id("producer") }).task("write", { outlets: [uri], run: () => 1 });
    const consumer = dag({ id: id("consumer"), onAssets: [uri] })
      .task("read", { run: (ctx) => (ctx.conf.assetEvents as unknown[]).length });
    let consumed: DagRun | undefined;
    // the consumer's cursor starts when the scheduler first sees it: before the producer runs
    await withProcesses(store, [producer, consumer], () => Promise.resolve(true));
    const run = await createDagRun(store, producer, { executor: "distributed" });
    await withProcesses(store, [producer, consumer], async () => {
      consumed = (await store.listRuns(consumer.id))[0];
      return consumed?.state === "success" && await finished(store, run.id)();
    });
    assert.equal(consumed!.runType, "asset_triggered");
    assert.deepEqual((await store.xcoms(consumed!.id))[0].value, 1);
  },
});
