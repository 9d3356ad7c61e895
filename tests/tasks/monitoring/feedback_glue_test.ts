// feedback_loop's task functions: the rows collected (a file, or predictions served with their
// labels), the champion judged on them, the alert, and the state left for the next run.
import assert from "node:assert/strict";
import { rowCount, sliceRows } from "../../../models/core/table.ts";
import { PredictionLog } from "../../../models/serving/prediction_log.ts";
import { writeParquet } from "../../../tasks/data/parquet.ts";
import { Alerter } from "../../../tasks/alert/alerter.ts";
import { MonitoringTable } from "../../../tasks/monitoring/metrics_table.ts";
import {
  collectFeedback,
  confusionAt,
  evaluateFeedback,
  feedbackAlert,
  type FeedbackParams,
  feedbackRows,
  feedbackState,
  feedbackStream,
  getTable,
  notifyFeedbackOutcome,
} from "../../../tasks/monitoring/mod.ts";
import { fakeFlights } from "../../dags/helpers.ts";
import { openTestEnv, trainChampion } from "./task_env.ts";

Deno.test("feedbackStream, feedbackState, confusionAt: the stream's name, the offset kept or moved, the matrix", () => {
  assert.equal(feedbackStream({ feedback: "served:m", model: "m" }), "served:m");
  assert.equal(feedbackStream({ feedback: "f.csv", model: "m" }), "feedback:m");
  assert.equal(feedbackStream({ feedback: "f.csv", model: "m", stream: "x" }), "x");
  const c = { offset: 100, total: 350, previous: 0.8 };
  assert.deepEqual(feedbackState(c, undefined), { offset: 100, accuracy: 0.8, version: null });
  assert.deepEqual(feedbackState(c, { accuracy: 0.7, version: 3 }), {
    offset: 350,
    accuracy: 0.7,
    version: 3,
  });
  const cm = confusionAt(
    Float64Array.of(1, 1, 0, 0, 1),
    Float64Array.of(0.5, 0.4, 0.6, 0.1, 0.9),
    0.5,
  );
  assert.deepEqual(cm, { tp: 2, fp: 1, fn: 1, tn: 1 });
});

Deno.test("feedbackAlert: says why the loop retrained and whether a version was promoted", () => {
  const run = { dagId: "feedback_loop", runId: 2, model: "m", minAccuracy: 0.7, maxDrop: 0.05 };
  const e = {
    accuracy: 0.75,
    rows: 300,
    version: 1,
    belowThreshold: false,
    belowPrevious: true,
    conceptReasons: [],
  };
  const kept = feedbackAlert(run, e, 1);
  assert.equal(kept.title, "m: feedback accuracy 0.750 — v1 kept");
  assert.equal(kept.message, "accuracy dropped more than 0.05 since the last evaluation");
  assert.deepEqual(kept.details, { ...e, after: 1 });
  const concept = feedbackAlert(run, { ...e, belowPrevious: false, conceptReasons: ["a", "b"] }, 2);
  assert.equal(concept.title, "m: feedback accuracy 0.750 — v2 promoted");
  assert.equal(concept.message, "estimated and realized ROC AUC parted: a; b");
});

Deno.test("feedback_loop's functions: rows collected past the offset, the champion judged, alerted", async () => {
  const t = await openTestEnv();
  try {
    const c = await trainChampion(t);
    const file = `${t.dir}/feedback.parquet`;
    const rows = fakeFlights(500, 33, Date.UTC(2001, 2, 1));
    await writeParquet(file, rows);
    const params: FeedbackParams = {
      feedback: file,
      model: "flights_delay",
      target: "late",
      positiveLabel: "yes",
      minAccuracy: 0.7,
      maxDrop: 0.05,
      minRows: 200,
      referenceRows: 2000,
      seed: 0,
      alpha: 0.05,
      batchDir: `${t.dir}/batches`,
      training: {},
      alerts: { channels: [{ type: "log" }] },
    };
    const ctx = t.env(params, 5);

    // nothing there yet: no rows; then the rows past the previous offset
    const none = await collectFeedback(
      t.env({ ...params, feedback: `${t.dir}/nope.parquet` }),
      undefined,
    );
    assert.deepEqual(none, { offset: 0, total: 0, fresh: 0, rows: null, previous: null });
    const few = await collectFeedback(ctx, { offset: 400, accuracy: 0.9, version: 1 });
    assert.equal(few.fresh, 100);
    assert.equal(few.rows, null, "fewer than minRows");
    const collected = await collectFeedback(ctx, { offset: 100, accuracy: 0.9, version: 1 });
    assert.deepEqual({ ...collected, rows: null }, {
      offset: 100,
      total: 500,
      fresh: 400,
      rows: null,
      previous: 0.9,
    });
    const fresh = await getTable(ctx, collected.rows!);
    assert.deepEqual(fresh.late, sliceRows(rows, 100, 500).late);
    assert.match(t.lines.at(-1)!, /^400 new feedback rows \(of 500; evaluated up to row 100\)$/);

    // the champion on the new rows: its figures, the late-labels row, the training batch
    const v = await evaluateFeedback(ctx, collected);
    assert.equal(v.rows, 400);
    assert.equal(v.version, c.version);
    const { tp, fp, fn, tn } = v.confusion;
    assert.equal(tp + fp + fn + tn, 400);
    assert.ok(Math.abs(v.accuracy - (tp + tn) / 400) < 1e-12);
    assert.equal(v.belowPrevious, v.accuracy < 0.85);
    assert.equal(v.degraded, v.belowThreshold || v.belowPrevious || v.concept);
    assert.equal(v.batch, `${t.dir}/batches/feedback-run-5.parquet`);
    assert.equal(rowCount(await getTable(ctx, v.batch)), 400);
    const [row] = await (await MonitoringTable.open(t.store.db)).list("feedback:flights_delay");
    assert.equal(row.id, v.monitoringRow);

    // the alert after a retraining (the champion kept)
    const n = await notifyFeedbackOutcome(ctx, v);
    assert.deepEqual(n, { before: c.version, after: c.version, changed: false });
    const [sent] = await (await Alerter.open(t.store.db)).recent(1);
    assert.match(
      sent.title,
      new RegExp(`^flights_delay: feedback accuracy .* — v${c.version} kept$`),
    );

    // served predictions with their labels become rows: inputs, the label, the time served
    const log = await PredictionLog.open(t.store.db);
    await log.log([
      {
        id: "p1",
        model: "m",
        version: 1,
        input: { hour: 7, origin: "SEA" },
        label: "no",
        score: 0.2,
        output: {},
      },
      {
        id: "p2",
        model: "m",
        version: 1,
        input: { hour: 19, origin: null },
        label: "yes",
        score: 0.7,
        output: {},
      },
    ]);
    await log.feedback("p1", "yes");
    await log.feedback("p2", "no");
    const served = await feedbackRows(ctx, "served:m", "late", "date");
    assert.deepEqual([...(served.hour as Float64Array)], [7, 19]);
    assert.deepEqual(served.origin, ["SEA", null]);
    assert.deepEqual(served.late, ["yes", "no"]);
    assert.equal((served.date as Float64Array).length, 2);
    assert.ok(!("date" in await feedbackRows(ctx, "served:m", "late", null)));
  } finally {
    await t.close();
  }
});
