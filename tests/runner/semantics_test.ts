// Airflow's semantics at the edges (issue 15 items 1–6, issue 12 item 11): each test failed before.
import assert from "node:assert/strict";
import { buildChain } from "./processes.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { FakeClock } from "../../runner/clock.ts";
import { dag, type DagDefinition, SkipTask } from "../../runner/dag.ts";
import { Executor, type ExecutorOptions } from "../../runner/executor.ts";
import { ParamsError } from "../../runner/params.ts";
import { retryDelayMs } from "../../runner/retry.ts";
import { createDagRun, DEFAULT_POOL_SLOTS, manualDataInterval } from "../../runner/runs.ts";
import type { Store } from "../../runner/store/store.ts";
import { findCycle, validateDag } from "../../runner/validate.ts";
import { z } from "zod";
import { storeSuite } from "./helpers.ts";

const artifactsDir = await Deno.makeTempDir({ prefix: "driftflow-artifacts-" });

async function runDag(store: Store, d: DagDefinition, opts: Partial<ExecutorOptions> = {}) {
  const ex = new Executor({ store, artifacts: new LocalArtifactStore(artifactsDir), ...opts });
  const run = await createDagRun(store, d);
  const result = await ex.runToEnd(d, run.id);
  await ex.drain();
  const states = Object.fromEntries(result.taskInstances.map((t) => [t.taskId, t.state]));
  return { ...result, states };
}

let seq = 0;
const id = (name: string) => `${name}_${++seq}`;

storeSuite("semantics", {
  "a join beside a followed branch runs (skip_all_except)": async (store) => {
    const d = dag({ id: id("join") })
      .branch("branch", { run: () => "a" })
      .task("a", { deps: ["branch"], run: () => 1 })
      .task("b", { deps: ["branch"], run: () => 2 })
      .task("dj", { deps: ["branch", "a"], run: (ctx) => ctx.xcom("a") + 1 });
    const r = await runDag(store, d);
    assert.equal(r.state, "success");
    assert.deepEqual(r.states, { a: "success", b: "skipped", branch: "success", dj: "success" });
  },

  "a branch returning nothing (undefined or null) skips every downstream task": async (store) => {
    for (const value of [undefined, null]) {
      const d = dag({ id: id("none") })
        .branch("branch", { run: () => value as unknown as string })
        .task("a", { deps: ["branch"], run: () => 1 })
        .task("b", { deps: ["branch"], run: () => 2 })
        .task("after", { deps: ["a"], run: () => 3 });
      const r = await runDag(store, d);
      assert.equal(r.state, "success", String(value));
      assert.deepEqual(r.states, {
        a: "skipped",
        after: "skipped",
        b: "skipped",
        branch: "success",
      });
      const x = await store.xcoms(r.run.id, ["branch"]);
      assert.deepEqual(x[0].value, []);
    }
  },

  "a manual run of a scheduled DAG gets the last complete interval": async (store) => {
    const d = dag({ id: id("daily"), schedule: "@daily" }).task("t", { run: () => 1 });
    const at = new Date("2026-03-10T07:45:00Z");
    const run = await createDagRun(store, d, { logicalDate: at });
    assert.equal(run.dataIntervalStart.toISOString(), "2026-03-09T00:00:00.000Z");
    assert.equal(run.dataIntervalEnd.toISOString(), "2026-03-10T00:00:00.000Z");
    // on a tick: the interval that ends there
    assert.deepEqual(manualDataInterval(d, new Date("2026-03-10T00:00:00Z")), {
      start: new Date("2026-03-09T00:00:00Z"),
      end: new Date("2026-03-10T00:00:00Z"),
    });
    const manual = dag({ id: id("manual") }).task("t", { run: () => 1 });
    assert.deepEqual(manualDataInterval(manual, at), { start: at, end: at });
  },

  "a pool nobody created is created with default slots, and the run succeeds": async (store) => {
    const d = dag({ id: id("pool") }).task("report", { pool: id("reports"), run: () => 1 });
    const r = await runDag(store, d);
    assert.equal(r.state, "success");
    const pool = (await store.pools()).find((p) => p.name === d.tasks[0].settings.pool)!;
    assert.equal(pool.slots, DEFAULT_POOL_SLOTS);
    assert.match(pool.description, /pools set/);
  },

  "a run that cannot start is failed, not left queued": async (store) => {
    const pool = id("tiny");
    await store.setPool(pool, 1);
    const d = dag({ id: id("nostart") }).task("big", { pool, poolSlots: 2, run: () => 1 });
    const ex = new Executor({ store, artifacts: new LocalArtifactStore(artifactsDir) });
    const run = await createDagRun(store, d);
    await assert.rejects(ex.runToEnd(d, run.id), /needs 2 slots of pool/);
    assert.equal((await store.getRun(run.id))!.state, "failed");
  },

  "reading the XCom of a task that is not upstream fails, with the fix in the message": async (
    store,
  ) => {
    const d = dag({ id: id("notup") })
      .task("each", { run: () => [1, 2] })
      .task("other", { run: () => 1 })
      // A type error too: ctx.xcom takes only the ids of upstream tasks.
      // @ts-expect-error "each" is not upstream of "report"
      .task("report", { deps: ["other"], run: (ctx) => ctx.xcom("each") });
    const problems = validateDag(d, "dags/x.ts");
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.match(
      problems[0],
      /task "report": reads ctx.xcom\("each"\), but "each" is not upstream/,
    );
    // a computed id is caught when the task runs
    const name = "each";
    const dyn = dag({ id: id("notup_dyn") })
      .task("each", { run: () => [1, 2] })
      .task("report", {
        run: (ctx) => (ctx.maybeXcom as (id: string) => unknown)(name), // an id the types cannot see
      });
    assert.deepEqual(validateDag(dyn, "dags/x.ts"), []);
    const r = await runDag(store, dyn);
    assert.equal(r.states.report, "failed");
    assert.match(
      r.taskInstances.find((t) => t.taskId === "report")!.error!,
      /"each" is not upstream of "report".*add "each" to its deps/,
    );
    // an ancestor two levels up may be read
    const deep = dag({ id: id("deep") })
      .task("a", { run: () => 1 })
      .task("b", { deps: ["a"], run: () => 2 })
      .task("c", { deps: ["b"], run: (ctx) => ctx.xcom("a") + 1 });
    assert.deepEqual(validateDag(deep, "dags/x.ts"), []);
    assert.equal((await runDag(store, deep)).state, "success");
  },

  "unknown params are refused, naming the known ones": async (store) => {
    const d = dag({ id: id("params"), params: z.object({ batchSize: z.number().default(1) }) })
      .task("t", { run: () => 1 });
    await assert.rejects(
      createDagRun(store, d, { params: { nosuch: 1 } }),
      (e: unknown) =>
        e instanceof ParamsError &&
        /params.nosuch: unknown param; the DAG's params are: batchSize/.test(e.message),
    );
    const none = dag({ id: id("noparams") }).task("t", { run: () => 1 });
    await assert.rejects(createDagRun(store, none, { params: { x: 1 } }), /takes no params/);
    // conf keys are free-form and still set the params the schema knows
    const run = await createDagRun(store, d, { conf: { batchSize: 5, note: "x" } });
    assert.deepEqual(run.params, { batchSize: 5 });
  },

  "a task can skip itself: SkipTask or ctx.skip(); no retry, downstream follows its rule": async (
    store,
  ) => {
    let tries = 0;
    const d = dag({ id: id("skipself"), defaults: { retries: 3, retryDelay: "0s" } })
      .task("quiet", {
        run: () => {
          tries++;
          throw new SkipTask("no new files");
        },
      })
      .task("also", { run: (ctx) => ctx.skip("nothing to do") })
      .task("after", { deps: ["quiet"], run: () => 1 })
      .task("cleanup", { deps: ["quiet", "also"], triggerRule: "all_done", run: () => 1 })
      .task("peek", {
        deps: ["quiet"],
        triggerRule: "all_done",
        run: (ctx) => ctx.maybeXcom("quiet") ?? "none",
      });
    const r = await runDag(store, d);
    assert.equal(r.state, "success");
    assert.equal(tries, 1);
    assert.deepEqual(r.states, {
      after: "skipped",
      also: "skipped",
      cleanup: "success",
      peek: "success",
      quiet: "skipped",
    });
    const t = await store.tries(r.run.id, "quiet");
    assert.deepEqual(t.map((x) => x.state), ["skipped"]);
    assert.match(t[0].error!, /no new files/);
  },

  "a run's start and end never precede its queuedAt, whatever the process clock": async (
    store,
  ) => {
    const d = dag({ id: id("clock") }).task("t", { run: () => 1 });
    const clock = new FakeClock(Date.parse("2020-01-01T00:00:00Z"));
    const r = await runDag(store, d, { clock });
    assert.ok(r.run.startDate! >= r.run.queuedAt, `${r.run.startDate} < ${r.run.queuedAt}`);
    assert.ok(r.run.endDate! >= r.run.startDate!);
  },
});

Deno.test("exponential backoff has Airflow's jitter: in [d, 2d), reproducible, capped", () => {
  const s = { retryDelay: "10s", retryBackoff: "exponential", maxRetryDelay: "1h" } as const;
  const delays = Array.from({ length: 50 }, (_, i) => retryDelayMs(s, 2, `dag#t#${i}#-1`));
  for (const d of delays) assert.ok(d >= 20_000 && d < 40_000, String(d));
  assert.ok(new Set(delays).size > 40, "the delays spread out");
  assert.equal(retryDelayMs(s, 2, "dag#t#1#-1"), retryDelayMs(s, 2, "dag#t#1#-1"));
  assert.equal(retryDelayMs({ ...s, maxRetryDelay: "15s" }, 2, "k"), 15_000);
  assert.equal(retryDelayMs({ retryDelay: "10s" }, 5, "k"), 10_000, "fixed delays stay fixed");
});

Deno.test("the unknown-dependency error does not list the task itself among the known tasks", () => {
  const d = dag({ id: "unknown_dep" })
    .task("a", { run: () => 1 })
    .task("b", { deps: ["nope" as "a"], run: () => 1 });
  const [problem] = validateDag(d, "dags/x.ts");
  assert.match(problem, /task "b": unknown dependency "nope"; known tasks: a$/);
});

Deno.test("building and validating a 50,000-task chain is linear: shared, not copied", () => {
  // Each builder step shares the tasks before it: a Dag derived from a prefix sees exactly its own
  // tasks, the prefix is unchanged, and the TaskDef objects are the same ones (no copies).
  const base = dag({ id: "shared" }).task("t0", { run: () => 0 });
  const left = base.task("l", { deps: ["t0"], run: () => 1 });
  const right = base.task("r", { deps: ["t0"], run: () => 2 });
  assert.deepEqual(base.tasks.map((t) => t.id), ["t0"]);
  assert.deepEqual(left.tasks.map((t) => t.id), ["t0", "l"]);
  assert.deepEqual(right.tasks.map((t) => t.id), ["t0", "r"]);
  assert.equal(left.tasks[0], right.tasks[0]);
  assert.equal(left.tasks, left.tasks, "the task list is built once per Dag");

  // Linear, counted rather than timed: every array element the builder iterates over while adding
  // 5,000 tasks. Copying the task list on each `.task` iterated n²/2 = 12.5 million elements.
  const iterate = Array.prototype[Symbol.iterator];
  let steps = 0;
  Array.prototype[Symbol.iterator] = function (this: unknown[]) {
    const it = iterate.call(this);
    return Object.assign(Object.create(Object.getPrototypeOf(it)), {
      next: () => (steps++, it.next()),
    });
  };
  const m = 5_000;
  try {
    buildChain("counted", m);
  } finally {
    Array.prototype[Symbol.iterator] = iterate;
  }
  assert.ok(steps < 50 * m, `building ${m} tasks iterated ${steps} elements`);

  const n = 50_000;
  const big = buildChain("chain", n);
  assert.equal(big.tasks.length, n);
  assert.equal(big.tasks[n - 1].id, `t${n - 1}`);
  // A 50,000-deep chain: the cycle search must not recurse per task (it overflowed the stack).
  assert.deepEqual(validateDag(big, "dags/chain.ts"), []);
  const cyclic = [...big.tasks.map((t) => ({ id: t.id, deps: t.deps }))];
  cyclic[0] = { id: "t0", deps: [`t${n - 1}`] };
  assert.equal(findCycle(cyclic)!.length, n + 1);
});
