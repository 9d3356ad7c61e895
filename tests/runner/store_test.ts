import assert from "node:assert/strict";
import { migrate, MIGRATIONS } from "../../runner/store/migrations.ts";
import { RunExistsError } from "../../runner/store/store.ts";
import type { Store } from "../../runner/store/store.ts";
import { storeTest } from "./helpers.ts";

const structure = {
  dagId: "d",
  schedule: null,
  tasks: [{
    id: "a",
    kind: "function" as const,
    deps: [],
    triggerRule: "all_success" as const,
    mapped: false,
  }],
};

function newRun(store: Store, logicalDate = new Date("2026-01-01T00:00:00Z")) {
  return store.createRun({
    dagId: "d",
    logicalDate,
    dataIntervalStart: logicalDate,
    dataIntervalEnd: logicalDate,
    runType: "manual",
    conf: { note: "x" },
    params: { n: 1 },
    structure,
    structureHash: "h1",
    tasks: [{ taskId: "a", maxTries: 2, pool: "default_pool", poolSlots: 1 }, {
      taskId: "b",
      maxTries: 0,
      pool: "default_pool",
      poolSlots: 1,
    }],
  });
}

storeTest("migrations are idempotent and recorded", async (store) => {
  assert.deepEqual(await migrate(store.db), []);
  const rows = await store.db.query<{ version: number }>(
    "select version from schema_migrations where component = 'engine' order by version",
  );
  assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
});

storeTest("runs are unique on dag and logical date", async (store) => {
  const run = await newRun(store);
  assert.equal(run.state, "queued");
  assert.deepEqual(run.conf, { note: "x" });
  await assert.rejects(
    () => newRun(store),
    (e) => e instanceof RunExistsError && e.existingId === run.id,
  );
  const tis = await store.taskInstances(run.id);
  assert.deepEqual(tis.map((t) => [t.taskId, t.mapIndex, t.state, t.maxTries]), [
    ["a", -1, null, 2],
    ["b", -1, null, 0],
  ]);
  assert.deepEqual(await store.structure("h1"), structure);
});

storeTest("every try is recorded with its times, error, log and XCom", async (store) => {
  const run = await newRun(store);
  const key = { runId: run.id, taskId: "a", mapIndex: -1 };
  const t0 = new Date("2026-01-01T00:00:01Z");
  await store.startTry(key, 1, t0, "host-1");
  await store.appendLogs(key, 1, [{ ts: t0, stream: "log", line: "first" }]);
  await store.finishTry(key, 1, {
    state: "up_for_retry",
    at: new Date(t0.getTime() + 5),
    durationMs: 5,
    error: "boom",
    nextRetryAt: new Date(t0.getTime() + 1000),
  });
  await store.startTry(key, 2, new Date(t0.getTime() + 1000), "host-2");
  await store.appendLogs(key, 2, [{ ts: t0, stream: "stdout", line: "second" }]);
  await store.finishTry(key, 2, {
    state: "success",
    at: new Date(t0.getTime() + 1010),
    durationMs: 10,
    xcom: { value: { rows: 3 }, artifact: null, sizeBytes: 10 },
  });
  const tries = await store.tries(run.id, "a");
  assert.deepEqual(tries.map((t) => [t.tryNumber, t.state, t.error, t.hostname, t.durationMs]), [[
    1,
    "up_for_retry",
    "boom",
    "host-1",
    5,
  ], [2, "success", null, "host-2", 10]]);
  const [ti] = (await store.taskInstances(run.id)).filter((t) => t.taskId === "a");
  assert.equal(ti.state, "success");
  assert.equal(ti.tryNumber, 2);
  assert.equal(ti.hostname, "host-2");
  assert.deepEqual((await store.logs(run.id, "a")).map((l) => l.line), ["second"]);
  assert.deepEqual((await store.logs(run.id, "a", 1)).map((l) => [l.line, l.stream]), [[
    "first",
    "log",
  ]]);
  assert.deepEqual((await store.xcoms(run.id)).map((x) => [x.taskId, x.value]), [["a", {
    rows: 3,
  }]]);
  assert.deepEqual((await store.triesOfRuns([run.id])).length, 2);
});

storeTest(
  "clear resets tasks, drops mapped items and XCom, keeps the try history",
  async (store) => {
    const run = await newRun(store);
    const key = { runId: run.id, taskId: "a", mapIndex: -1 };
    await store.expandMapped({ ...key, taskId: "b" }, ["x", "y", "z"]);
    assert.equal((await store.taskInstances(run.id)).length, 5);
    await store.startTry(key, 1, new Date(), "h");
    await store.finishTry(key, 1, {
      state: "success",
      at: new Date(),
      durationMs: 1,
      xcom: { value: 1, artifact: null, sizeBytes: 1 },
    });
    await store.setRunState(run.id, "success", new Date());
    assert.equal(await store.clear(run.id, ["a", "b"]), 2);
    const tis = await store.taskInstances(run.id);
    assert.deepEqual(tis.map((t) => [t.taskId, t.mapIndex, t.state, t.tryNumber, t.maxTries]), [[
      "a",
      -1,
      null,
      1,
      3,
    ], ["b", -1, null, 0, 0]]);
    assert.equal((await store.xcoms(run.id)).length, 0);
    assert.equal((await store.tries(run.id)).length, 1);
    assert.equal((await store.getRun(run.id))?.state, "queued");
  },
);

storeTest(
  "runs list newest first, filtered by state; DAGs carry their last run; pools resize",
  async (store) => {
    const r1 = await newRun(store, new Date("2026-01-01T00:00:00Z"));
    const r2 = await newRun(store, new Date("2026-01-02T00:00:00Z"));
    await store.setRunState(r1.id, "success", new Date());
    assert.deepEqual((await store.listRuns("d")).map((r) => r.id), [r2.id, r1.id]);
    assert.deepEqual((await store.listRuns("d", { states: ["success"] })).map((r) => r.id), [
      r1.id,
    ]);
    await store.upsertDag({
      dagId: "d",
      fileloc: "d.ts",
      schedule: "@daily",
      timezone: "UTC",
      description: null,
      paramsSchema: { type: "object" },
      structure,
      structureHash: "h1",
    });
    await store.setPaused("d", true);
    const [d] = await store.listDags();
    assert.deepEqual([d.dagId, d.isPaused, d.lastRunId, d.lastRunState, d.schedule], [
      "d",
      true,
      r2.id,
      "queued",
      "@daily",
    ]);
    await store.setPool("gpu", 2, "the GPU");
    assert.deepEqual((await store.pools()).map((p) => [p.name, p.slots]), [["default_pool", 128], [
      "gpu",
      2,
    ]]);
  },
);

storeTest(
  "readers for /metrics and the UI: runs by DAG and state, instances by state, try durations, return values",
  async (store) => {
    const r1 = await newRun(store, new Date("2026-01-01T00:00:00Z"));
    const r2 = await newRun(store, new Date("2026-01-02T00:00:00Z"));
    await store.setRunState(r1.id, "success", new Date());
    const t0 = new Date("2026-01-01T00:00:01Z");
    for (const [run, ms, value] of [[r1, 250, { n: 1 }], [r2, 750, "a string"]] as const) {
      const key = { runId: run.id, taskId: "a", mapIndex: -1 };
      await store.startTry(key, 1, t0, "h");
      await store.finishTry(key, 1, {
        state: "success",
        at: new Date(t0.getTime() + ms),
        durationMs: ms,
        xcom: { value, artifact: null, sizeBytes: 1 },
      });
    }
    await store.startTry({ runId: r2.id, taskId: "b", mapIndex: -1 }, 1, t0, "h");
    assert.deepEqual(await store.countRunsByDag(), [
      { dagId: "d", state: "queued", n: 1 },
      { dagId: "d", state: "success", n: 1 },
    ]);
    assert.deepEqual(await store.countTaskInstancesByState(), [
      { state: null, n: 1 },
      { state: "running", n: 1 },
      { state: "success", n: 2 },
    ]);
    assert.deepEqual(await store.tryDurationsByDag(), [{ dagId: "d", n: 2, totalMs: 1000 }]);
    const values = await store.returnValues("d", "a");
    assert.deepEqual(values.map((v) => [v.runId, v.value]), [[r2.id, "a string"], [r1.id, {
      n: 1,
    }]]);
    assert.equal(values[1].logicalDate.toISOString(), "2026-01-01T00:00:00.000Z");
    assert.deepEqual((await store.returnValues("d", "a", { limit: 1 })).map((v) => v.runId), [
      r2.id,
    ]);
    assert.deepEqual((await store.returnValues("d", "a", { runId: r1.id })).map((v) => v.runId), [
      r1.id,
    ]);
    assert.deepEqual(await store.returnValues("d", "b"), []);
  },
);
