import assert from "node:assert/strict";
import hpSearch from "../../dags/hp_search.ts";
import { halvingPlan, sampleTrials } from "../../models/search.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { writeTable } from "../../tasks/data/read_table.ts";
import { Random } from "../../models/core/random.ts";
import { storeTest } from "../runner/helpers.ts";

Deno.test("successive halving plan: fewer trials, more rounds per rung", () => {
  assert.deepEqual(halvingPlan(9, 3, 90), [{ trials: 9, rounds: 10 }, { trials: 3, rounds: 30 }, {
    trials: 1,
    rounds: 90,
  }]);
  assert.deepEqual(halvingPlan(8, 2, 80).map((r) => r.trials), [8, 4, 2, 1]);
  assert.deepEqual(halvingPlan(1, 3, 50), [{ trials: 1, rounds: 50 }]);
});

Deno.test("random trials are seeded and stay inside the space", () => {
  const space = {
    lr: { type: "float" as const, low: 0.01, high: 0.3, log: true },
    leaves: { type: "int" as const, low: 4, high: 64 },
    kind: { type: "choice" as const, values: ["a", "b"] },
  };
  const a = sampleTrials(space, 50, 3), b = sampleTrials(space, 50, 3);
  assert.deepEqual(a, b);
  for (const t of a) {
    assert.ok((t.params.lr as number) >= 0.01 && (t.params.lr as number) <= 0.3);
    assert.ok(Number.isInteger(t.params.leaves) && (t.params.leaves as number) >= 4);
    assert.ok(["a", "b"].includes(t.params.kind as string));
  }
  assert.throws(
    () => sampleTrials({ x: { type: "float", low: 0, high: 1, log: true } }, 1, 1),
    /log scale needs low > 0/,
  );
});

storeTest(
  "hp_search DAG: one mapped task per trial, halving rungs, the winner registered as challenger",
  async (store) => {
    const dir = await Deno.makeTempDir();
    const rng = new Random(5);
    const n = 1500, a = new Float64Array(n), b = new Float64Array(n), y: string[] = [];
    for (let i = 0; i < n; i++) {
      a[i] = rng.normal();
      b[i] = rng.normal();
      y.push(a[i] * b[i] + 0.3 * rng.normal() > 0 ? "yes" : "no");
    }
    await writeTable(`${dir}/train.csv`, { a, b, y });
    const artifacts = new LocalArtifactStore(`${dir}/artifacts`);
    const ex = new Executor({ store, artifacts });
    const run = await createDagRun(store, hpSearch, {
      conf: {},
      params: {
        data: `${dir}/train.csv`,
        target: "y",
        trials: 9,
        eta: 3,
        maxRounds: 30,
        register: "toy",
      },
    });
    const result = await ex.runToEnd(hpSearch, run.id);
    await ex.drain();
    assert.equal(result.state, "success");
    const count = (id: string) =>
      result.taskInstances.filter((t) => t.taskId === id && t.mapIndex >= 0).length;
    assert.deepEqual([count("rung0"), count("rung1"), count("rung2")], [9, 3, 1]);
    assert.equal(result.taskInstances.find((t) => t.taskId === "rung3")!.state, "skipped");
    const registry = await ModelRegistry.open(store.db);
    const v = await registry.resolve("toy@challenger");
    assert.equal(v.lineage!.runId, run.id);
    assert.equal(v.lineage!.taskId, "best");
    assert.equal(v.params.nEstimators, 30);
    const history = await registry.aliasHistory("toy");
    assert.match(history[0].reason, /hp_search run \d+: trial \d+ won with roc_auc/);
  },
);
