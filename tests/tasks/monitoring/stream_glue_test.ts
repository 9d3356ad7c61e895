// drift_monitoring's task functions, called as the DAG calls them on fake flights: the stream's
// state and batch files, the champion and its scorer, a batch's drift (and labels landing later),
// its grade, the alert, the retraining outcome and the recalibration.
import assert from "node:assert/strict";
import { ModelRegistry } from "../../../models/registry/registry.ts";
import { Alerter } from "../../../tasks/alert/alerter.ts";
import { DriftReport } from "../../../tasks/drift/schema.ts";
import {
  batchPath,
  championScorer,
  columnSummaries,
  currentChampion,
  detectBatchDrift,
  driftAlert,
  evaluateBatchSeverity,
  getTable,
  JudgePolicy,
  labelledBatches,
  labelledPathOf,
  landedLabelsBatch,
  nextStreamState,
  recalibrateOnBatch,
  recordRetrainOutcome,
  savedStreamState,
  sendDriftAlert,
  type StreamMonitorParams,
  strongerOutcome,
  writeStreamBatch,
} from "../../../tasks/monitoring/mod.ts";
import { MonitoringTable } from "../../../tasks/monitoring/metrics_table.ts";
import { verdictsOf } from "../../../tasks/monitoring/late_labels.ts";
import { openTestEnv, trainChampion } from "./task_env.ts";

/** drift_monitoring's params for the test stream (`stream`), batch files under `dir`. */
function streamParams(stream: string, dir: string, streamName: string): StreamMonitorParams {
  return {
    stream,
    streamName,
    batchSize: 1000,
    batchDir: `${dir}/batches`,
    features: ["day_of_week", "hour", "distance", "origin", "destination"],
    target: "late",
    positiveLabel: "yes",
    model: "flights_delay",
    referenceRows: 2000,
    columns: {},
    events: [],
    restart: false,
    seed: 0,
    policy: JudgePolicy.parse({ bootstrapRounds: 20 }),
    actions: {},
    alerts: { channels: [{ type: "log" }] },
    labelsDelay: 0,
    sequential: { arl0: 200, detector: "cusum" },
    training: {},
  };
}

Deno.test("stream state: batch 0 first, one past the previous run's next, batches saved in order", () => {
  const lines: string[] = [];
  const log = { log: (...a: unknown[]) => lines.push(a.join(" ")) };
  const first = nextStreamState(undefined, log);
  assert.deepEqual(first, { index: 0, batches: [] });
  const next = nextStreamState({ index: 4, batches: ["a"] }, log);
  assert.deepEqual(next, { index: 5, batches: ["a"] });
  assert.deepEqual(lines, ["batch 0", "batch 5"]);
  assert.deepEqual(savedStreamState(next, { done: false, path: "b" }).batches, ["a", "b"]);
  assert.deepEqual(savedStreamState(next, { done: true }), next);
  assert.equal(batchPath({ batchDir: "d", streamName: "s" }, 12), "d/s-batch-0012.parquet");
  assert.deepEqual(labelledBatches(["a", "b", "c"], 0), ["a", "b", "c"]);
  assert.deepEqual(labelledBatches(["a", "b", "c"], 2), ["a"]);
  assert.deepEqual(labelledBatches(["a"], 3), []);
});

Deno.test("strongerOutcome: the labelled verdict leads when its action is stronger", () => {
  const batch = {
    severity: "moderate",
    reasons: ["b"],
    errorRate: "5%",
    action: "warn" as const,
    actedOn: { batch: 3, row: 30, path: null },
  };
  const weak = { ...batch, severity: "minor", reasons: ["l"], action: "log" as const };
  assert.deepEqual(strongerOutcome(batch, weak), { ...batch, reasons: ["b", "l"] });
  const strong = {
    severity: "prior",
    reasons: ["l"],
    errorRate: "1%",
    action: "recalibrate" as const,
    actedOn: { batch: 1, row: 10, path: "b1" },
  };
  const o = strongerOutcome(batch, strong);
  assert.equal(o.action, "recalibrate");
  assert.deepEqual(o.reasons, ["l", "b"]);
  assert.equal(o.errorRate, "1%");
  assert.deepEqual(o.actedOn, strong.actedOn);
});

Deno.test("driftAlert, columnSummaries, labelledPathOf: the alert, the row's columns, labels needed", () => {
  const a = driftAlert({ dagId: "d", runId: 2, streamName: "s" }, "WARNING", "", {
    severity: "moderate",
    reasons: ["x", "y"],
    batch: 4,
    html: "sha256:h",
  });
  assert.deepEqual(a, {
    level: "WARNING",
    key: "drift:s",
    title: "s: moderate drift",
    message: "x\ny",
    dagId: "d",
    runId: 2,
    details: { batch: 4, html: "sha256:h" },
  });
  const cols = columnSummaries([
    { column: "a", test: "ks", statistic: 0.1, pValue: 0.2, adjustedPValue: null, drifted: false },
    {
      column: "b",
      test: "chisquare",
      statistic: 9,
      pValue: 0.001,
      adjustedPValue: 0.003,
      drifted: true,
    },
  ]);
  assert.deepEqual(cols.a, { test: "ks", statistic: 0.1, pValue: 0.2, drifted: false });
  assert.equal(cols.b.pValue, 0.003);
  assert.equal(labelledPathOf({ batch: 1, path: "p" }, 0), "p");
  assert.throws(
    () => labelledPathOf({ batch: 1, path: null }, 2),
    /batch 1 has no labels yet \(labelsDelay 2\)/,
  );
});

Deno.test("drift_monitoring's functions: a batch judged, graded, alerted, retrained, recalibrated; labels landing later", async () => {
  const t = await openTestEnv();
  try {
    const c = await trainChampion(t);
    const params = streamParams(c.stream, t.dir, "flights");
    const ctx = t.env(params, 7);

    // the batch file, and the stream's end
    const batch = await writeStreamBatch(ctx, 0);
    assert.equal(batch.done, false);
    if (batch.done) return;
    assert.equal(batch.rows, 1000);
    assert.equal(batch.path, `${t.dir}/batches/flights-batch-0000.parquet`);
    assert.ok((await Deno.stat(batch.path)).isFile);
    assert.match(t.lines.at(-1)!, /rows 0\.\.1000 → .*; injected: nothing/);
    assert.deepEqual(await writeStreamBatch(ctx, 6), { done: true, index: 6, rows: 0 });

    // the champion, its reference and its scorer
    const champion = await currentChampion(ctx);
    assert.deepEqual(champion, {
      version: 1,
      reference: c.load.holdout,
      kind: "holdout",
      positiveShare: champion.positiveShare,
    });
    assert.match(t.lines.at(-1)!, /^champion v1; reference: its holdout data sha256:/);
    const score = await championScorer(ctx, {
      model: "flights_delay",
      version: 1,
      positiveLabel: "yes",
      column: "p",
    });
    const scored = (await score(await getTable(ctx, batch.path))).p as Float64Array;
    assert.equal(scored.length, 1000);
    assert.ok(scored.every((v) => v >= 0 && v <= 1));

    // the batch judged and recorded
    const d = await detectBatchDrift(ctx, batch, champion);
    assert.equal(d.late, null);
    const report = DriftReport.parse(
      JSON.parse(new TextDecoder().decode(await ctx.getArtifact(d.report))),
    );
    assert.ok(report.columns.some((col) => col.column === "distance"));
    assert.match(new TextDecoder().decode(await ctx.getArtifact(d.html)), /flights batch 0/);
    const table = await MonitoringTable.open(t.store.db);
    const [row] = await table.list("flights");
    assert.equal(row.id, d.row);
    assert.equal(row.batch, 0);
    assert.equal(row.runId, 7);
    assert.equal(row.championVersion, 1);
    assert.equal(row.details.path, batch.path);
    assert.ok(row.metrics.roc_auc.realized! > 0.5, "labels with the batch: realized ROC AUC");
    assert.equal(d.rocAuc, row.metrics.roc_auc.realized);
    assert.match(t.lines.at(-1)!, /^significant: .*; ROC AUC estimated /);

    // graded, the verdict on its row
    const s = await evaluateBatchSeverity(ctx, 0, batch, 1, d);
    assert.deepEqual(s.actedOn, { batch: 0, row: d.row, path: batch.path });
    const graded = (await table.list("flights"))[0];
    assert.equal(graded.severity, s.severity);
    assert.equal(graded.action, s.action);
    assert.deepEqual(verdictsOf(graded).map((v) => v.kind), ["batch"]);
    assert.match(t.lines.at(-1)!, new RegExp(`^${s.severity} → ${s.action} `));

    // the alert, the retraining's outcome (the champion kept), the recalibration
    await sendDriftAlert(ctx, "CRITICAL", " — retraining", { ...s, batch: 0, html: d.html });
    const [sent] = await (await Alerter.open(t.store.db)).recent(1);
    assert.equal(sent.title, `flights: ${s.severity} drift — retraining`);
    assert.equal(sent.level, "CRITICAL");
    const outcome = await recordRetrainOutcome(ctx, { before: 1, row: d.row, training: "run 9" });
    assert.deepEqual(outcome, { before: 1, after: 1, changed: false, training: "run 9" });
    assert.equal((await table.list("flights"))[0].retrained, true);
    assert.equal(t.lines.at(-1), "champion kept: v1");
    const r = await recalibrateOnBatch(ctx, s.actedOn, "the prior moved");
    assert.equal(r.version, 2, "the recalibrated version is registered");
    assert.equal((await table.list("flights"))[0].promoted, r.promoted);
    const registry = await ModelRegistry.open(t.store.db);
    assert.equal((await registry.resolve("flights_delay@champion")).version, r.promoted ? 2 : 1);

    // labels one batch late: batch 0 is judged without them, and again when batch 1 runs
    const late = t.env({ ...params, streamName: "late", labelsDelay: 1 }, 8);
    const champ = await currentChampion(late);
    const now = champ.version;
    const b0 = await writeStreamBatch(late, 0), b1 = await writeStreamBatch(late, 1);
    const d0 = await detectBatchDrift(late, b0, champ);
    assert.equal(d0.late, null);
    assert.equal(d0.rocAuc, null, "no labels yet");
    const s0 = await evaluateBatchSeverity(late, 0, b0, now, d0);
    assert.equal(s0.actedOn.path, null, "a verdict without labels cannot recalibrate");
    if (b0.done || b1.done) throw new Error("the stream has two batches");
    const landed = landedLabelsBatch(await table.list("late"), 1, 1, () => "unused");
    assert.deepEqual([landed?.batch, landed?.row.id, landed?.path], [0, d0.row, b0.path]);
    assert.equal(landedLabelsBatch(await table.list("late"), 0, 1, () => "unused"), null);
    const d1 = await detectBatchDrift(late, b1, champ);
    assert.equal(d1.late?.batch, 0);
    assert.equal(d1.late?.row, d0.row);
    assert.ok(d1.late!.realized! > 0.5, `${d1.late?.realized}`);
    assert.ok(t.lines.some((l) => /^labels of batch 0 landed: ROC AUC realized /.test(l)));
    await evaluateBatchSeverity(late, 1, b1, now, d1);
    const row0 = (await table.list("late")).find((x) => x.id === d0.row)!;
    assert.deepEqual(verdictsOf(row0).map((v) => v.kind), ["batch", "labels"]);
    assert.ok(row0.rocAuc! > 0.5, "the realized ROC AUC is written to batch 0's row");
  } finally {
    await t.close();
  }
});

Deno.test("detectBatchDrift: the scored reference kept from the last batch gives the report a fresh one gives, and any setting it depends on makes a fresh one", async () => {
  const t = await openTestEnv();
  try {
    const c = await trainChampion(t);
    const base = streamParams(c.stream, t.dir, "x1");
    // The same batch judged on streams of their own (one monitoring row each, no sequential state
    // carried between them): the JSON report as written, but for when it was made, and whether the
    // last batch's reference was kept.
    const judge = async (streamName: string, over: Partial<StreamMonitorParams> = {}) => {
      const ctx = t.env({ ...base, ...over, streamName }, 11);
      const batch = await writeStreamBatch(ctx, 0);
      const from = t.lines.length;
      const d = await detectBatchDrift(ctx, batch, await currentChampion(ctx));
      const { createdAt: _, ...report } = JSON.parse(
        new TextDecoder().decode(await ctx.getArtifact(d.report)),
      );
      const kept = t.lines.slice(from).some((l) => l.includes("kept from the last batch"));
      return { report: JSON.stringify(report), kept };
    };
    const smaller = { referenceRows: 500 };
    const other = { seed: 1 };
    // (the kept reference is the process's: an earlier test may have left one for these settings)
    const first = await judge("c1", other);
    const cold = await judge("a1");
    assert.equal(cold.kept, false, "other settings than the last batch's: a reference of its own");
    assert.deepEqual(await judge("a2"), { ...cold, kept: true }, "kept: the same report");
    const coldSmaller = await judge("b1", smaller);
    assert.equal(coldSmaller.kept, false, "another reference sample size: a reference of its own");
    assert.notEqual(coldSmaller.report, cold.report);
    assert.deepEqual(await judge("b2", smaller), { ...coldSmaller, kept: true });
    const again = await judge("c2", other);
    assert.equal(again.kept, false, "another seed: sampled again");
    assert.equal(again.report, first.report);
    assert.deepEqual(await judge("a3"), cold, "back to the first settings: made again, the same");
  } finally {
    await t.close();
  }
});
