// training's task functions, called as the DAG calls them: the out-of-time window, the trials, the
// retraining noise, the registered challenger, the gate and its alert.
import assert from "node:assert/strict";
import { rowCount } from "../../../models/core/table.ts";
import { ModelRegistry } from "../../../models/registry/registry.ts";
import { Alerter } from "../../../tasks/alert/alerter.ts";
import {
  bestTrial,
  getTable,
  loadTrainingWindow,
  measureRetrainNoise,
  notifyTraining,
  planTrials,
  runTrial,
  trainingAlert,
  windowBatches,
} from "../../../tasks/monitoring/mod.ts";
import { writeParquet } from "../../../tasks/data/parquet.ts";
import { fakeFlights } from "../../dags/helpers.ts";
import { openTestEnv, trainChampion, trainingParams } from "./task_env.ts";

Deno.test("windowBatches: a sliding window keeps the latest batches, a cumulative one all", () => {
  const batches = ["a", "b", "c"];
  assert.deepEqual(windowBatches({ window: "sliding", windowBatches: 2, batches }), ["b", "c"]);
  assert.deepEqual(windowBatches({ window: "cumulative", windowBatches: 2, batches }), batches);
});

Deno.test("planTrials and bestTrial: GBDT trials then a logistic one; the best by the metric's direction", () => {
  const plan = planTrials({ trials: 4, rounds: 30, seed: 1 });
  assert.deepEqual(plan.map((t) => t.algo), ["gbdt", "gbdt", "gbdt", "logistic"]);
  assert.deepEqual(plan.map((t) => t.trial), [0, 1, 2, 3]);
  assert.ok(plan.slice(0, 3).every((t) => t.params.nEstimators === 30));
  assert.equal(planTrials({ trials: 1, rounds: 30, seed: 1 }).length, 2, "at least one GBDT");
  const outcomes = [{ value: 0.3, id: "a" }, { value: 0.1, id: "b" }, { value: 0.2, id: "c" }];
  assert.equal(bestTrial(outcomes, "roc_auc").id, "a");
  assert.equal(bestTrial(outcomes, "log_loss").id, "b");
});

Deno.test("trainingAlert: INFO when promoted, WARNING when kept, with the gate's figures", () => {
  const g = {
    promoted: false,
    reason: "does not beat v1",
    champion: 1,
    verdict: { data: "holdout 2001", errorRate: "5%" },
  };
  const a = trainingAlert({ dagId: "training", runId: 4, model: "m" }, g, {
    version: 2,
    holdout: { roc_auc: 0.8 },
  });
  assert.equal(a.level, "WARNING");
  assert.equal(a.title, "m v2 not promoted");
  assert.equal(a.message, "does not beat v1");
  assert.deepEqual(a.details, {
    version: 2,
    holdout: { roc_auc: 0.8 },
    champion: 1,
    gate: { data: "holdout 2001", errorRate: "5%" },
  });
});

Deno.test("training's functions: window held out by time, trials, a registered champion, noise, alert", async () => {
  const t = await openTestEnv();
  try {
    const c = await trainChampion(t);
    // the window: 3000 sampled rows, the latest part in time held out, both stored
    assert.equal(c.load.rows, 3000);
    const train = await getTable(t.env({}), c.load.train);
    const holdout = await getTable(t.env({}), c.load.holdout);
    assert.equal(rowCount(train) + rowCount(holdout), 3000);
    // at least the 20 %, cut at a day's boundary (no day on both sides)
    assert.ok(rowCount(holdout) >= 600 && rowCount(holdout) < 1500, `${rowCount(holdout)}`);
    assert.ok(!("date" in train), "the time column is not a feature");
    assert.ok(c.load.holdoutFrom !== null && c.load.holdoutTo !== null);
    assert.ok(c.load.holdoutFrom <= c.load.holdoutTo);
    assert.match(
      t.lines.join("\n"),
      /training rows \d+, out-of-time holdout \d+ from .* \(0 batches, cumulative\)/,
    );
    // the first version becomes champion through the gate, with its reference recorded
    assert.equal(c.fitted.version, 1);
    assert.equal(c.gate.promoted, true);
    assert.equal(c.version, 1);
    const v = await (await ModelRegistry.open(t.store.db)).resolve("flights_delay@champion");
    assert.equal((v.params.reference as { data: string }).data, c.load.holdout);
    assert.ok(c.fitted.reference.rocAuc.value > 0.6, `${c.fitted.reference.rocAuc.value}`);

    // a trial on the training rows reports its validation value
    const ctx = t.env(trainingParams(c.reference, { noiseFits: 2 }));
    const logistic = await runTrial(ctx, c.load.train, {
      trial: 0,
      algo: "logistic",
      params: { C: 1 },
    });
    assert.ok(logistic.value > 0.5 && logistic.value <= 1, `${logistic.value}`);
    // two refits on subsamples: the metric's spread is measured
    const noise = await measureRetrainNoise(ctx, logistic, c.load);
    assert.equal(noise.fits, 2);
    assert.equal(noise.values.roc_auc.length, 2);
    assert.ok(Number.isFinite(noise.sd.retrain_sd_roc_auc));

    // a sliding window of a big enough batch is the batch alone
    const batch = `${t.dir}/batch.parquet`;
    await writeParquet(batch, fakeFlights(2000, 9, Date.UTC(2001, 5, 1)));
    const sliding = await loadTrainingWindow(
      t.env(trainingParams(c.reference, { batches: [batch], window: "sliding" })),
    );
    assert.equal(sliding.rows, 2000);
    assert.deepEqual(sliding.batches, [batch]);

    // the alert goes through the configured channels and returns the gate's result
    const g = await notifyTraining(ctx, c.gate, c.fitted);
    assert.equal(g, c.gate);
    const [sent] = await (await Alerter.open(t.store.db)).recent(1);
    assert.equal(sent.title, "flights_delay v1 promoted to champion");
    assert.equal(sent.level, "INFO");
  } finally {
    await t.close();
  }
});
