// training end to end: the holdout is the latest part of the window in time, it is stored as the
// monitoring reference, and the gate's verdict carries the data it was decided on.
import assert from "node:assert/strict";
import training from "../../dags/training.ts";
import { readReference } from "../../models/reference.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { readParquet } from "../../tasks/data/parquet.ts";
import { storeTest } from "../runner/helpers.ts";
import { runDag, writeFakeFlights } from "./helpers.ts";

storeTest(
  "training: the out-of-time holdout is the monitoring reference and the gate's test set",
  async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-training-" });
    // 8,000 rows a minute apart: 5.6 days from 2001-01-01
    const data = await writeFakeFlights(`${dir}/data`, 8000, 3000);
    const params = {
      data: data.reference,
      initialRows: 6000,
      trials: 2,
      rounds: 20,
      noiseFits: 2,
      alerts: { channels: [{ type: "log" }] },
    };
    const r = await runDag(store, training, params, { artifactsDir: `${dir}/a` });
    assert.equal(r.state, "success");
    const registry = await ModelRegistry.open(store.db);
    const v1 = await registry.resolve("flights_delay@champion");
    const ref = readReference(v1)!;
    assert.ok(ref, "params.reference is stored");
    assert.equal(ref.data, v1.params.holdoutData);
    assert.equal(ref.timeColumn, "date");
    assert.equal(ref.positiveLabel, "yes");
    // out of time: the holdout starts at a midnight and runs to the window's last row
    const artifacts = new LocalArtifactStore(`${dir}/a`);
    const holdout = (await readParquet(await artifacts.get(ref.data))).table;
    const trainRows = (await readParquet(await artifacts.get(String(v1.params.trainingData))))
      .table;
    assert.equal(trainRows.date, undefined, "the time column is not a training feature");
    assert.ok(ref.from!.endsWith("T00:00:00.000Z"), ref.from!);
    const dates = holdout.date as Float64Array;
    assert.equal(new Date(Math.min(...dates)).toISOString(), ref.from);
    assert.equal(ref.rows, dates.length);
    assert.ok(Math.abs(ref.rows - 0.2 * 6000) <= 0.5 * 0.2 * 6000, `${ref.rows} holdout rows`);
    assert.equal(ref.rows + v1.fingerprint.rows, 6000);
    // the reference figures, flat in metrics too
    const yes = (holdout.late as string[]).filter((v) => v === "yes").length / ref.rows;
    assert.equal(ref.positiveShare, yes);
    assert.equal(v1.metrics.positive_share, yes);
    const trainYes = (trainRows.late as string[]).filter((v) => v === "yes").length /
      v1.fingerprint.rows;
    assert.equal(ref.calibratedShare, trainYes, "the prior the model is calibrated to");
    assert.equal(v1.metrics.roc_auc, ref.rocAuc.value);
    assert.ok(ref.rocAuc.se > 0 && v1.metrics.roc_auc_se === ref.rocAuc.se);
    assert.ok(v1.metrics.retrain_sd_roc_auc >= 0, JSON.stringify(v1.metrics));
    // the gate's verdict names that same holdout
    const [rec] = await store.xcoms(r.run.id, ["gate"]);
    const value = rec.artifact
      ? JSON.parse(new TextDecoder().decode(await artifacts.get(rec.artifact)))
      : rec.value;
    const verdict = (value as {
      verdict: { data: { sha256: string; rows: number; from: string }; errorRate: number };
    }).verdict;
    assert.equal(verdict.data.sha256, ref.sha256);
    assert.equal(verdict.data.rows, ref.rows);
    assert.equal(verdict.data.from, ref.from);
    assert.equal(verdict.errorRate, 0.05);
  },
);
