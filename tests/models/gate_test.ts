import assert from "node:assert/strict";
import { compareChallenger } from "../../models/gate.ts";
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, loadModel, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import type { Table } from "../../tasks/data/table.ts";
import { Random } from "../../tasks/random.ts";
import { storeTest } from "../runner/helpers.ts";

function data(n: number, seed: number): Table {
  const rng = new Random(seed);
  const a = new Float64Array(n), b = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = rng.normal();
    b[i] = rng.normal();
    y[i] = a[i] + b[i] + 0.5 * rng.normal() > 0 ? 1 : 0;
  }
  return { a, b, y };
}

storeTest(
  "gate: a better challenger is promoted, a worse one is not, and history says why",
  async (store) => {
    const registry = await ModelRegistry.open(store.db);
    const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
    const deps = { registry, artifacts };
    const train = data(3000, 1), holdout = data(2000, 2);
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
