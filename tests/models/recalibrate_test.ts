import assert from "node:assert/strict";
import { aucWithSe, brier, logLoss } from "../../models/metrics.ts";
import { predictModel, trainModel } from "../../models/model.ts";
import { shiftLogitsOnnx } from "../../models/onnx/calibrate.ts";
import { exportOnnx } from "../../models/export_onnx.ts";
import { decodeModel } from "../../models/onnx/proto.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import { fingerprintTable, loadModel, registerModel } from "../../models/package.ts";
import {
  estimatePriorEm,
  gateRecalibration,
  logit,
  priorShift,
  recalibrateChampion,
  recalibratedModel,
  shareSdBetweenBatches,
  sigmoid,
  splitByTime,
} from "../../models/recalibrate.ts";
import { measureReference, readReference, referenceMetrics } from "../../models/reference.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { parquetBytes, readParquet } from "../../tasks/data/parquet.ts";
import type { Table } from "../../models/core/table.ts";
import { detectDrift } from "../../tasks/drift/detect.ts";
import { Random } from "../../models/core/random.ts";
import { storeTest } from "../runner/helpers.ts";

/**
 * A pure label shift: y ~ Bernoulli(prior), then the features from class-conditional laws that do
 * not change (a ~ N(±0.8, 1), b ~ N(±0.5, 1), a category more often "x" for positives).
 */
function labelShifted(n: number, prior: number, seed: number, startDay = 0): Table {
  const rng = new Random(seed);
  const a = new Float64Array(n), b = new Float64Array(n), date = new Float64Array(n);
  const c: string[] = [], y: string[] = [];
  for (let i = 0; i < n; i++) {
    const pos = rng.next() < prior;
    const s = pos ? 1 : -1;
    a[i] = 0.8 * s + rng.normal();
    b[i] = 0.5 * s + rng.normal();
    c.push(rng.next() < (pos ? 0.6 : 0.4) ? "x" : "y");
    y.push(pos ? "yes" : "no");
    date[i] = Date.UTC(2001, 0, 1 + startDay) + i * 60_000;
  }
  return { a, b, c, y, date };
}

const features = (t: Table): Table => ({ a: t.a, b: t.b, c: t.c, y: t.y });

const PYTHON = Deno.env.get("DRIFTFLOW_PYTHON") ?? ".venv/bin/python";

Deno.test("the ONNX graph of a recalibrated model gives sigmoid(logit(p) + shift), as TypeScript does", async () => {
  const t = features(labelShifted(3000, 0.2, 1));
  for (const algo of ["gbdt", "logistic"] as const) {
    const { model } = trainModel(t, {
      target: "y",
      algo,
      validFraction: 0,
      params: algo === "gbdt" ? { nEstimators: 20 } : {},
    });
    const shift = priorShift(0.2, 0.5);
    assert.ok(Math.abs(shift - (Math.log(1) - Math.log(0.25))) < 1e-12);
    const parentOnnx = exportOnnx(model);
    const base = await runOnnx(parentOnnx, t, model.spec);
    const surgery = await runOnnx(shiftLogitsOnnx(parentOnnx, shift), t, model.spec);
    const recal = recalibratedModel(model, shift);
    const exported = await runOnnx(exportOnnx(recal), t, model.spec);
    const ts = predictModel(recal, t).probabilities!;
    const tsBase = predictModel(model, t).probabilities![1];
    let worst = 0;
    for (let i = 0; i < 3000; i++) {
      // the TypeScript computation on the parent's own ONNX output
      const want = sigmoid(logit(base.probabilities![2 * i + 1]) + shift);
      worst = Math.max(
        worst,
        Math.abs(surgery.probabilities![2 * i + 1] - want),
        Math.abs(exported.probabilities![2 * i + 1] - want),
        Math.abs(ts[1][i] - sigmoid(logit(tsBase[i]) + shift)),
        Math.abs(surgery.probabilities![2 * i] + surgery.probabilities![2 * i + 1] - 1),
      );
      assert.equal(Number(surgery.label![i]), surgery.probabilities![2 * i + 1] >= 0.5 ? 1 : 0);
    }
    assert.ok(worst < 1e-5, `${algo}: worst difference ${worst}`);
    // the parent's graph plus one Add (and its constant) before the Sigmoid; the shift recorded
    const decoded = decodeModel(shiftLogitsOnnx(parentOnnx, shift)) as {
      graph: { node: { op_type: string; input: string[]; output: string[] }[] };
      metadata_props: { key: string; value: string }[];
    };
    const parentNodes = (decodeModel(parentOnnx) as typeof decoded).graph.node;
    assert.equal(decoded.graph.node.length, parentNodes.length + 1);
    const at = decoded.graph.node.findIndex((n) => n.op_type === "Sigmoid");
    assert.equal(decoded.graph.node[at - 1].op_type, "Add");
    assert.deepEqual(decoded.graph.node[at].input, decoded.graph.node[at - 1].output);
    assert.equal(
      Number(decoded.metadata_props.find((m) => m.key === "logit_shift")!.value),
      shift,
    );
    // shifts compose: twice by s is once by 2s
    const twice = await runOnnx(
      shiftLogitsOnnx(shiftLogitsOnnx(parentOnnx, shift), shift),
      t,
      model.spec,
    );
    const once = await runOnnx(shiftLogitsOnnx(parentOnnx, 2 * shift), t, model.spec);
    for (let i = 0; i < 50; i++) {
      assert.ok(Math.abs(twice.probabilities![2 * i + 1] - once.probabilities![2 * i + 1]) < 1e-5);
    }
  }
  const regression = trainModel({ a: t.a, z: t.b }, { target: "z", validFraction: 0 }).model;
  assert.throws(() => shiftLogitsOnnx(exportOnnx(regression), 1), /exactly one Sigmoid/);
});

Deno.test("the recalibrated graph serves the same shifted probabilities in Python's onnxruntime", async () => {
  const t = features(labelShifted(400, 0.2, 5));
  const { model } = trainModel(t, { target: "y", validFraction: 0, params: { nEstimators: 20 } });
  const shift = priorShift(0.2, 0.45);
  const bytes = shiftLogitsOnnx(exportOnnx(model), shift);
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/model.onnx`, bytes);
  await Deno.writeTextFile(
    `${dir}/inputs.json`,
    JSON.stringify({
      a: { type: "float", values: Array.from(t.a as Float64Array) },
      b: { type: "float", values: Array.from(t.b as Float64Array) },
      c: { type: "string", values: t.c },
    }),
  );
  const out = await new Deno.Command(PYTHON, {
    args: ["tests/models/score_onnx.py", `${dir}/model.onnx`, `${dir}/inputs.json`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const py = JSON.parse(new TextDecoder().decode(out.stdout)) as { probabilities: number[][] };
  const base = predictModel(model, t).probabilities![1];
  let worst = 0;
  py.probabilities.forEach((row, i) => {
    worst = Math.max(worst, Math.abs(row[1] - sigmoid(logit(base[i]) + shift)));
  });
  assert.ok(worst < 1e-5, `Python onnxruntime vs sigmoid(logit(p) + shift): ${worst}`);
});

Deno.test("EM recovers a known prior from the scores of a calibrated model (Saerens et al. 2002)", () => {
  // the exact posterior under the training prior 0.2: log-odds = logit(0.2) + the likelihood ratio
  const posterior = (t: Table, prior: number) => {
    const a = t.a as Float64Array, b = t.b as Float64Array, c = t.c as string[];
    return Float64Array.from(a, (_, i) =>
      sigmoid(
        logit(prior) + 2 * 0.8 * a[i] + 2 * 0.5 * b[i] +
          (c[i] === "x" ? Math.log(0.6 / 0.4) : Math.log(0.4 / 0.6)),
      ));
  };
  for (const truePrior of [0.05, 0.2, 0.4, 0.7]) {
    const batch = labelShifted(20_000, truePrior, 11);
    const realized = (batch.y as string[]).filter((v) => v === "yes").length / 20_000;
    const est = estimatePriorEm(posterior(batch, 0.2), 0.2);
    assert.ok(est.converged, `${truePrior}: ${est.iterations} iterations`);
    assert.ok(
      Math.abs(est.prior - realized) < 0.015,
      `prior ${truePrior} (realized ${realized}): EM ${est.prior}`,
    );
    assert.ok(Math.abs(est.shift - (logit(est.prior) - logit(0.2))) < 1e-12);
  }
  // the naive estimate (the mean score) is biased toward the training prior; EM is not
  const batch = labelShifted(20_000, 0.6, 12);
  const p = posterior(batch, 0.2);
  const naive = p.reduce((s, v) => s + v, 0) / p.length;
  assert.ok(naive < 0.55, `mean score ${naive}`);
  const est = estimatePriorEm(p, 0.2);
  assert.ok(Math.abs(est.prior - 0.6) < 0.015);
  assert.ok(Math.abs(est.meanScore - naive) < 1e-12);
  assert.throws(() => estimatePriorEm(p, 1), /strictly between 0 and 1/);
});

storeTest(
  "recalibrateChampion: a new version with its lineage, better log loss and Brier on a prior-shifted batch, promoted by the gate",
  async (store) => {
    const registry = await ModelRegistry.open(store.db);
    const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
    const deps = { registry, artifacts };
    // the holdout's season has fewer positives (12 %) than the training rows (20 %)
    const train = labelShifted(6000, 0.2, 1), holdout = labelShifted(3000, 0.12, 2, 10);
    const { model } = trainModel(features(train), {
      target: "y",
      validFraction: 0,
      params: { nEstimators: 40 },
    });
    const holdoutKey = await artifacts.put(new TextEncoder().encode("holdout"));
    const trainShare = (train.y as string[]).filter((v) => v === "yes").length / 6000;
    const reference = await measureReference(model, holdout, {
      data: holdoutKey,
      timeColumn: "date",
      trainingShare: trainShare,
    });
    assert.ok(Math.abs(reference.positiveShare - 0.12) < 0.03);
    assert.equal(reference.calibratedShare, trainShare);
    model.params = { ...model.params, reference, holdoutData: holdoutKey };
    model.metrics = referenceMetrics(reference);
    const v1 = await registerModel(deps, model, {
      name: "m",
      fingerprint: await fingerprintTable(features(train)),
    });
    await registry.setAlias("m", "champion", v1.version, { reason: "first" });

    // EM from unlabelled scores of a batch at the training prior: π_ref is the calibrated share,
    // so it finds no shift though the holdout's share differs (not promoted: asked not to)
    const atTraining = labelShifted(4000, 0.2, 9, 15);
    const check = await recalibrateChampion({
      ...deps,
      model: "m",
      newPrior: "em",
      labelledBatch: atTraining,
      labelledBatchKey: await deps.artifacts.put(parquetBytes(atTraining)),
      reason: "EM check",
      promote: false,
      rounds: 100,
    });
    assert.equal(check.prior.reference, trainShare);
    assert.ok(Math.abs(check.prior.new - 0.2) < 0.03, `EM ${check.prior.new}`);
    assert.equal(check.promoted, false);
    assert.equal(check.version, 2);

    // the late share rose from 20 % to 50 %; nothing else changed
    const batch = labelShifted(4000, 0.5, 3, 20);
    const r = await recalibrateChampion({
      ...deps,
      model: "m",
      newPrior: "labels",
      labelledBatch: batch,
      labelledBatchKey: await deps.artifacts.put(parquetBytes(batch)),
      reason: "prior grade at batch 7",
      runId: 42,
      rounds: 200,
    });
    assert.equal(r.parentVersion, 1);
    assert.equal(r.version, 3);
    assert.equal(r.prior.method, "labels");
    assert.equal(r.prior.positiveLabel, "yes");
    assert.equal(r.prior.reference, trainShare, "π_ref: the share the model is calibrated to");
    assert.ok(Math.abs(r.prior.new - 0.5) < 0.03, `${r.prior.new}`);
    assert.ok(Math.abs(r.shift - priorShift(trainShare, r.prior.new)) < 1e-12);
    assert.ok(r.batch.after.logLoss < r.batch.before.logLoss - 0.02, JSON.stringify(r.batch));
    assert.ok(r.batch.after.brier < r.batch.before.brier - 0.005, JSON.stringify(r.batch));
    assert.equal(r.promoted, true, r.verdict.reason);
    assert.equal(r.verdict.metric, "log_loss");
    // out of sample: the prior from the earliest 2,000 rows, the gate on the latest 2,000
    assert.deepEqual(r.split, { fitRows: 2000, gateRows: 2000, gateOn: "held-out rows" });
    assert.equal(r.verdict.data.rows, 2000);
    assert.ok(r.verdict.improvement!.ciLow > 0);
    assert.equal((await registry.resolve("m@champion")).version, 3);
    assert.equal((await registry.resolve("m@previous_champion")).version, 1);

    // the version: lineage, reason, the reference's new prior, the same training fingerprint
    const v2 = await registry.resolve("m@3");
    const rec = v2.params.recalibration as Record<string, unknown>;
    assert.equal(rec.parentVersion, 1);
    assert.equal(rec.reason, "prior grade at batch 7");
    assert.equal(rec.priorNew, r.prior.new);
    assert.deepEqual(v2.lineage, { runId: 42, taskId: "recalibrate" });
    assert.equal(v2.fingerprint.sha256, (await registry.resolve("m@1")).fingerprint.sha256);
    const ref2 = readReference(v2)!;
    // the labelled batch is the new version's reference data, consistently
    assert.equal(v2.params.holdoutData, ref2.data, "holdoutData and reference.data agree");
    assert.notEqual(ref2.data, holdoutKey, "not the parent's holdout");
    const stored = (await readParquet(await artifacts.get(ref2.data))).table;
    assert.equal(ref2.rows, 4000);
    assert.equal(ref2.sha256, (await fingerprintTable(stored)).sha256);
    assert.equal(ref2.sha256, (await fingerprintTable(batch)).sha256);
    const batchShare = (batch.y as string[]).filter((v) => v === "yes").length / 4000;
    assert.equal(ref2.positiveShare, batchShare, "the batch's measured label share");
    assert.equal(ref2.calibratedShare, r.prior.new);
    assert.equal(ref2.recalibratedFrom, 1);
    const parentOnBatch = aucWithSe(
      (batch.y as string[]).map((v) => (v === "yes" ? 1 : 0)),
      predictModel(model, batch).probabilities![1],
    );
    assert.ok(Math.abs(ref2.rocAuc.value - parentOnBatch.value) < 1e-12, "AUC measured on it");
    assert.ok(Math.abs(ref2.rocAuc.se - parentOnBatch.se) < 1e-12, "its SE too");
    assert.equal(v2.metrics.positive_share, batchShare);
    assert.equal(v2.metrics.calibrated_share, r.prior.new);
    assert.equal(v2.metrics.roc_auc, ref2.rocAuc.value);
    // a later batch at the new prior is not a label shift against the new reference data
    const later = labelShifted(2000, 0.5, 7, 40);
    const labels = detectDrift(stored, later, { target: "y", only: ["a"], histograms: false })
      .labels!;
    assert.ok(labels.pValue > 0.01, `label-share p ${labels.pValue} against the new reference`);
    const old = detectDrift(holdout, later, { target: "y", only: ["a"], histograms: false })
      .labels!;
    assert.ok(old.pValue < 1e-10, "against the parent's holdout it would read as a prior shift");
    const history = await registry.aliasHistory("m");
    assert.match(
      history.find((h) => h.alias === "challenger" && h.toVersion === 3)!.reason,
      /recalibration of v1 to a yes share of 0\.\d+ .*prior grade at batch 7/,
    );

    // the served model is the shifted one: ONNX = TypeScript on the loaded model.json
    const loaded = await loadModel("m@champion", deps);
    const onnx = await runOnnx(loaded.onnx, batch, loaded.model.spec);
    const ts = predictModel(loaded.model, batch).probabilities![1];
    const parentTs = predictModel(model, batch).probabilities![1];
    const y = (batch.y as string[]).map((v) => (v === "yes" ? 1 : 0));
    for (let i = 0; i < 4000; i++) {
      assert.ok(Math.abs(onnx.probabilities![2 * i + 1] - ts[i]) < 1e-5, `row ${i}`);
    }
    assert.ok(logLoss(y, ts) < logLoss(y, parentTs) && brier(y, ts) < brier(y, parentTs));

    // a batch at the new prior without labels: EM on the recalibrated champion finds no shift
    const again = labelShifted(4000, 0.5, 4, 30);
    const em = await recalibrateChampion({
      ...deps,
      model: "m",
      newPrior: "em",
      labelledBatch: again,
      labelledBatchKey: await deps.artifacts.put(parquetBytes(again)),
      reason: "check",
      rounds: 200,
    });
    assert.equal(em.prior.method, "em");
    assert.ok(em.prior.em!.converged);
    assert.ok(Math.abs(em.prior.reference - r.prior.new) < 1e-12, "v3 is calibrated to π_new");
    assert.ok(Math.abs(em.prior.new - 0.5) < 0.04, `EM ${em.prior.new}`);
    assert.ok(Math.abs(em.shift) < 0.2, `shift ${em.shift}`);
    // a near-zero shift is not a proven improvement unless the gate's bound says so: the champion
    // is whichever version the gate's verdict names
    assert.equal(em.promoted, em.verdict.promoted, em.verdict.reason);
    assert.equal(
      (await registry.resolve("m@champion")).version,
      em.promoted ? em.version : 3,
      em.verdict.reason,
    );
    if (em.promoted) assert.ok(em.verdict.improvement!.ciLow > 0, "promoted only on a proven gain");
  },
);

/**
 * Scores of a model calibrated to `priorReference` on rows drawn at `prior`: x | y ~ N(±1, 1), so
 * the posterior at π_ref is sigmoid(logit(π_ref) + 2x) exactly.
 */
function calibratedBatch(n: number, prior: number, priorReference: number, rng: Random) {
  const y = new Float64Array(n), p = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < prior ? 1 : 0;
    const x = (y[i] ? 1 : -1) + rng.normal();
    p[i] = sigmoid(logit(priorReference) + 2 * x);
  }
  return { y, p };
}

Deno.test("the out-of-sample recalibration gate promotes a clean batch's noise at most at its rate (0.05) and a real prior shift nearly always", () => {
  const seeds = 200, n = 2000, piRef = 0.2, alpha = 0.05;
  const rng = new Random(11);
  let outOfSample = 0, inSample = 0, shifted = 0;
  for (let s = 0; s < seeds; s++) {
    // a clean batch: the label share is π_ref up to sampling noise
    const clean = calibratedBatch(n, piRef, piRef, rng);
    const { fit, gate } = splitByTime(n, null, 0.5);
    const pick = (a: Float64Array, idx: number[]) => Float64Array.from(idx, (i) => a[i]);
    const g = gateRecalibration(
      pick(clean.y, fit),
      pick(clean.y, gate),
      pick(clean.p, gate),
      piRef,
      { alpha, rounds: 200, seed: s },
    );
    if (g.decision.wouldPromote) outOfSample++;
    // the old, in-sample gate: fitted and tested on the same rows
    const same = gateRecalibration(clean.y, clean.y, clean.p, piRef, {
      alpha,
      rounds: 200,
      seed: s,
    });
    if (same.decision.wouldPromote) inSample++;
    // a real prior shift, 20 % → 35 %
    const moved = calibratedBatch(n, 0.35, piRef, rng);
    const m = gateRecalibration(
      pick(moved.y, fit),
      pick(moved.y, gate),
      pick(moved.p, gate),
      piRef,
      { alpha, rounds: 200, seed: s },
    );
    if (m.decision.wouldPromote) shifted++;
    assert.ok(Math.abs(m.prior - 0.35) < 0.06, `fitted prior ${m.prior}`);
  }
  // at most the stated rate, with three binomial SEs of slack for 200 seeds
  const bound = alpha + 3 * Math.sqrt(alpha * (1 - alpha) / seeds);
  assert.ok(outOfSample / seeds <= bound, `clean batches promoted ${outOfSample}/${seeds}`);
  assert.ok(shifted / seeds >= 0.95, `real shifts promoted ${shifted}/${seeds}`);
  // i.i.d. rows: the in-sample gate is about as strict (its bootstrap bound is wide); the week's
  // own noise is what it misses (next test)
  assert.ok(inSample / seeds <= 0.15, `in-sample ${inSample}/${seeds}`);
});

Deno.test("splitByTime holds out the latest rows by the time column, else by row order", () => {
  assert.deepEqual(splitByTime(4, null, 0.5), { fit: [0, 1], gate: [2, 3] });
  assert.deepEqual(splitByTime(4, [40, 10, 30, 20], 0.5), { fit: [1, 3], gate: [2, 0] });
  assert.throws(() => splitByTime(4, null, 1), /strictly between 0 and 1/);
  assert.throws(() => gateRecalibration([], [1], [0.5], 0.2), /no labelled rows/);
  assert.equal(shareSdBetweenBatches([0.2, 0.3, 0.25], 1000), null, "2 differences: no SD");
  // a steady trend has no batch-to-batch SD; alternating shares do
  assert.ok(shareSdBetweenBatches([0.2, 0.25, 0.3, 0.35], 1e9)! < 1e-9);
  const sd = shareSdBetweenBatches([0.2, 0.24, 0.2, 0.24, 0.2], 1e9)!;
  assert.ok(sd > 0.03 && sd < 0.05, `${sd}`);
  // the binomial part is taken off: shares that vary by sampling alone have none
  const rng = new Random(5);
  const sampled = Array.from({ length: 30 }, () => {
    let k = 0;
    for (let i = 0; i < 2000; i++) k += rng.next() < 0.2 ? 1 : 0;
    return k / 2000;
  });
  assert.ok(shareSdBetweenBatches(sampled, 2000)! < 0.005, "binomial noise only");
});

Deno.test("gated on the next batch, a week's noisy late share is refused at the gate's rate; gated on its own week it is promoted", () => {
  // the late share wobbles from week to week around π_ref (SD 0.03) and never really moves
  const seeds = 200, n = 2000, piRef = 0.2, alpha = 0.05;
  const rng = new Random(12);
  const week = () => calibratedBatch(n, piRef + 0.03 * rng.normal(), piRef, rng);
  let nextBatch = 0, ownWeek = 0, noSd = 0;
  for (let s = 0; s < seeds; s++) {
    const t = week(), next = week();
    const o = { alpha, rounds: 100, seed: s };
    const gated = gateRecalibration(t.y, next.y, next.p, piRef, { ...o, shareSd: 0.03 });
    if (gated.decision.wouldPromote) nextBatch++;
    // without the week-to-week SD the next batch is one draw: promoted when it wobbles the same way
    if (gateRecalibration(t.y, next.y, next.p, piRef, o).decision.wouldPromote) noSd++;
    if (gateRecalibration(t.y, t.y, t.p, piRef, o).decision.wouldPromote) ownWeek++;
  }
  const bound = alpha + 3 * Math.sqrt(alpha * (1 - alpha) / seeds);
  assert.ok(nextBatch / seeds <= bound, `next-batch gate promoted ${nextBatch}/${seeds}`);
  assert.ok(ownWeek / seeds >= 0.2, `own-week gate promoted ${ownWeek}/${seeds}`);
  assert.ok(noSd > nextBatch, `without the SD ${noSd}/${seeds}, with it ${nextBatch}/${seeds}`);
  // a real move persists into the next week: the next-batch gate accepts it
  let real = 0;
  for (let s = 0; s < 50; s++) {
    const t = calibratedBatch(n, 0.35 + 0.03 * rng.normal(), piRef, rng);
    const next = calibratedBatch(n, 0.35 + 0.03 * rng.normal(), piRef, rng);
    const g = gateRecalibration(t.y, next.y, next.p, piRef, {
      alpha,
      rounds: 100,
      seed: s,
      shareSd: 0.03,
    });
    if (g.decision.wouldPromote) real++;
  }
  // power with one week of 2,000 rows against a week-to-week SD of 0.03: ~0.8
  assert.ok(real / 50 >= 0.75, `real shifts promoted ${real}/50`);
});

storeTest(
  "recalibrateChampion with the champion's reference rows: the new version keeps them, at the new prior, with their AUC",
  async (store) => {
    const registry = await ModelRegistry.open(store.db);
    const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
    const deps = { registry, artifacts };
    const train = labelShifted(5000, 0.2, 11), holdout = labelShifted(3000, 0.2, 12, 10);
    const { model } = trainModel(features(train), {
      target: "y",
      validFraction: 0,
      params: { nEstimators: 30 },
    });
    const holdoutKey = await artifacts.put(parquetBytes(holdout));
    const reference = await measureReference(model, holdout, {
      data: holdoutKey,
      timeColumn: "date",
    });
    model.params = { ...model.params, reference, holdoutData: holdoutKey };
    const v1 = await registerModel(deps, model, {
      name: "k",
      fingerprint: await fingerprintTable(features(train)),
    });
    await registry.setAlias("k", "champion", v1.version, { reason: "first" });
    // one small batch at a 50 % late share: a noisy AUC of its own
    const batch = labelShifted(600, 0.5, 13, 20);
    const r = await recalibrateChampion({
      ...deps,
      model: "k",
      newPrior: "labels",
      labelledBatch: batch,
      labelledBatchKey: await artifacts.put(parquetBytes(batch)),
      referenceTable: holdout,
      reason: "prior grade",
      rounds: 100,
      promote: false,
    });
    const ref = readReference(await registry.resolve(`k@${r.version}`))!;
    const v = await registry.resolve(`k@${r.version}`);
    assert.equal(ref.data, holdoutKey, "the parent's reference rows");
    assert.equal(v.params.holdoutData, holdoutKey);
    assert.deepEqual([ref.rows, ref.sha256, ref.from], [
      reference.rows,
      reference.sha256,
      reference.from,
    ]);
    assert.ok(Math.abs(ref.rocAuc.value - reference.rocAuc.value) < 1e-12, "a shift keeps the AUC");
    assert.ok(Math.abs(ref.rocAuc.se - reference.rocAuc.se) < 1e-12);
    assert.equal(ref.positiveShare, r.prior.new, "monitored at the new prior");
    assert.equal(ref.calibratedShare, r.prior.new);
    assert.equal(ref.recalibratedFrom, v1.version);
    const onBatch = aucWithSe(
      (batch.y as string[]).map((y) => (y === "yes" ? 1 : 0)),
      predictModel(model, batch).probabilities![1],
    );
    assert.notEqual(ref.rocAuc.value, onBatch.value, "not the batch's AUC");
    // rows that are not the reference's are refused, saying which table to pass
    await assert.rejects(
      () =>
        recalibrateChampion({
          ...deps,
          model: "k",
          newPrior: "labels",
          labelledBatch: batch,
          labelledBatchKey: holdoutKey,
          referenceTable: batch,
          reason: "wrong table",
          rounds: 50,
          promote: false,
        }),
      /referenceTable has 600 rows; k v1's reference has 3000: pass the table stored at sha256:/,
    );
  },
);
