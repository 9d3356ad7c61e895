// drift_monitoring's late-label and sequential-state wiring: the state read back from the store
// (restart-safe, reset on a new champion or a restarted pass), a sequential alarm grading at least
// minor at the stated family rate on clean batches, realized values landing beside the estimate.
import assert from "node:assert/strict";
import type { Table } from "../../../models/core/table.ts";
import {
  fitReferenceCbpe,
  judgeLateLabels,
  monitorBatch,
  monitoringFields,
  SequentialState,
} from "../../../tasks/drift/batch_monitor.ts";
import { monitoringDocument } from "../../../tasks/monitoring/document.ts";
import {
  departureReasons,
  labelledBatchIndex,
  previousSequentialState,
  referenceAuc,
  sequentialSummary,
  strongerAction,
  withEstimates,
  withRealized,
  withSequentialAlarms,
} from "../../../tasks/monitoring/late_labels.ts";
import { MonitoringTable } from "../../../tasks/monitoring/metrics_table.ts";
import { Random } from "../../../models/core/random.ts";
import { storeTest } from "../../runner/helpers.ts";

const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));

/** x ~ N(mu, 1), the champion's calibrated score and a yes/no label (null when unlabelled). */
function table(seed: number, n: number, { mu = 0, labelled = true } = {}): Table {
  const rng = new Random(seed);
  const x = new Float64Array(n), score = new Float64Array(n);
  const late: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    x[i] = mu + rng.normal();
    score[i] = sigmoid(-1 + 1.5 * x[i]);
    const y = rng.next() < score[i];
    late.push(labelled ? (y ? "yes" : "no") : null);
  }
  return { x, p_late: score, late };
}

const OPTS = {
  target: "late",
  prediction: "p_late",
  positiveLabel: "yes",
  columns: ["x"],
  simulations: 60,
  nullRounds: 20,
};

Deno.test("labelledBatchIndex: batch t's labels land with batch t + delay", () => {
  assert.equal(labelledBatchIndex(5, 0), null);
  assert.equal(labelledBatchIndex(1, 2), null);
  assert.equal(labelledBatchIndex(2, 2), 0);
  assert.equal(labelledBatchIndex(7, 3), 4);
});

Deno.test("withSequentialAlarms: an alarm alone grades minor and says so; none leaves the grade", () => {
  const rate = "ARL0 ≥ 200 batches";
  assert.deepEqual(withSequentialAlarms("none", ["nothing"], [], rate), {
    severity: "none",
    reasons: ["nothing"],
  });
  const raised = withSequentialAlarms("none", [], ["column:x"], rate);
  assert.equal(raised.severity, "minor");
  assert.match(raised.reasons[0], /column:x.*no per-batch finding — graded minor.*ARL0/);
  const kept = withSequentialAlarms("major", ["distance"], ["prediction"], rate);
  assert.equal(kept.severity, "major");
  assert.equal(kept.reasons.length, 2);
  assert.equal(strongerAction("log", "retrain"), "retrain");
  assert.equal(strongerAction("recalibrate", "warn"), "recalibrate");
});

Deno.test("sequential alarms grade minor at the stated family rate on clean batches, and catch a slow drift", () => {
  const reference = table(1, 6000);
  const cbpe = fitReferenceCbpe(reference, OPTS);
  const seeds = 6, batches = 40, onset = 10;
  let cleanMinor = 0, driftMinor = 0;
  for (let seed = 0; seed < seeds; seed++) {
    let clean: SequentialState | null = null, drift: SequentialState | null = null;
    for (let t = 0; t < batches; t++) {
      const c = monitorBatch(
        reference,
        table(1000 * (seed + 1) + t, 500, { labelled: false }),
        OPTS,
        clean,
        cbpe,
      );
      // the JSON round trip the monitoring table makes
      clean = SequentialState.parse(JSON.parse(JSON.stringify(c.sequential.state)));
      const g = withSequentialAlarms("none", [], c.sequential.alarms, c.sequential.falseAlarmRate);
      if (g.severity === "minor") cleanMinor++;
      const mu = t >= onset ? 0.012 * (t - onset + 1) : 0;
      const d = monitorBatch(
        reference,
        table(5000 * (seed + 1) + t, 500, { mu, labelled: false }),
        OPTS,
        drift,
        cbpe,
      );
      drift = d.sequential.state;
      const dg = withSequentialAlarms("none", [], d.sequential.alarms, "");
      if (dg.severity === "minor" && t >= onset) driftMinor++;
    }
  }
  // stated: ARL0 200 ≈ 0.5 per 100 batches; 240 clean batches allow a few by chance
  const per100 = (100 * cleanMinor) / (seeds * batches);
  assert.ok(per100 <= 1.5, `sequential minors per 100 clean batches: ${per100} (stated 0.5)`);
  assert.ok(
    driftMinor >= seeds,
    `the slow drift raised ${driftMinor} minors over ${seeds} streams`,
  );
});

storeTest(
  "the sequential state is read back from the store: same champion carries, a new one resets",
  async (store) => {
    const reference = table(1, 4000);
    const cbpe = fitReferenceCbpe(reference, OPTS);
    const table1 = await MonitoringTable.open(store.db);
    let state: SequentialState | null = null;
    for (let b = 0; b < 3; b++) {
      // each batch re-opens the table and reads the state back, as a fresh DAG run does
      state = previousSequentialState(await table1.list("s"), b, 1);
      if (b > 0) assert.equal(state?.batches, b, `batch ${b} resumes after ${b} batches`);
      const r = monitorBatch(
        reference,
        table(100 + b, 400, { labelled: false }),
        OPTS,
        state,
        cbpe,
      );
      const fields = monitoringFields(r);
      await (await MonitoringTable.open(store.db)).insert({
        dagId: "drift_monitoring",
        runId: b,
        stream: "s",
        batch: b,
        rows: 400,
        championVersion: 1,
        metrics: withEstimates({}, fields, referenceAuc(reference, "late", "yes", "p_late")),
        details: {
          sequentialState: r.sequential.state,
          sequential: sequentialSummary(
            r.sequential.state,
            r.sequential.alarms,
            r.sequential.falseAlarmRate,
          ),
        },
      });
    }
    const rows = await (await MonitoringTable.open(store.db)).list("s");
    const back = previousSequentialState(rows, 3, 1);
    assert.deepEqual(back, rows[2].details.sequentialState);
    assert.equal(back?.batches, 3);
    assert.equal(previousSequentialState(rows, 3, 2), null, "a new champion starts afresh");
    assert.equal(previousSequentialState(rows, 0, 1), null, "a restarted pass starts afresh");

    // batch 0's labels land: realized beside the estimate, the comparison as a reason
    const labelled = table(100, 400);
    const late = judgeLateLabels(reference, labelled, OPTS, back!, cbpe);
    const metrics = withRealized(rows[0].metrics, late.realized, late.comparison);
    assert.equal(rows[0].metrics.roc_auc.realized, null);
    assert.equal(metrics.roc_auc.realized, late.realized!.roc_auc);
    assert.equal(metrics.roc_auc.estimated, rows[0].metrics.roc_auc.estimated);
    assert.ok(metrics.roc_auc.reference! > 0.6);
    assert.match(departureReasons(late.comparison)[0], /estimated 0\.\d+ vs realized 0\.\d+/);
    await table1.update(rows[0].id, { metrics });
    const doc = monitoringDocument("s", await table1.list("s"));
    const auc = doc.batches[0].metrics.roc_auc!;
    assert.equal(auc.realized, late.realized!.roc_auc);
    assert.equal(auc.estimatedInterval!.length, 2);
    assert.equal(doc.batches[2].sequential!.batches, 3);
    assert.equal(doc.batches[1].metrics.roc_auc!.realized, null);
  },
);
