import assert from "node:assert/strict";
import { TaskQueue } from "../../runner/store/queue.ts";
import { storeTest } from "./helpers.ts";

storeTest("a mapped task's items are all finished only when none is left to run", async (store) => {
  const t = { kind: "function" as const, deps: [], triggerRule: "all_success" as const };
  const at = new Date("2026-01-01T00:00:00Z");
  const run = await store.createRun({
    dagId: "m",
    logicalDate: at,
    dataIntervalStart: at,
    dataIntervalEnd: at,
    runType: "manual",
    conf: {},
    params: {},
    structure: {
      dagId: "m",
      schedule: null,
      tasks: [{ ...t, id: "each", mapped: true }, { ...t, id: "other", mapped: true }],
    },
    structureHash: "m1",
    tasks: ["each", "other"].map((taskId) => ({
      taskId,
      maxTries: 1,
      pool: "default_pool",
      poolSlots: 1,
    })),
  });
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
