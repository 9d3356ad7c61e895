// `deno task run <dag> --task <task> [--from-run <run_id>]`: Airflow's `tasks test` (issue 15).
import assert from "node:assert/strict";
import { runCli } from "./processes.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { dag } from "../../runner/dag.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { runSingleTask, SingleTaskError } from "../../runner/single_task.ts";
import { loadDags } from "../../runner/loader.ts";
import { openPostgres } from "../../runner/store/postgres.ts";
import { Store } from "../../runner/store/store.ts";
import { z } from "zod";
import { freshDatabase, storeSuite } from "./helpers.ts";

const artifacts = new LocalArtifactStore(await Deno.makeTempDir({ prefix: "driftflow-single-" }));
let seq = 0;
const id = (name: string) => `${name}_${++seq}`;
const quiet = () => {};

storeSuite("single task", {
  "a task runs alone with the upstream XComs of a given run, and nothing is recorded": async (
    store,
  ) => {
    let calls = 0;
    const d = dag({ id: id("one"), params: z.object({ k: z.number().default(2) }) })
      .task("extract", { run: () => ({ rows: 21 }) })
      .task("each", { deps: ["extract"], expand: () => [1, 2], run: (_c, i: number) => i * 10 })
      .task("transform", {
        deps: ["extract", "each"],
        run: (ctx) => {
          calls++;
          ctx.log("transforming");
          return ctx.xcom("extract").rows * ctx.params.k + ctx.xcom("each").length;
        },
      });
    const run = await createDagRun(store, d);
    await new Executor({ store, artifacts }).runToEnd(d, run.id);
    const triesBefore = (await store.tries(run.id)).length;
    const xcomsBefore = await store.xcoms(run.id);
    const lines: string[] = [];
    const r = await runSingleTask({
      store,
      artifacts,
      dag: d,
      taskId: "transform",
      fromRun: run.id,
      params: { k: 3 },
      log: (l) => lines.push(l),
    });
    assert.deepEqual(r, { state: "success", value: 65 });
    assert.equal(calls, 2);
    assert.deepEqual(lines, ["[transform] transforming"]);
    assert.equal((await store.tries(run.id)).length, triesBefore, "no try recorded");
    assert.deepEqual(await store.xcoms(run.id), xcomsBefore, "no XCom written");

    // a mapped task alone: every item
    const m = await runSingleTask({ store, artifacts, dag: d, taskId: "each", fromRun: run.id });
    assert.deepEqual(m, { state: "success", value: [10, 20] });

    // without a run, upstream XComs are missing: the error says so
    const alone = await runSingleTask({
      store,
      artifacts,
      dag: d,
      taskId: "transform",
      log: quiet,
    });
    assert.equal(alone.state, "failed");
    assert.match(alone.error!, /task "extract" has left no value/);

    // mistakes are usage errors
    await assert.rejects(
      runSingleTask({ store, artifacts, dag: d, taskId: "nope" }),
      (e: unknown) =>
        e instanceof SingleTaskError && /its tasks: extract, each, transform/.test(String(e)),
    );
    await assert.rejects(
      runSingleTask({ store, artifacts, dag: d, taskId: "extract", record: true }),
      /--record needs --from-run/,
    );
  },

  "a sensor alone pokes until its value, in either mode": async (store) => {
    let pokes = 0;
    const d = dag({ id: id("sensor_alone") }).sensor("wait", {
      mode: "reschedule",
      poke: () => ++pokes >= 3 && "ready",
      interval: "10ms",
      timeout: "10s",
    });
    const r = await runSingleTask({ store, artifacts, dag: d, taskId: "wait", log: quiet });
    assert.deepEqual(r, { state: "success", value: "ready" });
    assert.equal(pokes, 3);
  },

  "with record, the try is recorded in the given run as a new try": async (store) => {
    let value = 1;
    const d = dag({ id: id("rec") }).task("t", { run: () => value });
    const run = await createDagRun(store, d);
    await new Executor({ store, artifacts }).runToEnd(d, run.id);
    value = 2;
    const r = await runSingleTask({
      store,
      artifacts,
      dag: d,
      taskId: "t",
      fromRun: run.id,
      record: true,
      log: quiet,
    });
    assert.equal(r.state, "success");
    assert.deepEqual((await store.tries(run.id, "t")).map((t) => t.state), ["success", "success"]);
    assert.deepEqual((await store.xcoms(run.id, ["t"]))[0].value, 2);
  },

  "record refuses an instance queued or running elsewhere, unless forced": async (store) => {
    let calls = 0;
    const d = dag({ id: id("busy") }).task("t", { run: () => ++calls });
    const run = await createDagRun(store, d);
    const key = { runId: run.id, taskId: "t", mapIndex: -1 };
    const record = (force = false) =>
      runSingleTask({
        store,
        artifacts,
        dag: d,
        taskId: "t",
        fromRun: run.id,
        record: true,
        force,
        log: quiet,
      });
    // a worker's claim (queued), then its try (running)
    await store.setTaskState(key, "queued", { at: new Date() });
    await assert.rejects(
      record(),
      (e: unknown) =>
        e instanceof SingleTaskError &&
        /task "t" of run \d+ is queued: .* or pass --force/.test(e.message),
    );
    await store.startTry(key, 1, new Date(), "worker-host");
    await assert.rejects(record(), /is running on worker-host/);
    assert.equal(calls, 0, "the task did not run beside the worker's try");
    assert.deepEqual((await store.tries(run.id, "t")).map((t) => [t.tryNumber, t.state]), [
      [1, "running"],
    ]);
    // forced: a new try is recorded over it
    const forced = await record(true);
    assert.deepEqual(forced, { state: "success", value: 1, error: undefined });
    assert.deepEqual((await store.tries(run.id, "t")).map((t) => [t.tryNumber, t.state]), [
      [1, "running"],
      [2, "success"],
    ]);
  },
});

Deno.test({
  name: "cli: run --task prints the value and records no run",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "driftflow-task-cli-" });
    const cli = (args: string[]) =>
      runCli(args, { DRIFTFLOW_HOME: home, DRIFTFLOW_DAGS: "tests/fixtures/dags_semantics" });
    try {
      const r = await cli(["run", "daily", "--task", "interval", "--date", "2026-03-10T07:45:00Z"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /2026-03-09T00:00:00.000Z\/2026-03-10T00:00:00.000Z/);
      assert.match(r.stdout, /task interval of dag daily: success/);
      assert.match(r.stderr, /nothing is recorded/);
      const runs = await cli(["runs", "daily", "--json"]);
      assert.deepEqual((JSON.parse(runs.stdout) as { runs: unknown[] }).runs, []);
      const bad = await cli(["run", "daily", "--from-run", "1"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--from-run and --record go with --task/);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test({
  name: "cli: run --task --record exits 2 on an instance a worker runs, and --force takes it over",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await freshDatabase();
    const store = new Store(await openPostgres(db.url, 2));
    const home = await Deno.makeTempDir({ prefix: "driftflow-record-cli-" });
    const cli = (args: string[]) =>
      runCli(args, {
        DATABASE_URL: db.url,
        DRIFTFLOW_HOME: home,
        DRIFTFLOW_DAGS: "tests/fixtures/dags_semantics",
      });
    try {
      await store.migrate();
      const daily = (await loadDags("tests/fixtures/dags_semantics")).dags.get("daily")!;
      const run = await createDagRun(store, daily, { executor: "distributed" });
      await store.startTry(
        { runId: run.id, taskId: "interval", mapIndex: -1 },
        1,
        new Date(),
        "w1",
      );
      const args = ["run", "daily", "--task", "interval", "--from-run", String(run.id), "--record"];
      const refused = await cli(args);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /task "interval" of run \d+ is running on w1: .*--force/);
      assert.equal((await store.tries(run.id)).length, 1, "no try recorded");
      const forced = await cli([...args, "--force"]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.deepEqual((await store.tries(run.id)).map((t) => [t.tryNumber, t.state]), [
        [1, "running"],
        [2, "success"],
      ]);
      const bad = await cli(["run", "daily", "--task", "interval", "--force"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--force goes with --record/);
    } finally {
      await store.close();
      await db.drop();
      await Deno.remove(home, { recursive: true });
    }
  },
});
