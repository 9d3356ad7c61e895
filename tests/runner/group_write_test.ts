import assert from "node:assert/strict";
import { GroupWriter } from "../../runner/store/group_write.ts";
import { Store } from "../../runner/store/store.ts";
import { storeTest } from "./helpers.ts";

/** A writer over a fake database that records every statement it is sent. */
function recording(refuse: (xs: number[]) => boolean = () => false) {
  const sent: number[][] = [];
  const writer = new GroupWriter<number, number>({
    one: (x) => {
      sent.push([x]);
      return x < 0 ? Promise.reject(new Error(`refused ${x}`)) : Promise.resolve(x * 10);
    },
    many: (xs) => {
      sent.push(xs);
      return refuse(xs) ? Promise.reject(new Error("batch refused")) : Promise.resolve(
        xs.map((x) => x * 10),
      );
    },
    key: (x) => String(Math.abs(x)),
    maxInFlight: 1,
  });
  return { sent, writer };
}

Deno.test("group write: the first write goes alone, those made meanwhile go together", async () => {
  const { sent, writer } = recording();
  const out = await Promise.all([1, 2, 3, 4].map((x) => writer.write(x)));
  assert.deepEqual(out, [10, 20, 30, 40]);
  assert.deepEqual(sent, [[1], [2, 3, 4]]);
});

Deno.test("group write: a refused batch is sent again row by row; only the bad row fails", async () => {
  const { sent, writer } = recording((xs) => xs.some((x) => x < 0));
  const results = await Promise.allSettled([1, 2, -3, 4].map((x) => writer.write(x)));
  assert.deepEqual(results.map((r) => r.status === "fulfilled" ? r.value : String(r.reason)), [
    10,
    20,
    "Error: refused -3",
    40,
  ]);
  assert.deepEqual(sent, [[1], [2, -3, 4], [2], [-3], [4]]);
});

Deno.test("group write: two writes of the same row never share a statement", async () => {
  const { sent, writer } = recording();
  await Promise.all([1, 2, -2, 3].map((x) => writer.write(Math.abs(x) === 2 ? 2 : x)));
  assert.deepEqual(sent, [[1], [2, 3], [2]]);
});

/** The store over a client that runs one statement at once, so concurrent writes form batches. */
const oneAtATime = (store: Store) => new Store({ ...store.db, connections: 1 });

async function threeTaskRun(store: Store) {
  const t = { id: "a", kind: "function" as const, deps: [], triggerRule: "all_success" as const };
  const run = await store.createRun({
    dagId: "g",
    logicalDate: new Date("2026-01-01T00:00:00Z"),
    dataIntervalStart: new Date("2026-01-01T00:00:00Z"),
    dataIntervalEnd: new Date("2026-01-01T00:00:00Z"),
    runType: "manual",
    conf: {},
    params: {},
    structure: {
      dagId: "g",
      schedule: null,
      tasks: ["a", "b", "c"].map((id) => ({ ...t, id, mapped: false })),
    },
    structureHash: "g1",
    tasks: ["a", "b", "c"].map((taskId) => ({
      taskId,
      maxTries: 1,
      pool: "default_pool",
      poolSlots: 1,
    })),
  });
  return ["a", "b", "c"].map((taskId) => ({ runId: run.id, taskId, mapIndex: -1 }));
}

storeTest("tries started and ended together keep every row's fences and XCom", async (server) => {
  const store = oneAtATime(server);
  const [a, b, c] = await threeTaskRun(store);
  const at = new Date("2026-01-01T00:00:01Z");
  // c is claimed by another worker: its start under "w1" must not be recorded, a's and b's must.
  await store.db.query(
    "update task_instances set state = 'queued', worker_id = $2 where run_id = $1",
    [a.runId, "w1"],
  );
  await store.db.query(
    "update task_instances set worker_id = 'w2' where run_id = $1 and task_id = 'c'",
    [a.runId],
  );
  const started = await Promise.all(
    [a, b, c].map((k) => store.startTry(k, 1, at, "h", "w1")),
  );
  assert.deepEqual(started, [true, true, false]);
  const later = new Date(at.getTime() + 7);
  const ended = await Promise.all([
    store.finishTry(a, 1, {
      state: "success",
      at: later,
      durationMs: 7,
      xcom: { value: { rows: [1, "x"] }, artifact: null, sizeBytes: 20 },
    }),
    store.finishTry(b, 1, {
      state: "up_for_retry",
      at: later,
      durationMs: 7,
      error: "boom",
      nextRetryAt: new Date(later.getTime() + 1000),
    }),
    // A late outcome of a try that is not c's latest (c never started): not recorded.
    store.finishTry(c, 1, { state: "success", at: later, durationMs: 7 }),
  ]);
  assert.deepEqual(ended, [true, true, false]);
  const tis = await store.taskInstances(a.runId);
  assert.deepEqual(
    tis.map((t) => [t.taskId, t.state, t.tryNumber, t.error, t.nextRetryAt?.toISOString() ?? null]),
    [
      ["a", "success", 1, null, null],
      ["b", "up_for_retry", 1, "boom", "2026-01-01T00:00:02.007Z"],
      ["c", "queued", 0, null, null],
    ],
  );
  const tries = [...await store.tries(a.runId, "a"), ...await store.tries(a.runId, "b")];
  assert.deepEqual(tries.map((t) => [t.taskId, t.state, t.durationMs, t.hostname]), [
    ["a", "success", 7, "h"],
    ["b", "up_for_retry", 7, "h"],
  ]);
  assert.deepEqual((await store.xcoms(a.runId)).map((x) => [x.taskId, x.value]), [
    ["a", { rows: [1, "x"] }],
  ]);
});

storeTest("a value the database refuses fails only its own try's end", async (server) => {
  const store = oneAtATime(server);
  const [a, b, c] = await threeTaskRun(store);
  const at = new Date("2026-01-01T00:00:01Z");
  await Promise.all([a, b, c].map((k) => store.startTry(k, 1, at, "h")));
  // a goes alone; b and c go together, are refused (c's value), then go again one by one.
  const results = await Promise.allSettled([
    store.finishTry(a, 1, { state: "success", at, durationMs: 1 }),
    store.finishTry(b, 1, { state: "failed", at, durationMs: 1, error: "boom" }),
    store.finishTry(c, 1, {
      state: "success",
      at,
      durationMs: 1,
      // PostgreSQL stores no NUL character in text or jsonb.
      xcom: { value: "nul \u0000 here", artifact: null, sizeBytes: 9 },
    }),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "fulfilled", "rejected"]);
  const tis = await store.taskInstances(a.runId);
  assert.deepEqual(tis.map((t) => [t.taskId, t.state, t.error]), [
    ["a", "success", null],
    ["b", "failed", "boom"],
    ["c", "running", null],
  ]);
  assert.deepEqual(await store.xcoms(a.runId), []);
});
