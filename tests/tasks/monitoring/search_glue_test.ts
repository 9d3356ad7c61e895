// hp_search's task functions: the rungs, a rung's trials, the survivors, the winner registered.
import assert from "node:assert/strict";
import { GBDT_SPACE, halvingPlan, ModelRegistry } from "../../../models/mod.ts";
import { writeParquet } from "../../../tasks/data/parquet.ts";
import {
  MAX_RUNGS,
  planSearch,
  registerSearchWinner,
  rungSurvivors,
  runSearchTrial,
  type SearchParams,
  searchRungs,
  searchTable,
} from "../../../tasks/monitoring/mod.ts";
import { fakeFlights } from "../../dags/helpers.ts";
import { openTestEnv } from "./task_env.ts";

Deno.test("searchRungs and rungSurvivors: random is one rung; halving keeps its last rungs and the best", () => {
  assert.deepEqual(searchRungs({ method: "random", trials: 5, eta: 3, maxRounds: 50 }), [
    { trials: 5, rounds: 50 },
  ]);
  const p = { method: "halving" as const, trials: 243, eta: 3, maxRounds: 243 };
  assert.deepEqual(searchRungs(p), halvingPlan(243, 3, 243).slice(-MAX_RUNGS));
  assert.equal(searchRungs(p).length, MAX_RUNGS);
  const results = [0.5, 0.9, 0.7, 0.6].map((value, trial) => ({
    trial,
    params: {},
    rounds: 9,
    metric: "roc_auc" as const,
    value,
  }));
  const q = { method: "halving" as const, trials: 9, eta: 3, maxRounds: 27 };
  assert.deepEqual(
    rungSurvivors(q, results, 1).map((r) => r.trial),
    [1, 2, 3].slice(0, searchRungs(q)[1].trials),
  );
  assert.deepEqual(rungSurvivors(q, results, searchRungs(q).length), []);
});

Deno.test("hp_search's functions: trials drawn and scored, the winner registered as challenger", async () => {
  const t = await openTestEnv();
  try {
    const data = `${t.dir}/flights.parquet`;
    await writeParquet(data, fakeFlights(1500, 4));
    const params: SearchParams = {
      data,
      target: "late",
      method: "halving",
      trials: 3,
      eta: 3,
      maxRounds: 9,
      metric: "roc_auc",
      seed: 0,
      space: GBDT_SPACE,
    };
    const ctx = t.env(params, 3);
    assert.equal(searchTable(data), searchTable(data), "one parse per process");
    const plan = planSearch(ctx);
    assert.equal(plan.length, searchRungs(params)[0].trials);
    assert.match(t.lines.at(-1)!, /^rungs: 3 trials × 3 rounds, 1 trials × 9 rounds$/);
    const rung0 = [];
    for (const trial of plan) rung0.push(await runSearchTrial(ctx, 0, trial));
    assert.ok(rung0.every((r) => r.rounds === 3 && r.value > 0.5 && r.value <= 1));
    assert.match(t.lines.at(-1)!, /^trial 2 with 3 rounds: roc_auc 0\.\d{4} \{/);
    const [survivor] = rungSurvivors(params, rung0, 1);
    const rung1 = [await runSearchTrial(ctx, 1, survivor)];
    assert.equal(rung1[0].rounds, 9);
    assert.equal(rung1[0].trial, survivor.trial);

    const plain = await registerSearchWinner(ctx, rung1);
    assert.deepEqual(plain, { winner: rung1[0] });
    const registered = await registerSearchWinner(t.env({ ...params, register: "hp" }, 3), rung1);
    assert.deepEqual(registered.registered, { name: "hp", version: 1 });
    const registry = await ModelRegistry.open(t.store.db);
    assert.equal((await registry.resolve("hp@challenger")).version, 1);
  } finally {
    await t.close();
  }
});
