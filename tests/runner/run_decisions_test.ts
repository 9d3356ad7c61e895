// The pure decision core (runner/run_decisions.ts) as tables of cases: given a DAG and its task
// instances' states, what each task's upstream decides, what may start, what a branch skips, what
// a try left by an ended process becomes, and the run's end. No store, no clock, no task code.
import assert from "node:assert/strict";
import type { TaskState } from "../../runner/core/states.ts";
import { dag, type DagDefinition } from "../../runner/dag.ts";
import {
  type OrphanFate,
  RunDecisions,
  type RunOutcome,
  type TaskDecision,
  type Ti,
} from "../../runner/run_decisions.ts";

// a → b → c, all_success.
const chain = dag({ id: "chain" })
  .task("a", { run: () => 1 })
  .task("b", { deps: ["a"], run: () => 2 })
  .task("c", { deps: ["b"], run: () => 3 });

// check branches to left or right; join runs after whichever ran; after_all needs both.
const branchy = dag({ id: "branchy" })
  .branch("check", { run: () => "left" })
  .task("left", { deps: ["check"], run: () => 1 })
  .task("right", { deps: ["check"], run: () => 2 })
  .task("join", {
    deps: ["left", "right"],
    triggerRule: "none_failed_min_one_success",
    run: () => 3,
  })
  .task("report", { deps: ["left", "right"], triggerRule: "all_done", run: () => 4 });

// src → m (mapped over src's rows) → sink.
const mapped = dag({ id: "mapped" })
  .task("src", { run: () => [1, 2] })
  .task("m", { deps: ["src"], expand: () => [1, 2], run: (_ctx, n: number) => n * 2 })
  .task("sink", { deps: ["m"], run: () => 0 });

/** A state, or a task instance's fields: "name" is `-1`, "name[i]" a map item. */
type Given = Record<string, TaskState | null | Partial<Ti>>;

/** A decision core holding `given` (every task not named is there, undecided). */
function load(d: DagDefinition, given: Given): RunDecisions {
  const run = new RunDecisions(d);
  const base = { state: null, tryNumber: 0, maxTries: 1, pool: "default_pool", poolSlots: 1 };
  for (const t of d.tasks) {
    run.put({ ...base, taskId: t.id, mapIndex: -1, nextRetryAt: null, busy: false });
  }
  for (const [name, v] of Object.entries(given)) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(name)!;
    const fields = v === null || typeof v === "string" ? { state: v } : v;
    assert.ok(
      run.put({
        ...base,
        nextRetryAt: null,
        busy: false,
        ...fields,
        taskId: m[1],
        mapIndex: m[2] === undefined ? -1 : Number(m[2]),
      }),
      `${name} is a task of ${d.id}`,
    );
  }
  return run;
}

const RUN: TaskDecision = { kind: "run" };
const WAIT: TaskDecision = { kind: "wait" };
const settle = (state: "skipped" | "upstream_failed"): TaskDecision => ({ kind: "settle", state });
const aggregate = (state: "success" | "failed" | "skipped"): TaskDecision => ({
  kind: "aggregate",
  state,
});

const DECIDE: [string, DagDefinition, Given, string, TaskDecision][] = [
  ["a task without upstream runs", chain, {}, "a", RUN],
  ["a task waits for its running upstream", chain, { a: "running" }, "b", WAIT],
  ["a task runs after its upstream succeeded", chain, { a: "success" }, "b", RUN],
  ["a failure upstream fails it early", chain, { a: "failed" }, "b", settle("upstream_failed")],
  [
    "upstream_failed propagates",
    chain,
    { a: "failed", b: "upstream_failed" },
    "c",
    settle(
      "upstream_failed",
    ),
  ],
  ["a skip upstream skips it", chain, { a: "skipped" }, "b", settle("skipped")],
  ["a decided task is not decided again", chain, { a: "success", b: "scheduled" }, "b", WAIT],
  ["a retrying upstream is waited for", chain, { a: "up_for_retry" }, "b", WAIT],
  [
    "a join beside a skipped path runs after the followed one",
    branchy,
    { check: "success", left: "success", right: "skipped" },
    "join",
    RUN,
  ],
  [
    "a join waits while the followed path runs",
    branchy,
    { check: "success", left: "running", right: "skipped" },
    "join",
    WAIT,
  ],
  [
    "a join after two skipped paths is skipped",
    branchy,
    { check: "success", left: "skipped", right: "skipped" },
    "join",
    settle("skipped"),
  ],
  [
    "all_done runs whatever its upstream ended in",
    branchy,
    { check: "success", left: "failed", right: "skipped" },
    "report",
    RUN,
  ],
  ["a mapped task runs (expands) after its upstream", mapped, { src: "success" }, "m", RUN],
  [
    "a mapped task whose items all succeeded succeeds",
    mapped,
    { src: "success", m: "running", "m[0]": "success", "m[1]": "success" },
    "m",
    aggregate("success"),
  ],
  [
    "a mapped task with a failed item fails",
    mapped,
    { src: "success", m: "running", "m[0]": "failed", "m[1]": "success" },
    "m",
    aggregate("failed"),
  ],
  [
    "a mapped task whose items were all skipped is skipped",
    mapped,
    { src: "success", m: "running", "m[0]": "skipped", "m[1]": "skipped" },
    "m",
    aggregate("skipped"),
  ],
  [
    "a mapped task waits for its last item",
    mapped,
    { src: "success", m: "running", "m[0]": "success", "m[1]": "up_for_retry" },
    "m",
    WAIT,
  ],
  [
    "a mapped task being expanded is not aggregated",
    mapped,
    { src: "success", m: { state: "running", busy: true } },
    "m",
    WAIT,
  ],
  [
    "a task after a running mapped task waits",
    mapped,
    { src: "success", m: "running" },
    "sink",
    WAIT,
  ],
];

Deno.test("decide: what a task's upstream (or a mapped task's items) decide", () => {
  for (const [name, d, given, taskId, expected] of DECIDE) {
    assert.deepEqual(load(d, given).decide(taskId), expected, name);
  }
});

const NOW = 1_000;
const READY: [string, DagDefinition, Given, string[]][] = [
  ["nothing scheduled, nothing ready", chain, {}, []],
  ["a scheduled task is ready", chain, { a: "scheduled" }, ["a"]],
  ["a task being tried is not ready again", chain, { a: { state: "scheduled", busy: true } }, []],
  ["a retry that is due is ready", chain, { a: { state: "up_for_retry", nextRetryAt: NOW } }, [
    "a",
  ]],
  ["a retry not yet due waits", chain, { a: { state: "up_for_retry", nextRetryAt: NOW + 1 } }, []],
  [
    "a reschedule that is due is ready",
    chain,
    { a: { state: "up_for_reschedule", nextRetryAt: NOW - 1 } },
    ["a"],
  ],
  ["running and finished tasks are not ready", chain, { a: "success", b: "running" }, []],
  [
    "a mapped task's items are ready, not the task itself",
    mapped,
    { src: "success", m: "running", "m[0]": "scheduled", "m[1]": "success" },
    ["m[0]"],
  ],
];

Deno.test("ready: which tries may start now", () => {
  for (const [name, d, given, expected] of READY) {
    const ready = load(d, given).ready(NOW).map((ti) =>
      ti.mapIndex >= 0 ? `${ti.taskId}[${ti.mapIndex}]` : ti.taskId
    );
    assert.deepEqual(ready, expected, name);
  }
});

const PROGRESS: [string, Given, { allFinished: boolean; earliestRetry: number | null }][] = [
  ["an undecided run", {}, { allFinished: false, earliestRetry: null }],
  [
    "every task finished",
    { a: "success", b: "failed", c: "upstream_failed" },
    { allFinished: true, earliestRetry: null },
  ],
  [
    "a finished task still being tried holds the run",
    { a: "success", b: "success", c: { state: "success", busy: true } },
    { allFinished: false, earliestRetry: null },
  ],
  [
    "the first of two retries is when the run looks again",
    {
      a: { state: "up_for_retry", nextRetryAt: 5_000 },
      b: { state: "up_for_reschedule", nextRetryAt: 3_000 },
    },
    { allFinished: false, earliestRetry: 3_000 },
  ],
  [
    "a retry being tried is not waited for",
    { a: { state: "up_for_retry", nextRetryAt: 5_000, busy: true } },
    { allFinished: false, earliestRetry: null },
  ],
];

Deno.test("allFinished and earliestRetry: whether the run is done, and when to look again", () => {
  for (const [name, given, expected] of PROGRESS) {
    const run = load(chain, given);
    assert.deepEqual(
      { allFinished: run.allFinished(), earliestRetry: run.earliestRetry() },
      expected,
      name,
    );
  }
});

const OUTCOME: [string, DagDefinition, Given, boolean, RunOutcome][] = [
  [
    "all succeeded",
    chain,
    { a: "success", b: "success", c: "success" },
    false,
    { state: "success", failedTasks: [] },
  ],
  [
    "a failure reaching the leaf fails the run",
    chain,
    { a: "failed", b: "upstream_failed", c: "upstream_failed" },
    false,
    { state: "failed", failedTasks: ["a"] },
  ],
  [
    "a leaf upstream_failed fails the run though the other leaf succeeded",
    branchy,
    {
      check: "success",
      left: "failed",
      right: "skipped",
      join: "upstream_failed",
      report: "success",
    },
    false,
    { state: "failed", failedTasks: ["left"] },
  ],
  [
    "skipped leaves end a run in success",
    branchy,
    { check: "success", left: "skipped", right: "skipped", join: "skipped", report: "success" },
    false,
    { state: "success", failedTasks: [] },
  ],
  [
    "a failed item names its mapped task once",
    mapped,
    { src: "success", m: "failed", "m[0]": "failed", "m[1]": "failed", sink: "upstream_failed" },
    false,
    { state: "failed", failedTasks: ["m"] },
  ],
  [
    "a run that timed out fails whatever its leaves",
    chain,
    { a: "success", b: "skipped", c: "skipped" },
    true,
    { state: "failed", failedTasks: [] },
  ],
];

Deno.test("outcome: the run's final state", () => {
  for (const [name, d, given, failedAnyway, expected] of OUTCOME) {
    assert.deepEqual(load(d, given).outcome(failedAnyway), expected, name);
  }
});

const ORPHANS: [string, DagDefinition, Given, string, OrphanFate][] = [
  [
    "a try under way with tries left is retried",
    chain,
    { a: { state: "running", tryNumber: 1, maxTries: 1 } },
    "a",
    { kind: "failTry", state: "up_for_retry" },
  ],
  [
    "a try under way without tries left fails",
    chain,
    { a: { state: "running", tryNumber: 2, maxTries: 1 } },
    "a",
    { kind: "failTry", state: "failed" },
  ],
  [
    "a queued task is decided again",
    chain,
    { a: { state: "queued", tryNumber: 0 } },
    "a",
    { kind: "reset", state: null },
  ],
  [
    "a running task with no try started is decided again",
    chain,
    { a: { state: "running", tryNumber: 0 } },
    "a",
    { kind: "reset", state: null },
  ],
  [
    "a queued item is scheduled again",
    mapped,
    { src: "success", m: "running", "m[0]": "queued" },
    "m[0]",
    { kind: "reset", state: "scheduled" },
  ],
  [
    "a mapped task with items is aggregated from them",
    mapped,
    { src: "success", m: "running", "m[0]": "success" },
    "m",
    { kind: "aggregate" },
  ],
  [
    "a mapped task without items expands again",
    mapped,
    { src: "success", m: "running" },
    "m",
    { kind: "reset", state: null },
  ],
];

Deno.test("orphanFate: what a try left by a process that ended becomes", () => {
  for (const [name, d, given, at, expected] of ORPHANS) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(at)!;
    const where = { taskId: m[1], mapIndex: m[2] === undefined ? -1 : Number(m[2]) };
    assert.deepEqual(load(d, given).orphanFate(where), expected, name);
  }
});

const BRANCHES: [string, Given, unknown, string[] | RegExp, string[]][] = [
  ["one path followed: the other is skipped", { check: "running" }, "left", ["left"], ["right"]],
  ["a list of paths", { check: "running" }, ["left", "right"], ["left", "right"], []],
  ["nothing returned follows nothing", { check: "running" }, null, [], ["left", "right"]],
  [
    "a path already decided is not skipped again",
    { check: "running", right: "upstream_failed" },
    "left",
    ["left"],
    [],
  ],
  ["a task not directly downstream", { check: "running" }, "join", /not one of its direct/, []],
  ["not a task id", { check: "running" }, 3, /must return a task id/, []],
];

Deno.test("followed and notFollowed: what a branch follows and what it skips", () => {
  for (const [name, given, value, followed, skipped] of BRANCHES) {
    const run = load(branchy, given);
    if (followed instanceof RegExp) {
      assert.throws(() => run.followed("check", value), followed, name);
      continue;
    }
    assert.deepEqual(run.followed("check", value), followed, name);
    assert.deepEqual(run.notFollowed("check", followed).map((ti) => ti.taskId), skipped, name);
  }
});

Deno.test("states change only through the core, and only for tasks of its DAG", () => {
  const run = load(mapped, { src: "success", m: "running" });
  assert.equal(
    run.put({
      taskId: "elsewhere",
      mapIndex: -1,
      state: null,
      tryNumber: 0,
      maxTries: 1,
      pool: "default_pool",
      poolSlots: 1,
      nextRetryAt: null,
      busy: false,
    }),
    false,
  );
  assert.throws(() => run.update({ taskId: "m", mapIndex: 5 }, { state: "success" }), /m\[5\]/);
  run.expand("m", 3);
  assert.deepEqual(run.children("m").map((ti) => [ti.mapIndex, ti.state, ti.tryNumber]), [
    [0, "scheduled", 0],
    [1, "scheduled", 0],
    [2, "scheduled", 0],
  ]);
  for (let i = 0; i < 3; i++) run.update({ taskId: "m", mapIndex: i }, { state: "success" });
  assert.deepEqual(run.decide("m"), aggregate("success"));
  assert.deepEqual(run.unfinished().map((ti) => ti.taskId), ["m", "sink"]);
});

Deno.test("RunDecisions: only what changed is decided again; ready tries are read lazily", () => {
  const d = dag({ id: "incremental" })
    .task("a", { run: () => 1 })
    .task("b", { deps: ["a"], run: () => 2 })
    .task("c", { run: () => 3 })
    .task("d", { deps: ["b", "c"], run: () => 4 });
  const run = load(d, {});
  // a new run: every task, in the DAG's order, then nothing until something changes
  assert.deepEqual(run.takeChanged().map((t) => t.id), ["a", "b", "c", "d"]);
  assert.deepEqual(run.takeChanged(), []);
  // a change to a: a itself and its direct downstream b, not c or d
  run.update({ taskId: "a", mapIndex: -1 }, { state: "success" });
  assert.deepEqual(run.takeChanged().map((t) => t.id), ["a", "b"]);
  // what waits on something outside the run is kept for the next round
  run.recheck("c");
  assert.deepEqual(run.takeChanged().map((t) => t.id), ["c"]);
  // the waiting index: scheduled instances, in the order they were scheduled; a caller that stops
  // early reads no further, and a finished instance leaves the index
  run.update({ taskId: "c", mapIndex: -1 }, { state: "scheduled" });
  run.update({ taskId: "b", mapIndex: -1 }, { state: "scheduled" });
  assert.deepEqual(run.ready(NOW).map((ti) => ti.taskId), ["c", "b"]);
  const lazy = run.readyNow(NOW);
  assert.equal(lazy.next().value?.taskId, "c");
  run.update({ taskId: "b", mapIndex: -1 }, { state: "success" });
  assert.equal(lazy.next().done, true, "b finished before it was read");
  assert.equal(run.allFinished(), false);
  run.update({ taskId: "c", mapIndex: -1 }, { state: "success" });
  run.update({ taskId: "d", mapIndex: -1 }, { state: "skipped" });
  assert.equal(run.allFinished(), true);
  run.update({ taskId: "d", mapIndex: -1 }, { busy: true });
  assert.equal(run.allFinished(), false, "an instance being tried is open");
});
