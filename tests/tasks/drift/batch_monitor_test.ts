import assert from "node:assert/strict";
import type { Table } from "../../../models/core/table.ts";
import { Random } from "../../../models/core/random.ts";
import {
  BatchMonitorResult,
  fitReferenceCbpe,
  judgeLateLabels,
  monitorBatch,
  monitoringFields,
  SequentialState,
} from "../../../tasks/drift/batch_monitor.ts";

const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));
const LEVELS = ["a", "b", "c", "d"];

/** x ~ N(mu, 1), a categorical column, the champion's score and a yes/no label. */
function table(
  seed: number,
  n: number,
  { mu = 0, slope = 1.2, labelled = true }: { mu?: number; slope?: number; labelled?: boolean } =
    {},
): Table {
  const rng = new Random(seed);
  const x = new Float64Array(n), score = new Float64Array(n);
  const cat: string[] = [], late: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    x[i] = mu + rng.normal();
    score[i] = sigmoid(0.4 + 2.2 * (-1.2 + 1.2 * x[i]));
    cat.push(LEVELS[rng.int(LEVELS.length)]);
    const y = rng.next() < sigmoid(-1.2 + slope * x[i]);
    late.push(labelled ? (y ? "yes" : "no") : null);
  }
  return { x, cat, p_late: score, late };
}

const OPTS = {
  target: "late",
  prediction: "p_late",
  columns: ["x", "cat"],
  simulations: 60,
  nullRounds: 20,
};

Deno.test("monitorBatch: a batch without labels gets an estimate, no realized value, and JSON state", () => {
  const reference = table(1, 4000);
  const r = monitorBatch(reference, table(2, 800, { labelled: false }), OPTS, null);
  BatchMonitorResult.parse(r);
  assert.equal(r.realized, null);
  assert.equal(r.comparison, null);
  assert.equal(r.labelledRows, 0);
  const auc = r.estimated.metrics.roc_auc;
  assert.ok(auc.ciLow < auc.estimated && auc.estimated < auc.ciHigh);
  assert.match(r.assumption, /covariate shift/);
  assert.deepEqual(Object.keys(r.sequential.state.detectors).sort(), [
    "column:cat",
    "column:x",
    "prediction",
    "roc_auc_departure",
    "roc_auc_estimated",
  ]);
  // five detectors share the family ARL0 of 200: each runs at 1,000
  assert.equal(r.sequential.state.detectors["column:x"].arl0, 1000);
  assert.match(r.sequential.falseAlarmRate, /0\.50 false alarms per 100/);
  assert.equal(r.sequential.signals.length, 4);
  const fields = monitoringFields(r);
  assert.equal(fields.metrics.roc_auc.realized, null);
  assert.equal(fields.metrics.roc_auc.departed, null);
  assert.deepEqual(fields.metrics.roc_auc.estimatedInterval, [auc.ciLow, auc.ciHigh]);
  assert.equal(fields.sequential.detectors["column:x"].kind, "cusum");
  assert.equal(fields.sequential.detectors["roc_auc_departure"].kind, "page_hinkley");
  const restored = SequentialState.parse(JSON.parse(JSON.stringify(r.sequential.state)));
  assert.deepEqual(restored, r.sequential.state);
  assert.throws(
    () => monitorBatch(reference, { p_late: Float64Array.of(0.1, 0.2) }, OPTS),
    /current table has no column "x"/,
  );
});

Deno.test("monitorBatch: with labels, realized beside estimated and their test; late labels judged again", () => {
  const reference = table(1, 4000);
  const cbpe = fitReferenceCbpe(reference, OPTS);
  const batch = table(3, 2000);
  const r = monitorBatch(reference, batch, OPTS, null, cbpe);
  assert.ok(r.realized && r.comparison);
  assert.equal(r.labelledRows, 2000);
  const c = r.comparison.roc_auc;
  assert.equal(c.realized, r.realized.roc_auc);
  assert.ok(Math.abs(c.difference - (c.realized - c.estimated)) < 1e-12);
  assert.equal(r.sequential.signals.at(-1)?.detector, "roc_auc_departure");
  assert.equal(monitoringFields(r).metrics.roc_auc.realized, r.realized.roc_auc);
  assert.equal(monitoringFields(r).metrics.f1.departed, r.comparison.f1.departed);

  // a concept shift: judged first without labels, then again when they land
  const first = monitorBatch(
    reference,
    table(4, 2000, { slope: 0.2, labelled: false }),
    OPTS,
    r.sequential.state,
    cbpe,
  );
  assert.equal(first.realized, null);
  const late = judgeLateLabels(
    reference,
    table(4, 2000, { slope: 0.2 }),
    OPTS,
    first.sequential.state,
    cbpe,
  );
  assert.ok(late.comparison && late.realized);
  assert.equal(late.comparison.roc_auc.departed, true);
  assert.ok(late.comparison.roc_auc.difference < -0.1);
  assert.equal(late.signal?.detector, "roc_auc_departure");
  assert.equal(late.state.detectors["roc_auc_departure"].batches, 2);
});

Deno.test("monitorBatch: clean streams stay near the stated family rate; a slow drift in one column is caught", () => {
  const reference = table(1, 6000);
  const cbpe = fitReferenceCbpe(reference, OPTS);
  const seeds = 12, batches = 50, onset = 10;
  let cleanAlarms = 0, caught = 0;
  const delays: number[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    let clean: SequentialState | null = null, drift: SequentialState | null = null;
    let first: number | undefined;
    for (let t = 0; t < batches; t++) {
      const c = monitorBatch(
        reference,
        table(10_000 * (seed + 1) + t, 500, { labelled: false }),
        OPTS,
        clean,
        cbpe,
      );
      clean = c.sequential.state;
      cleanAlarms += c.sequential.alarms.length;
      const mu = t >= onset ? 0.01 * (t - onset + 1) : 0; // 0.1 sd after 10 batches
      const d = monitorBatch(
        reference,
        table(20_000 * (seed + 1) + t, 500, { mu, labelled: false }),
        OPTS,
        drift,
        cbpe,
      );
      drift = d.sequential.state;
      if (first === undefined && t >= onset && d.sequential.alarms.includes("column:x")) first = t;
    }
    if (first !== undefined) {
      caught++;
      delays.push(first - onset + 1);
    }
  }
  const per100 = (100 * cleanAlarms) / (seeds * batches);
  assert.ok(per100 <= 1.5, `family false alarms per 100 clean batches ${per100} (stated 0.5)`);
  delays.sort((a, b) => a - b);
  const median = delays[Math.floor(delays.length / 2)];
  assert.ok(
    caught >= 0.8 * seeds,
    `slow drift caught in ${caught}/${seeds} streams, median delay ${median} batches`,
  );
});

Deno.test("monitorBatch: the departure detector ignores the calibrator's shared offset and catches a growing concept drift", () => {
  const lean = { ...OPTS, columns: [], simulations: 40, nullRounds: 10 };
  const seeds = 10, batches = 40, onset = 10;
  let clean = 0, caught = 0;
  for (let seed = 0; seed < seeds; seed++) {
    // a small reference: its calibration error is one offset in every batch's comparison
    const reference = table(50 + seed, 1500);
    const cbpe = fitReferenceCbpe(reference, lean);
    let a: SequentialState | null = null, b: SequentialState | null = null;
    let first: number | undefined;
    for (let t = 0; t < batches; t++) {
      const c = monitorBatch(reference, table(30_000 * (seed + 1) + t, 800), lean, a, cbpe);
      a = c.sequential.state;
      if (c.sequential.alarms.includes("roc_auc_departure")) clean++;
      const slope = t >= onset ? Math.max(0.3, 1.2 - 0.05 * (t - onset + 1)) : 1.2;
      const d = monitorBatch(
        reference,
        table(40_000 * (seed + 1) + t, 800, { slope }),
        lean,
        b,
        cbpe,
      );
      b = d.sequential.state;
      if (first === undefined && t >= onset && d.sequential.alarms.includes("roc_auc_departure")) {
        first = t;
      }
    }
    if (first !== undefined) caught++;
    assert.equal(a?.detectors["roc_auc_departure"].kind, "page_hinkley");
  }
  assert.ok(clean <= 2, `departure alarms on ${seeds * batches} clean labelled batches: ${clean}`);
  assert.ok(caught >= 0.8 * seeds, `growing concept drift caught in ${caught}/${seeds} streams`);
});

Deno.test("monitorBatch: a column typed differently on the two sides fails with what would be right", () => {
  const reference = table(1, 1000);
  const batch = { ...table(2, 300), cat: Float64Array.from({ length: 300 }, () => 1) };
  assert.throws(
    () => monitorBatch(reference, batch, OPTS),
    /column "cat" is text in the reference but numeric in the current batch/,
  );
});

Deno.test("fitReferenceCbpe: τ's time blocks follow the `time` column, else the row order", () => {
  // two periods: the first with slope 0.6, the second 1.8 — P(y | score) moves between them
  const a = table(40, 3000, { slope: 0.6 }), b = table(41, 3000, { slope: 1.8 });
  const num = (k: string) =>
    Float64Array.from([...(a[k] as Float64Array), ...(b[k] as Float64Array)]);
  const text = (k: string) => [...(a[k] as (string | null)[]), ...(b[k] as (string | null)[])];
  const inOrder: Table = {
    x: num("x"),
    cat: text("cat"),
    p_late: num("p_late"),
    late: text("late"),
    day: Float64Array.from({ length: 6000 }, (_, i) => i),
  };
  // the same rows shuffled, with their day kept: ordered by `time`, the model is the same
  const perm = new Random(3).permutation(6000);
  const shuffled: Table = Object.fromEntries(
    Object.entries(inOrder).map(([k, c]) => [
      k,
      c instanceof Float64Array
        ? Float64Array.from(perm, (i) => c[i])
        : Array.from(perm, (i) => (c as (string | null)[])[i]),
    ]),
  );
  const opts = { ...OPTS, calibrationRounds: 5 };
  const byRow = fitReferenceCbpe(inOrder, opts);
  const byTime = fitReferenceCbpe(shuffled, { ...opts, time: "day" });
  assert.deepEqual(byTime.shift, byRow.shift);
  // held-out blocks of another period than the rest: τ sees the drift; shuffled rows hide it
  const hidden = fitReferenceCbpe(shuffled, opts);
  assert.ok(
    byRow.shift.roc_auc > 2 * hidden.shift.roc_auc,
    JSON.stringify([byRow, hidden].map((m) => m.shift)),
  );
  assert.throws(() => fitReferenceCbpe(shuffled, { ...opts, time: "nope" }), /no column "nope"/);
});
