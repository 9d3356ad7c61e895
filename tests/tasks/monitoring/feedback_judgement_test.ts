import assert from "node:assert/strict";
import type { Table } from "../../../models/core/table.ts";
import { judgeFeedback } from "../../../tasks/monitoring/feedback_judgement.ts";
import type { MetricsRow, MonitoringTable } from "../../../tasks/monitoring/metrics_table.ts";
import { Random } from "../../../models/core/random.ts";

/** An in-memory monitoring table (list and insert, as judgeFeedback uses them). */
function memoryTable(): Pick<MonitoringTable, "list" | "insert"> & { rows: MetricsRow[] } {
  const rows: MetricsRow[] = [];
  return {
    rows,
    list: (stream?: string) => Promise.resolve(rows.filter((r) => !stream || r.stream === stream)),
    insert: (r) => {
      const id = rows.length + 1;
      rows.push({
        id,
        at: new Date(),
        driftedShare: null,
        datasetDrift: null,
        severity: null,
        action: null,
        model: null,
        championVersion: null,
        rocAuc: null,
        reportHtml: null,
        reportJson: null,
        details: {},
        reasons: [],
        metrics: {},
        retrained: false,
        promoted: false,
        ...r,
      } as MetricsRow);
      return Promise.resolve(id);
    },
  };
}

/** A perfectly calibrated model: score p, label yes with probability p (flipped: concept change). */
function calibrated(n: number, seed: number, flip = false): Table {
  const rng = new Random(seed);
  const p = Float64Array.from({ length: n }, () => 1 / (1 + Math.exp(-1.5 * rng.normal())));
  const late = Array.from(p, (q) => ((rng.next() < q) !== flip ? "yes" : "no"));
  return { p, late };
}

const options = { target: "late", prediction: "p", positiveLabel: "yes", seed: 1 };

Deno.test("judgeFeedback: clean feedback retrains at most at the stated rate; the state carries on", async () => {
  const table = memoryTable();
  const reference = calibrated(3000, 1);
  let retrains = 0;
  const n = 30;
  for (let i = 0; i < n; i++) {
    const j = await judgeFeedback(table, {
      stream: "served:m",
      dagId: "feedback_loop",
      runId: i,
      championVersion: 1,
      reference,
      labelled: calibrated(400, 100 + i),
      options,
    });
    assert.equal(j.batch, i);
    if (j.retrain) retrains++;
  }
  // α = 0.05 per evaluation (+ the detector's ARL0 200): ~1.5 expected of 30; P(> 5) < 1%
  assert.ok(retrains <= 5, `${retrains} false retrains of ${n}`);
  const last = table.rows.at(-1)!;
  const state = last.details.sequentialState as { detectors: Record<string, { batches: number }> };
  assert.equal(state.detectors.roc_auc_departure.batches, n, "resumed from each stored state");
  const auc = (last.metrics as Record<string, { estimated: number; realized: number }>).roc_auc;
  assert.ok(Math.abs(auc.estimated - auc.realized) < 0.08, JSON.stringify(auc));
});

Deno.test("judgeFeedback: a concept change (labels flipped) parts estimate and realized, and retrains", async () => {
  const table = memoryTable();
  const j = await judgeFeedback(table, {
    stream: "served:m",
    dagId: "feedback_loop",
    runId: 1,
    championVersion: 1,
    reference: calibrated(3000, 1),
    labelled: calibrated(400, 7, true),
    options,
  });
  assert.equal(j.departed, true);
  assert.equal(j.retrain, true);
  assert.equal(table.rows[0].action, "retrain");
  assert.equal(table.rows[0].severity, "concept");
  assert.match(j.reasons[0], /they parted/);
  assert.ok(j.metrics.roc_auc.realized! < 0.5 && j.metrics.roc_auc.estimated! > 0.6);
});
