// Which tasks a clear resets; an unknown task is a typed error.
import assert from "node:assert/strict";
import { dag } from "../../runner/dag.ts";
import { tasksToClear, UnknownTaskError } from "../../runner/clear.ts";
import { dagStructure } from "../../runner/structure.ts";
import type { DagStructure } from "../../runner/structure.ts";

const diamond = dagStructure(
  dag({ id: "diamond" })
    .task("a", { run: () => 1 })
    .task("b", { deps: ["a"], run: () => 1 })
    .task("c", { deps: ["a"], run: () => 1 })
    .task("d", { deps: ["b", "c"], run: () => 1 })
    .task("e", { run: () => 1 }),
);

Deno.test("tasksToClear: downstream follows every path once, in the structure's order", () => {
  assert.deepEqual(tasksToClear(diamond, ["b"], true), ["b", "d"]);
  assert.deepEqual(tasksToClear(diamond, ["a"], true), ["a", "b", "c", "d"]);
  assert.deepEqual(tasksToClear(diamond, ["d", "a"], false), ["a", "d"]);
  assert.deepEqual(tasksToClear(diamond, [], false), ["a", "b", "c", "d", "e"]);
  // a long chain: the walk is linear, every link reached
  const tasks = Array.from({ length: 20_000 }, (_, i) => ({
    id: `t${i}`,
    deps: i ? [`t${i - 1}`] : [],
  }));
  const chain = { ...diamond, tasks: tasks as unknown as DagStructure["tasks"] };
  assert.equal(tasksToClear(chain, ["t1"], true).length, 19_999);
});

Deno.test("tasksToClear: an unknown task is an UnknownTaskError naming the run's tasks", () => {
  assert.throws(() => tasksToClear(diamond, ["a", "zz"], false), UnknownTaskError);
  assert.throws(() => tasksToClear(diamond, ["zz"], true), (err) => {
    assert.ok(err instanceof UnknownTaskError);
    assert.equal(err.taskId, "zz");
    assert.deepEqual(err.known, ["a", "b", "c", "d", "e"]);
    assert.equal(err.message, 'the run has no task "zz"; its tasks: a, b, c, d, e');
    return true;
  });
});
