// The detection benchmark's harness on tiny flights-like data with a stable label relation (the
// reference period and the later periods come from the same process): a big shift is caught, clean
// batches are flagged at about the stated rate, and the stream protocol counts what the loop did.
import assert from "node:assert/strict";
import { concatTables, rowCount } from "../../../models/core/table.ts";
import {
  benchGrid,
  runGridCell,
  setupBench,
  summariseDetection,
} from "../../../tasks/monitoring/detection.ts";
import {
  detectionFigures,
  renderDetectionHtml,
  renderDetectionText,
} from "../../../tasks/monitoring/detection_report.tsx";
import {
  retrainRows,
  runStream,
  summariseStream,
} from "../../../tasks/monitoring/stream_protocol.ts";
import { fakeFlights } from "../../dags/helpers.ts";

const setup = setupBench(
  fakeFlights(12_000, 1),
  concatTables([fakeFlights(8000, 2, Date.UTC(2001, 1, 1))]),
  { referenceRows: 3000, trainRows: 5000, rounds: 30, periodRows: 2000, periods: 4 },
);
const shifts = [
  { name: "distance +1σ", drift: { kind: "mean_shift" as const, column: "distance", k: 1 } },
  {
    name: "origin 20% unseen",
    drift: { kind: "unseen_category" as const, column: "origin", share: 0.2 },
  },
];

Deno.test("detection harness: a big shift has power ≈ 1; clean batches stay near α", () => {
  const cells = benchGrid({ shifts, sizes: [400], seeds: 8, clean: 3 }).map((c) =>
    runGridCell(setup, c, { shifts })
  );
  const s = summariseDetection(cells);
  const power = (shift: string, d: string) =>
    s.power.find((p) => p.shift === shift && p.detector === d)!.rate;
  assert.equal(power("distance +1σ", "policy"), 1);
  assert.equal(power("distance +1σ", "severity"), 1);
  assert.equal(power("distance +1σ", "per_column"), 1);
  assert.equal(
    power("origin 20% unseen", "policy"),
    1,
    "unseen categories are a data-quality finding",
  );
  const fpr = (d: string) => s.fpr.find((f) => f.detector === d)!;
  assert.equal(fpr("policy").runs, 24);
  // Holm at α 0.05 over the checks: P(≥ 4 of 24 false alarms) < 0.01 at a true rate of 0.05
  assert.ok(fpr("policy").rate <= 3 / 24, `policy FPR ${fpr("policy").rate}`);
  assert.ok(fpr("per_column").rate <= 3 / 24, `per-column FPR ${fpr("per_column").rate}`);
  // the Evidently preset's fixed distance thresholds flag a clean batch of 400 rows far more often
  assert.ok(fpr("evidently").rate >= fpr("policy").rate);
  const later = s.later[0];
  assert.equal(later.runs, 8);
  assert.equal(later.retrains, 0, "the same process later on: no retrain");
  const figures = detectionFigures(s, []);
  assert.equal(figures[0].metric, "detection.fpr_max");
  assert.equal(figures[0].value, fpr("severity").rate);
  const text = renderDetectionText(s, []);
  assert.match(text, /Power at n = 400/);
  assert.match(renderDetectionHtml(s, []), /<svg [^>]*aria-label="Power, batches of 400"/);
});

Deno.test("stream protocol: a clean stream is not retrained; a concept change is graded concept, not before", () => {
  const clean = runStream(setup, { name: "clean" }, { batchSize: 1500, seed: 1 });
  assert.equal(clean.batches.length, 4);
  assert.equal(clean.summary.retrains, 0, JSON.stringify(clean.batches.map((b) => b.severity)));
  assert.equal(clean.summary.needlessRetrains, 0);
  const table = renderDetectionText({ power: [], fpr: [], later: [], meanPower: [] }, [clean])
    .split("\n");
  const header = table.findIndex((l) => l.startsWith("stream "));
  assert.equal(
    table[header].trim().split(/\s{2,}/).length,
    table[header + 2].trim().split(/\s{2,}/).length,
    "every stream column has a header",
  );
  const concept = runStream(setup, {
    name: "concept",
    onset: 2,
    detectedBy: ["concept"],
    retrainWanted: true,
    events: [{
      atBatch: 2,
      drift: {
        kind: "boundary_rotation",
        target: "late",
        features: ["hour", "distance"],
        degrees: 90,
      },
    }],
  }, { batchSize: 1500, seed: 1 });
  const grades = concept.batches.map((b) => b.severity);
  assert.ok(!grades.slice(0, 2).includes("concept"), grades.join(" "));
  assert.equal(concept.summary.delay, 0, `graded concept at its first labelled batch: ${grades}`);
  assert.ok(concept.batches[2].retrained, "concept → retrain");
  assert.equal(
    concept.summary.needlessRetrains,
    concept.batches.filter((b) => b.retrained && b.batch < 2).length,
  );
});

Deno.test("stream protocol: a retrain fits on training's cumulative window by default, or a sliding one", () => {
  const batches = [500, 600, 700].map((n, i) => fakeFlights(n, 10 + i));
  const cumulative = retrainRows(setup, batches, { initialRows: 1000 }, 1);
  assert.equal(rowCount(cumulative), 1000 + 500 + 600 + 700, "pool rows, then every earlier batch");
  assert.deepEqual(
    Array.from(cumulative.distance as Float64Array).slice(-700),
    Array.from(batches[2].distance as Float64Array),
    "the newest earlier batch last",
  );
  const huge = retrainRows(setup, [], { initialRows: 10 ** 7 }, 1);
  assert.equal(rowCount(huge), rowCount(setup.pool), "no more rows than the pool has");
  const sliding = retrainRows(setup, batches, { window: "sliding", windowBatches: 3 }, 1);
  assert.equal(rowCount(sliding), 600 + 700, "the two batches before the holdout");
  const first = retrainRows(setup, [], { window: "sliding", initialRows: 800 }, 1);
  assert.equal(rowCount(first), 800, "no earlier batch: the pool's rows");
});

Deno.test("stream summary: flags before onset, delay, needless retrains, promotions improved", () => {
  const b = (batch: number, severity: "none" | "minor" | "major" | "concept", more = {}) => ({
    batch,
    period: "",
    drifted: batch >= 2,
    severity,
    action: "log" as const,
    retrained: false,
    recalibrated: false,
    promoted: false,
    championVersion: 1,
    aucReference: null,
    aucRealized: null,
    reasons: [],
    improvedNext: null,
    ...more,
  });
  const s = summariseStream({ name: "x", onset: 2, detectedBy: ["concept"], retrainWanted: true }, [
    b(0, "minor"),
    b(1, "major", { retrained: true }),
    b(2, "major", { retrained: true, promoted: true, improvedNext: false }),
    b(3, "concept", { retrained: true, promoted: true, improvedNext: true }),
    b(4, "none", { promoted: true }),
  ]);
  assert.deepEqual(
    [s.flaggedBeforeOnset, s.escalatedBeforeOnset, s.priorBeforeOnset, s.delay, s.retrains],
    [2, 1, 0, 1, 3],
  );
  assert.equal(s.needlessRetrains, 1, "the retrain before the onset");
  assert.deepEqual([s.promotions, s.promotionsJudged, s.promotionsImproved], [3, 2, 1]);
});

Deno.test("stream protocol: a recalibration is fitted on one batch and gated on the next (out of sample), and judged on the one after", () => {
  const long = setupBench(
    fakeFlights(12_000, 1),
    concatTables([fakeFlights(14_000, 3, Date.UTC(2001, 1, 1))]),
    { referenceRows: 3000, trainRows: 5000, rounds: 30, periodRows: 2000, periods: 7 },
  );
  const run = runStream(long, {
    name: "prior step",
    onset: 3,
    detectedBy: ["prior"],
    events: [{ atBatch: 3, drift: { kind: "prior_shift", target: "late", positiveShare: 0.5 } }],
  }, { batchSize: 1500, seed: 1 });
  const b = run.batches;
  const trace = JSON.stringify(b.map((x) => [x.severity, x.recalibrated, x.promoted]));
  assert.equal(b[3].severity, "prior", trace);
  assert.ok(b[3].recalibrated && !b[3].promoted, `proposed at 3, not promoted there: ${trace}`);
  // promoted by a later batch's gate (the step itself makes the weeks look noisy, so the gate
  // may wait for the move to persist one more batch), then judged on the batch after that
  const first = b.find((x) => x.promoted && !x.retrained);
  assert.ok(first && first.batch >= 4 && first.batch < 6, `promoted at 4 or 5: ${trace}`);
  assert.equal(first.improvedNext, true, "the shift still beats the old champion a batch later");
  for (const x of b) {
    // a recalibration is never promoted on the batch its prior was fitted on
    if (x.promoted && !x.retrained) assert.ok(b[x.batch - 1]?.recalibrated, trace);
  }
  assert.equal(run.summary.promotionsImproved, run.summary.promotionsJudged, trace);
});
