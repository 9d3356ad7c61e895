// dagrunTimeout and dependsOnPast, as Airflow's dagrun_timeout and depends_on_past (issue 15).
import assert from "node:assert/strict";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { FakeClock } from "../../runner/clock.ts";
import { dag } from "../../runner/dag.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { Scheduler } from "../../runner/scheduler.ts";
import { storeSuite } from "./helpers.ts";

const artifacts = new LocalArtifactStore(await Deno.makeTempDir({ prefix: "driftflow-limits-" }));
let seq = 0;
const id = (name: string) => `${name}_${++seq}`;

storeSuite("run limits", {
  "dagrunTimeout: the running try is aborted and skipped, the rest skipped, the run fails": async (
    store,
  ) => {
    let aborted = false;
    const d = dag({ id: id("timeout"), dagrunTimeout: "300ms" })
      .task("quick", { run: () => 1 })
      .task("slow", {
        deps: ["quick"],
        run: (ctx) =>
          new Promise((_, reject) => {
            const stop = () => {
              aborted = true;
              reject(ctx.signal.reason);
            };
            if (ctx.signal.aborted) stop();
            ctx.signal.addEventListener("abort", stop);
          }),
      })
      .task("after", { deps: ["slow"], triggerRule: "all_done", run: () => 2 });
    const ex = new Executor({ store, artifacts });
    const run = await createDagRun(store, d);
    const r = await ex.runToEnd(d, run.id);
    assert.equal(r.state, "failed");
    assert.ok(aborted, "the running try saw its signal abort");
    const states = Object.fromEntries(r.taskInstances.map((t) => [t.taskId, t.state]));
    assert.deepEqual(states, { after: "skipped", quick: "success", slow: "skipped" });
    const slow = r.taskInstances.find((t) => t.taskId === "slow")!;
    assert.match(slow.error!, /exceeded its dagrunTimeout of 300ms/);
    assert.equal((await store.tries(run.id, "slow")).length, 1, "no retry");
  },

  "dagrunTimeout on the scheduler: a running run past its limit fails": async (store) => {
    const d = dag({ id: id("sched_timeout"), dagrunTimeout: "10m" })
      .task("a", { run: () => 1 })
      .task("b", { deps: ["a"], run: () => 2 });
    const run = await createDagRun(store, d, { executor: "distributed" });
    const clock = new FakeClock(Date.now());
    const scheduler = new Scheduler({
      store,
      dags: new Map([[d.id, d]]),
      artifacts,
      clock,
      log: () => {},
    });
    await scheduler.tick(); // starts the run, schedules "a"
    assert.equal((await store.getRun(run.id))!.state, "running");
    clock.advance(11 * 60_000);
    await scheduler.tick();
    assert.equal((await store.getRun(run.id))!.state, "failed");
    const tis = await store.taskInstances(run.id);
    assert.deepEqual(tis.map((t) => t.state), ["skipped", "skipped"]);
  },

  "a distributed run whose task can never get its pool slots fails instead of waiting": async (
    store,
  ) => {
    const pool = id("small");
    await store.setPool(pool, 1);
    const d = dag({ id: id("too_big") })
      .task("a", { run: () => 1 })
      .task("big", { deps: ["a"], pool, poolSlots: 3, run: () => 2 });
    const run = await createDagRun(store, d, { executor: "distributed" });
    const scheduler = new Scheduler({
      store,
      dags: new Map([[d.id, d]]),
      artifacts,
      log: () => {},
    });
    await scheduler.tick();
    assert.equal((await store.getRun(run.id))!.state, "failed");
    const big = (await store.taskInstances(run.id)).find((t) => t.taskId === "big")!;
    assert.equal(big.state, "skipped");
    assert.match(big.error!, /needs 3 slots of pool "small_\d+", which has only 1; resize it/);
  },

  "dependsOnPast: a task waits for its previous instance to succeed": async (store) => {
    let fail = true;
    const log: string[] = [];
    const d = dag({ id: id("past") })
      .task("free", { run: () => void log.push("free") })
      .task("ordered", {
        dependsOnPast: true,
        run: (ctx) => {
          log.push(`ordered@${ctx.logicalDate.toISOString().slice(0, 10)}`);
          if (fail) throw new Error("first try fails");
        },
      });
    const ex = new Executor({ store, artifacts });
    const first = await createDagRun(store, d, { logicalDate: new Date("2026-01-01T00:00:00Z") });
    assert.equal((await ex.runToEnd(d, first.id)).state, "failed");
    const second = await createDagRun(store, d, {
      logicalDate: new Date("2026-01-02T00:00:00Z"),
    });
    const done = ex.runToEnd(d, second.id);
    // "free" runs; "ordered" waits while its previous instance is failed.
    for (let i = 0; i < 100 && !log.includes("free", 2); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const waiting = (await store.taskInstances(second.id)).find((t) => t.taskId === "ordered")!;
    assert.equal(waiting.state, null, "ordered waits for its past");
    assert.deepEqual([...log.slice(0, 2)].sort(), ["free", "ordered@2026-01-01"]);
    assert.deepEqual(log.slice(2), ["free"]);
    // Clear and re-run the first run's task: now the second run goes on.
    fail = false;
    await store.clear(first.id, ["ordered"]);
    assert.equal((await ex.runToEnd(d, first.id)).state, "success");
    const r = await Promise.race([
      done,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("still waiting")), 10_000)
      ),
    ]);
    assert.equal(r.state, "success");
    assert.deepEqual(log.slice(3), ["ordered@2026-01-01", "ordered@2026-01-02"]);
  },
});
