import assert from "node:assert/strict";
import { aucWithSe, bootstrapMetric, rocAuc } from "../../models/metrics.ts";
import { trainModel } from "../../models/model.ts";
import { measureReference, readReference, referenceMetrics } from "../../models/reference.ts";
import { outOfTimeSplit } from "../../models/split.ts";
import { rowCount, type Table } from "../../models/core/table.ts";
import { Random } from "../../models/core/random.ts";

const DAY = 86_400_000;

/** Rows every 10 minutes from 2001-01-01 for `n` rows, stored shuffled. */
function timed(n: number, seed = 1): Table {
  const rng = new Random(seed);
  const order = rng.permutation(n);
  const date = new Float64Array(n), x = new Float64Array(n), y = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const i = order[k];
    date[k] = Date.UTC(2001, 0, 1) + i * 600_000;
    x[k] = rng.normal();
    y[k] = x[k] + rng.normal() > 0 ? 1 : 0;
  }
  return { date, x, y };
}

Deno.test("outOfTimeSplit holds out the latest rows, cut at a day boundary, never a random share", () => {
  const t = timed(1440); // 10 days of rows, shuffled
  const { train, holdout, cutoff } = outOfTimeSplit(t, { timeColumn: "date", fraction: 0.2 });
  const tr = train.date as Float64Array, ho = holdout.date as Float64Array;
  assert.equal(rowCount(train) + rowCount(holdout), 1440);
  assert.ok(
    Math.max(...tr) < Math.min(...ho),
    "every holdout row is later than every training row",
  );
  assert.equal(cutoff! % DAY, 0, "the cut is at midnight UTC: no day is on both sides");
  assert.equal(Math.min(...ho), cutoff);
  assert.equal(rowCount(holdout), 288, "the last 2 of 10 days");
  // without alignment: exactly the asked share
  const exact = outOfTimeSplit(t, { timeColumn: "date", fraction: 0.17, align: "none" });
  assert.equal(rowCount(exact.holdout), Math.round(1440 * 0.17));
  // a size instead of a share; ISO text dates work too
  const iso = { ...t, date: Array.from(t.date as Float64Array, (v) => new Date(v).toISOString()) };
  const sized = outOfTimeSplit(iso, { timeColumn: "date", rows: 144 });
  assert.equal(rowCount(sized.holdout), 144);
  assert.ok((sized.holdout.date as string[]).every((d) => d >= "2001-01-10"));
  // no time column: the last rows in file order
  const ordered = outOfTimeSplit({ x: t.x }, { timeColumn: null, rows: 10 });
  assert.deepEqual(ordered.holdout.x, (t.x as Float64Array).slice(1430));
  assert.throws(
    () => outOfTimeSplit({ x: t.x }, { timeColumn: "date" }),
    /no time column "date" \(it has x\); .* timeColumn: null/,
  );
  assert.throws(
    () => outOfTimeSplit({ date: ["2001-01-01", "soon"] }, { timeColumn: "date", rows: 1 }),
    /row 1 of time column "date" is "soon", not a time/,
  );
  assert.throws(() => outOfTimeSplit(t, { rows: 1440 }), /cannot hold out 1440 of 1440 rows/);
});

Deno.test("aucWithSe: DeLong's standard error, checked against the pairwise definition and the bootstrap", () => {
  const rng = new Random(3);
  const n = 300;
  const y = new Float64Array(n), s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.3 ? 1 : 0;
    s[i] = Math.round((y[i] * 0.8 + rng.normal()) * 4) / 4; // ties on purpose
  }
  // the definition: placements ψ(x, y) = 1, ½, 0 over every positive–negative pair
  const pos = [...y.keys()].filter((i) => y[i] === 1), neg = [...y.keys()].filter((i) => !y[i]);
  const psi = (a: number, b: number) => (a > b ? 1 : a === b ? 0.5 : 0);
  const v10 = pos.map((i) => neg.reduce((t, j) => t + psi(s[i], s[j]), 0) / neg.length);
  const v01 = neg.map((j) => pos.reduce((t, i) => t + psi(s[i], s[j]), 0) / pos.length);
  const mean = (v: number[]) => v.reduce((t, x) => t + x, 0) / v.length;
  const svar = (v: number[]) => {
    const m = mean(v);
    return v.reduce((t, x) => t + (x - m) ** 2, 0) / (v.length - 1);
  };
  const se = Math.sqrt(svar(v10) / pos.length + svar(v01) / neg.length);
  const got = aucWithSe(y, s);
  assert.ok(Math.abs(got.value - mean(v10)) < 1e-12);
  assert.ok(Math.abs(got.value - rocAuc(y, s)) < 1e-12);
  assert.ok(Math.abs(got.se - se) < 1e-12, `${got.se} vs ${se}`);
  assert.ok(Math.abs(got.ciLow - (got.value - 1.959963984540054 * se)) < 1e-6);
  const boot = bootstrapMetric(rocAuc, y, s, { rounds: 2000, seed: 1 });
  const bootSe = (boot.ciHigh - boot.ciLow) / (2 * 1.96);
  assert.ok(Math.abs(bootSe / got.se - 1) < 0.2, `bootstrap ${bootSe} vs DeLong ${got.se}`);
  assert.ok(Number.isNaN(aucWithSe([1, 1], [0.2, 0.4]).value));
});

Deno.test("measureReference: the holdout's identity, positive share and AUC ± SE, read back checked", async () => {
  const t = timed(3000);
  const { train, holdout } = outOfTimeSplit(t, { timeColumn: "date", fraction: 0.3 });
  const labels = (tb: Table) => ({
    x: tb.x,
    late: Array.from(tb.y as Float64Array, (v) => (v ? "yes" : "no")),
  });
  const { model } = trainModel(labels(train), { target: "late", validFraction: 0 });
  const ho = { ...labels(holdout), date: holdout.date };
  const ref = await measureReference(model, ho, { data: "sha256:abc", timeColumn: "date" });
  const yes = (ho.late as string[]).filter((v) => v === "yes").length / rowCount(ho);
  assert.equal(ref.positiveLabel, "yes");
  assert.equal(ref.positiveShare, yes);
  assert.equal(ref.calibratedShare, yes, "without the training share: the holdout's");
  const withTraining = await measureReference(model, ho, {
    data: "sha256:abc",
    timeColumn: "date",
    trainingShare: 0.25,
  });
  assert.equal(withTraining.calibratedShare, 0.25);
  assert.equal(referenceMetrics(withTraining).calibrated_share, 0.25);
  assert.equal(ref.rows, rowCount(ho));
  assert.equal(ref.from, new Date(Math.min(...(holdout.date as Float64Array))).toISOString());
  assert.ok(ref.rocAuc.value > 0.65 && ref.rocAuc.se > 0 && ref.rocAuc.se < 0.03);
  assert.match(ref.sha256, /^[0-9a-f]{64}$/);
  const metrics = referenceMetrics(ref);
  assert.equal(metrics.roc_auc_se, ref.rocAuc.se);
  assert.equal(metrics.positive_share, yes);
  assert.deepEqual(readReference({ params: { reference: ref } }), ref);
  assert.equal(readReference({ params: {} }), null);
  assert.throws(
    () => readReference({ params: { reference: { rows: 1 } } }),
    /params.reference is not a monitoring reference/,
  );
});

Deno.test("outOfTimeSplit never splits a day: 3 days × 1,000 rows at 0.2 cut at midnight", () => {
  const day0 = Date.UTC(2024, 0, 1);
  const date = Float64Array.from(
    { length: 3000 },
    (_, i) => day0 + Math.floor(i / 1000) * DAY + (i % 1000) * 60_000,
  );
  const { holdout, cutoff } = outOfTimeSplit({ date }, { timeColumn: "date", fraction: 0.2 });
  assert.equal(cutoff! % DAY, 0, `cut at ${new Date(cutoff!).toISOString()}`);
  assert.equal(new Date(cutoff!).toISOString(), "2024-01-03T00:00:00.000Z");
  assert.equal(rowCount(holdout), 1000, "the last whole day");
  // one day only: refused with a clear error instead of splitting it
  assert.throws(
    () => outOfTimeSplit({ date: date.slice(0, 1000) }, { timeColumn: "date", fraction: 0.2 }),
    /every row of "date" is on one UTC day \(2024-01-01\).*align: "none"/,
  );
  assert.equal(
    rowCount(outOfTimeSplit({ date: date.slice(0, 1000) }, { align: "none" }).holdout),
    200,
  );
});
