import assert from "node:assert/strict";
import { TaskQueue } from "../../runner/store/queue.ts";
import type { Store } from "../../runner/store/store.ts";
import { storeTest } from "./helpers.ts";

/** A manual run of a DAG whose tasks are all mapped, independent function tasks. */
function mappedRun(store: Store, dagId: string, taskIds: string[]) {
  const t = { kind: "function" as const, deps: [], triggerRule: "all_success" as const };
  const at = new Date("2026-01-01T00:00:00Z");
  return store.createRun({
    dagId,
    logicalDate: at,
    dataIntervalStart: at,
    dataIntervalEnd: at,
    runType: "manual",
    conf: {},
    params: {},
    structure: { dagId, schedule: null, tasks: taskIds.map((id) => ({ ...t, id, mapped: true })) },
    structureHash: `${dagId}1`,
    tasks: taskIds.map((taskId) => ({ taskId, maxTries: 1, pool: "default_pool", poolSlots: 1 })),
  });
}

storeTest("a mapped task's items are all finished only when none is left to run", async (store) => {
  const run = await mappedRun(store, "m", ["each", "other"]);
  const queue = new TaskQueue(store.db);
  const each = { runId: run.id, taskId: "each", mapIndex: -1 };
  await store.expandMapped(each, ["a", "b", "c"]);
  await store.expandMapped({ ...each, taskId: "other" }, ["x"]);
  const set = (i: number, state: "success" | "up_for_retry" | "failed" | "skipped") =>
    store.setTaskState({ ...each, mapIndex: i }, state);
  assert.equal(await queue.anyItemsFinished(run.id, ["each"]), false);
  await set(0, "success");
  await set(1, "up_for_retry");
  await set(2, "failed");
  assert.equal(await queue.anyItemsFinished(run.id, ["each"]), false, "an item waits to retry");
  assert.equal(await queue.anyItemsFinished(run.id, ["each", "other"]), false);
  await set(1, "skipped");
  assert.equal(await queue.anyItemsFinished(run.id, ["each"]), true);
  assert.equal(await queue.anyItemsFinished(run.id, ["other", "each"]), true, "one of them");
  assert.equal(await queue.anyItemsFinished(run.id, ["other"]), false);
});

storeTest("a claim of a few among thousands ready reads only what it takes", async (store) => {
  // On a table that grew faster than its statistics, the planner read (and sorted) every ready
  // instance for each claim, and scanned the whole table to queue the chosen (migration 6 fixes
  // both): counted by the table's statistics of this transaction alone.
  const run = await mappedRun(store, "wide", ["each"]);
  const at = new Date("2026-01-01T00:00:00Z");
  await store.setRunState(run.id, "running", at);
  const items = Array.from({ length: 5000 }, (_, i) => i);
  await store.expandMapped({ runId: run.id, taskId: "each", mapIndex: -1 }, items);
  const read = await store.db.transaction(async (tx) => {
    const claimed = await new TaskQueue(tx).claim({
      workerId: "w1",
      hostname: "box",
      limit: 5,
      pools: null,
      now: at,
      maxActiveTasks: new Map([["wide", 10_000]]),
    });
    assert.deepEqual(claimed.map((c) => c.mapIndex), [0, 1, 2, 3, 4]);
    const [r] = await tx.query<{ seq: number; fetched: number }>(
      `select coalesce(seq_tup_read, 0)::int as seq, coalesce(idx_tup_fetch, 0)::int as fetched
       from pg_stat_xact_user_tables where relname = 'task_instances'`,
    );
    return r;
  });
  assert.equal(read.seq, 0, "no sequential scan of task_instances");
  assert.ok(read.fetched < 100, `${read.fetched} rows fetched by index for a claim of 5`);
});
