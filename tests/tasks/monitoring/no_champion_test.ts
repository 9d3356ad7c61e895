// A home with no champion yet: the task functions that need one skip (the engine's SkipTask) and
// say what to run first, instead of failing; an unrelated model with a champion does not help.
import assert from "node:assert/strict";
import { isSkipTask } from "../../../runner/dag.ts";
import { writeParquet } from "../../../tasks/data/parquet.ts";
import {
  championOrSkip,
  collectFeedback,
  currentChampion,
  evaluateFeedback,
  type FeedbackParams,
  noChampionReason,
} from "../../../tasks/monitoring/mod.ts";
import { ModelRegistry } from "../../../models/registry/registry.ts";
import { fakeFlights } from "../../dags/helpers.ts";
import { openTestEnv, trainChampion } from "./task_env.ts";

/** The error `p` rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(() => null, (e: unknown) => e);
  assert.ok(e instanceof Error, `expected a rejection, got ${String(e)}`);
  return e;
}

Deno.test("noChampionReason names the model and the command that makes a champion", () => {
  assert.equal(
    noChampionReason("flights_delay"),
    "no champion for flights_delay yet: run `deno task run training` first",
  );
});

Deno.test("currentChampion on a fresh registry skips with the reason, and logs nothing as found", async () => {
  const t = await openTestEnv();
  try {
    const e = await rejection(currentChampion(t.env({ model: "flights_delay" })));
    assert.ok(isSkipTask(e), `${e.name}: ${e.message}`);
    assert.equal(e.message, noChampionReason("flights_delay"));
    assert.deepEqual(t.lines, []);
  } finally {
    await t.close();
  }
});

Deno.test("championOrSkip: a model with versions but no champion skips; another model's champion is its own", async () => {
  const t = await openTestEnv();
  try {
    const c = await trainChampion(t, 3000, 1000);
    const registry = await ModelRegistry.open(t.store.db);
    assert.equal((await championOrSkip(registry, "flights_delay")).version, c.version);
    // registered, never promoted: no champion alias
    await registry.register({
      name: "spam_filter",
      algo: "gbdt",
      task: "classification",
      params: {},
      metrics: {},
      columns: [],
      fingerprint: { rows: 1, sha256: "0".repeat(64) },
      artifacts: {},
    });
    for (const model of ["spam_filter", "nobody"]) {
      const e = await rejection(championOrSkip(registry, model));
      assert.ok(isSkipTask(e), `${model}: ${e.name}: ${e.message}`);
      assert.equal(e.message, noChampionReason(model));
    }
  } finally {
    await t.close();
  }
});

Deno.test("feedback_loop's evaluate skips when feedback arrived before any champion", async () => {
  const t = await openTestEnv();
  try {
    const feedback = `${t.dir}/feedback.parquet`;
    await writeParquet(feedback, fakeFlights(300, 5));
    const params: FeedbackParams = {
      feedback,
      model: "flights_delay",
      target: "late",
      positiveLabel: "yes",
      minAccuracy: 0.7,
      maxDrop: 0.05,
      minRows: 200,
      referenceRows: 1000,
      seed: 0,
      alpha: 0.05,
      batchDir: `${t.dir}/batches`,
      training: {},
      alerts: { channels: [{ type: "log" }] },
    };
    const ctx = t.env(params);
    const collected = await collectFeedback(ctx, undefined);
    assert.equal(collected.fresh, 300);
    const e = await rejection(evaluateFeedback(ctx, collected));
    assert.ok(isSkipTask(e), `${e.name}: ${e.message}`);
    assert.equal(e.message, noChampionReason("flights_delay"));
    // nothing was written as a training batch
    const wrote = await Deno.stat(`${t.dir}/batches`).then(() => true, () => false);
    assert.equal(wrote, false);
  } finally {
    await t.close();
  }
});
