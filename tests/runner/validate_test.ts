import assert from "node:assert/strict";
import { dag } from "../../runner/dag.ts";
import { loadDags } from "../../runner/loader.ts";
import { findCycle, validateDag } from "../../runner/validate.ts";

Deno.test("loading names the file and the task of every problem", async () => {
  const { dags, problems } = await loadDags("tests/fixtures/dags_bad");
  const has = (re: RegExp) =>
    assert.ok(
      problems.some((p) => re.test(p)),
      `no problem matches ${re}:\n${problems.join("\n")}`,
    );
  has(/cycle\.ts: dag "cycle", task "\w": dependency cycle (\w -> ){3}\w/);
  has(
    /unknown_dep\.ts: dag "unknown_dep", task "b": unknown dependency "missing"; known tasks: a$/,
  );
  has(/duplicate_task\.ts: dag "duplicate_task", task "a": duplicate task id/);
  has(/bad_cron\.ts: dag "bad_cron": invalid schedule "61 \* \* \* \*"/);
  has(
    /params_no_default\.ts: dag "params_no_default": a scheduled DAG's params need defaults, but these have none: table/,
  );
  has(/dup_dag_2\.ts: dag id "twice" is already defined in .*dup_dag_1\.ts/);
  has(/not_a_dag\.ts: the default export is not a DAG/);
  has(/broken_import\.ts: cannot import: .*fails when imported/);
  assert.deepEqual([...dags.keys()], ["twice"]);
});

Deno.test("the cycle is printed in data-flow order", () => {
  const cycle = findCycle([
    { id: "a", deps: ["c"] },
    { id: "b", deps: ["a"] },
    { id: "c", deps: ["b"] },
  ]);
  assert.deepEqual(cycle, ["a", "b", "c", "a"]);
  assert.equal(findCycle([{ id: "a", deps: [] }, { id: "b", deps: ["a"] }]), null);
});

Deno.test("bad option values are reported with their path", () => {
  const d = dag({ id: "bad id!", maxActiveRuns: 0, defaults: { retryDelay: "soon" } }).task("a", {
    run: () => 1,
  });
  const problems = validateDag(d, "x.ts");
  assert.ok(problems.some((p) => p.includes("option id: use letters")), problems.join("\n"));
  assert.ok(problems.some((p) => p.includes("option maxActiveRuns")), problems.join("\n"));
  assert.ok(
    problems.some((p) => p.includes('option defaults.retryDelay: invalid duration "soon"')),
    problems.join("\n"),
  );
});

Deno.test("a sound DAG has no problems", async () => {
  const { dags, problems } = await loadDags("dags");
  assert.deepEqual(problems, []);
  assert.ok(dags.has("example"));
});

Deno.test("an experiment's summary task must be a task of the DAG", () => {
  const sound = dag({ id: "exp", experiment: { summaryTask: "summarise" } })
    .task("summarise", { run: () => ({ cells: 1 }) });
  assert.deepEqual(validateDag(sound, "dags/exp.ts"), []);
  const typo = dag({ id: "exp", experiment: { summaryTask: "summary" } })
    .task("cells", { run: () => 1 })
    .task("summarise", { deps: ["cells"], run: () => ({ cells: 1 }) });
  assert.deepEqual(validateDag(typo, "dags/exp.ts"), [
    'dags/exp.ts: dag "exp": experiment.summaryTask "summary" is not a task of the DAG; its tasks: cells, summarise',
  ]);
  const extra = dag({
    id: "exp",
    experiment: { summaryTask: "summarise", colour: "red" } as never,
  }).task("summarise", { run: () => 1 });
  assert.match(validateDag(extra, "dags/exp.ts").join("\n"), /option experiment: .*colour/);
});
