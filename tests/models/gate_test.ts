import assert from "node:assert/strict";
import { compareChallenger, gateDecision } from "../../models/gate.ts";
import { rocAuc, tiedOrder, weightedAuc } from "../../models/metrics.ts";
import { predictModel, trainModel } from "../../models/model.ts";
import { refitMetrics, sampleSd } from "../../models/retrain_noise.ts";
import { fingerprintTable, loadModel, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import type { Table } from "../../models/core/table.ts";
import { binomialSf } from "../../tasks/drift/special.ts";
import { Random } from "../../models/core/random.ts";
import { storeTest } from "../runner/helpers.ts";

function data(n: number, seed: number, noise = 0.5): Table {
  const rng = new Random(seed);
  const a = new Float64Array(n), b = new Float64Array(n), y = new Float64Array(n);
  const date = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = rng.normal();
    b[i] = rng.normal();
    y[i] = a[i] + b[i] + noise * rng.normal() > 0 ? 1 : 0;
    date[i] = Date.UTC(2001, 0, 1) + i * 3_600_000;
  }
  return { a, b, y, date };
}

/** Training rows: no time column (it is not a feature). */
function trainSet(n: number, seed: number, noise = 0.5): Table {
  const { a, b, y } = data(n, seed, noise);
  return { a, b, y };
}

storeTest(
  "gate: a better challenger is promoted, a worse one is not, and history says why",
  async (store) => {
    const registry = await ModelRegistry.open(store.db);
    const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
    const deps = { registry, artifacts };
    const train = trainSet(3000, 1), holdout = data(2000, 2);
    // a weak model that sees only `a`, then a strong one that sees both
    const weak =
      trainModel({ a: train.a, y: train.y }, { target: "y", seed: 1, params: { nEstimators: 30 } })
        .model;
    const strong = trainModel(train, { target: "y", seed: 1, params: { nEstimators: 60 } }).model;
    const v1 = await registerModel(deps, weak, {
      name: "m",
      fingerprint: await fingerprintTable(train),
    });
    await registry.setAlias("m", "challenger", v1.version, { reason: "first" });
    const first = await compareChallenger("m", holdout, "roc_auc", {
      ...deps,
      promote: true,
      rounds: 100,
    });
    assert.equal(first.promoted, true);
    assert.match(first.reason, /no champion yet/);

    const v2 = await registerModel(deps, strong, {
      name: "m",
      fingerprint: await fingerprintTable(train),
      lineage: { runId: 4, taskId: "train" },
    });
    await registry.setAlias("m", "challenger", v2.version, { reason: "retrained" });
    const better = await compareChallenger("m", holdout, "roc_auc", {
      ...deps,
      promote: true,
      rounds: 200,
      runId: 4,
    });
    assert.equal(better.promoted, true, better.reason);
    assert.ok(
      better.improvement!.value > 0.05 && better.improvement!.ciLow > 0,
      JSON.stringify(better.improvement),
    );
    assert.equal((await registry.resolve("m@champion")).version, 2);
    assert.equal((await registry.resolve("m@previous_champion")).version, 1);
    // the verdict says what it was decided on
    assert.equal(better.data.rows, 2000);
    assert.equal(better.data.from, "2001-01-01T00:00:00.000Z");
    assert.equal(better.data.to, new Date(Date.UTC(2001, 0, 1) + 1999 * 3_600_000).toISOString());
    assert.match(better.data.sha256, /^[0-9a-f]{64}$/);
    assert.equal(better.errorRate, 0.05);
    assert.equal(better.method, "paired bootstrap");
    assert.ok(better.champion!.value < better.challenger.value);
    assert.ok(better.improvement!.bootstrap.se > 0 && better.improvement!.retrainSd === 0);
    assert.match(better.reason, /on 2000 rows from 2001-01-01T00:00:00.000Z to .* \(sha256 /);
    assert.match(better.reason, /promoted at most 5% of the time/);

    await registry.setAlias("m", "challenger", v1.version, { reason: "try the weak one again" });
    const worse = await compareChallenger("m", holdout, "roc_auc", {
      ...deps,
      promote: true,
      rounds: 200,
    });
    assert.equal(worse.promoted, false);
    assert.match(worse.reason, /does not beat champion v2/);
    assert.equal((await registry.resolve("m@champion")).version, 2);

    const same = await compareChallenger("m", holdout, "log_loss", {
      ...deps,
      margin: 0.5,
      rounds: 50,
    });
    assert.equal(same.wouldPromote, false, "a margin nobody can meet");

    const history = await registry.aliasHistory("m");
    const promotion = history.find((h) => h.alias === "champion" && h.toVersion === 2)!;
    assert.equal(promotion.runId, 4);
    assert.match(promotion.reason, /beats champion v1 on roc_auc/);
    const loaded = await loadModel("m@champion", deps);
    assert.equal(loaded.model.algo, "gbdt");
    assert.equal(loaded.version!.lineage!.taskId, "train");
  },
);

Deno.test("gate: a challenger that is the champion retrained on another seed is promoted at most at the stated rate", () => {
  // the same configuration and data, different seeds (bagging and the subsample of refits): any
  // difference is noise, so the gate may promote at most alpha = 5 % of them. 200 seeds on a cheap
  // setup; the count must stay at or below the binomial bound k* with P(Bin(200, 0.05) > k*) < 1 %
  // (k* = 18): a true rate of 0.15 would pass that bound with probability < 1 %.
  const train = trainSet(600, 1, 1.5);
  const options = { target: "y", validFraction: 0, params: { nEstimators: 10, rowSubsample: 0.7 } };
  const seeds = 200, alpha = 0.05;
  let bound = 0;
  while (binomialSf(bound + 1, seeds, alpha) >= 0.01) bound++;
  assert.equal(bound, 18);
  assert.ok(binomialSf(bound + 1, seeds, 0.15) > 0.99, "the bound tells 0.05 from 0.15");
  let promoted = 0, promotedWithoutRetrainNoise = 0;
  for (let s = 0; s < seeds; s++) {
    const fit = (seed: number) => trainModel(train, { ...options, seed }).model;
    const champion = fit(2 * s + 10), challenger = fit(2 * s + 11);
    const test = data(600, 100 + s, 1.5);
    const score = (m: typeof champion) => predictModel(m, test).probabilities![1];
    // what `training` measures for each version (its default noiseFits = 3): the metric's SD over
    // refits on subsamples
    const sd = (seed: number) =>
      sampleSd(refitMetrics(train, test, options, { fits: 3, seed }).roc_auc);
    const retrainSd = Math.hypot(sd(2 * s + 10), sd(2 * s + 11));
    const y = test.y as Float64Array;
    const opts = { metric: "roc_auc" as const, margin: 0, alpha, rounds: 200, seed: s };
    const d = gateDecision(y, score(champion), score(challenger), { ...opts, retrainSd });
    assert.equal(d.errorRate, alpha);
    if (d.wouldPromote) promoted++;
    if (gateDecision(y, score(champion), score(challenger), opts).wouldPromote) {
      promotedWithoutRetrainNoise++;
    }
  }
  console.error(JSON.stringify({ metric: "gate.null_promotions", value: promoted / seeds }));
  assert.ok(
    promoted <= bound,
    `${promoted} of ${seeds} seed-only retrains promoted (bound ${bound})`,
  );
  // the test has teeth: the test rows' noise alone lets more of them through
  assert.ok(
    promotedWithoutRetrainNoise > promoted,
    `without the retraining term: ${promotedWithoutRetrainNoise} of ${seeds}`,
  );
});

Deno.test("gate: a really better challenger is still promoted with the retraining term", () => {
  const train = trainSet(2500, 1, 1.5);
  const test = data(2000, 7, 1.5);
  const options = { target: "y", validFraction: 0, params: { nEstimators: 30 } };
  const weak = trainModel({ a: train.a, y: train.y }, options).model;
  const strong = trainModel(train, options).model;
  const retrainSd = Math.hypot(
    sampleSd(refitMetrics({ a: train.a, y: train.y }, test, options, { fits: 3 }).roc_auc),
    sampleSd(refitMetrics(train, test, options, { fits: 3 }).roc_auc),
  );
  const d = gateDecision(
    test.y as Float64Array,
    predictModel(weak, test).probabilities![1],
    predictModel(strong, test).probabilities![1],
    { metric: "roc_auc", margin: 0.002, retrainSd, rounds: 200 },
  );
  assert.ok(d.wouldPromote, JSON.stringify(d.improvement));
  assert.ok(d.improvement!.ciLow > 0 && d.improvement!.retrainSd === retrainSd);
});

Deno.test("gate: the bootstrap's weighted AUC equals rocAuc on the materialized resample, ties included", () => {
  const rng = new Random(5);
  const n = 500;
  const y = Float64Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
  const s = Float64Array.from(y, (v) => Math.round((v + rng.normal()) * 3) / 3); // many ties
  const sorted = tiedOrder(s);
  for (let r = 0; r < 30; r++) {
    const counts = new Float64Array(n), ys: number[] = [], ss: number[] = [];
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      counts[k]++;
      ys.push(y[k]);
      ss.push(s[k]);
    }
    assert.ok(Math.abs(weightedAuc(sorted, y, counts) - rocAuc(ys, ss)) < 1e-12, `round ${r}`);
  }
  assert.ok(Math.abs(weightedAuc(sorted, y, new Float64Array(n).fill(1)) - rocAuc(y, s)) < 1e-12);
  assert.ok(Number.isNaN(weightedAuc(sorted, new Float64Array(n), new Float64Array(n).fill(1))));
});
