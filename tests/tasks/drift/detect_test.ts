import assert from "node:assert/strict";
import { DEFAULT_THRESHOLDS, detectDrift } from "../../../tasks/drift/detect.ts";
import { injectDrift } from "../../../tasks/drift/inject.ts";
import { DriftReport } from "../../../tasks/drift/schema.ts";
import { evaluateSeverity } from "../../../tasks/drift/severity.ts";
import type { Table } from "../../../models/core/table.ts";
import { Random } from "../../../models/core/random.ts";

/** A table with numeric, few-valued, binary, categorical, id and date columns. */
function makeTable(n: number, seed: number, shift = 0): Table {
  const rng = new Random(seed);
  const x = new Float64Array(n), small = new Float64Array(n), bin = new Float64Array(n);
  const cat: string[] = [], ids: string[] = [], dates: string[] = [], flag: string[] = [];
  for (let i = 0; i < n; i++) {
    x[i] = rng.normal() + shift;
    small[i] = rng.int(4);
    bin[i] = rng.next() < 0.3 ? 1 : 0;
    cat.push(["a", "b", "c", "d"][rng.int(4)]);
    ids.push(`u${seed}-${i}`);
    dates.push(`2026-01-${String(1 + (i % 28)).padStart(2, "0")}`);
    flag.push(rng.next() < 0.5 ? "yes" : "no");
  }
  return { x, small, bin, cat, user_id: ids, day: dates, flag };
}

Deno.test("detectDrift picks Evidently's default test per column by size and distinct values", () => {
  const evidently = { preset: "evidently" } as const;
  const small = detectDrift(makeTable(800, 1), makeTable(900, 2), evidently);
  const by = Object.fromEntries(small.columns.map((c) => [c.column, c.test]));
  assert.deepEqual(by, { x: "ks", small: "chisquare", bin: "z", cat: "chisquare", flag: "z" });
  const large = detectDrift(makeTable(3000, 3), makeTable(2000, 4), evidently);
  const byLarge = Object.fromEntries(large.columns.map((c) => [c.column, c.test]));
  assert.deepEqual(byLarge, {
    x: "wasserstein",
    small: "jensenshannon",
    bin: "jensenshannon",
    cat: "jensenshannon",
    flag: "jensenshannon",
  });
  assert.deepEqual(large.skipped.map((s) => s.column).sort(), ["day", "user_id"]);
  DriftReport.parse(JSON.parse(JSON.stringify(large)));
});

Deno.test("detectDrift: a copy of the reference has statistic 0, p-value 1 and effect 0 in every check", () => {
  for (const n of [200, 1500]) {
    const t = makeTable(n, 11);
    // equal values in other arrays (the same seed again), not the same object
    const copy = makeTable(n, 11);
    assert.notEqual(copy.x, t.x);
    const report = detectDrift(t, copy);
    assert.deepEqual(
      report.columns.map((c) => [c.column, c.statistic, c.pValue, c.adjustedPValue, c.effect]),
      ["x", "small", "bin", "cat", "flag"].map((c) => [c, 0, 1, 1, 0]),
      `n=${n}`,
    );
    assert.ok(report.quality!.length > 0);
    for (const q of report.quality!) assert.equal(q.pValue, 1, `${q.column} ${q.check}`);
    assert.equal(report.datasetDrift, false);
  }
});

Deno.test("detectDrift: independent samples of one distribution keep the default policy's 5 % family-wise rate", () => {
  // 40 pairs of independent samples; under the null, the pairs with any flagged check are
  // Binomial(40, ≤ 0.05): more than 6 of them has probability < 1 %.
  const pairs = 40;
  for (const n of [200, 1500]) {
    let flagged = 0;
    for (let s = 0; s < pairs; s++) {
      const r = detectDrift(makeTable(n, 100 + 2 * s), makeTable(n, 101 + 2 * s));
      assert.equal(r.datasetDrift, false, `n=${n}, pair ${s}`);
      if (r.columns.some((c) => c.drifted) || r.quality!.some((q) => q.drifted)) flagged++;
    }
    assert.ok(flagged <= 6, `n=${n}: ${flagged} of ${pairs} null pairs flagged`);
  }
});

Deno.test("detectDrift (evidently preset) flags a shifted column and honours overrides of test and threshold", () => {
  const ref = makeTable(2000, 5), cur = makeTable(2000, 6, 0.5);
  const r = detectDrift(ref, cur, { preset: "evidently" });
  const x = r.columns.find((c) => c.column === "x")!;
  assert.equal(x.drifted, true);
  assert.ok(x.statistic > 0.3, `normed wasserstein ${x.statistic}`);
  const o = detectDrift(ref, cur, {
    preset: "evidently",
    columns: {
      x: { test: "psi", threshold: 5 },
      cat: { skip: true },
      day: { type: "categorical" },
    },
  });
  const ox = o.columns.find((c) => c.column === "x")!;
  assert.equal(ox.test, "psi");
  assert.equal(ox.threshold, 5);
  assert.equal(ox.drifted, false);
  assert.ok(o.skipped.some((s) => s.column === "cat" && s.reason === "skipped by options"));
  assert.ok(o.columns.some((c) => c.column === "day"));
  assert.throws(
    () => detectDrift(ref, cur, { columns: { nope: { test: "ks" } } }),
    /does not have/,
  );
  assert.throws(() => detectDrift(ref, cur, { columns: { cat: { test: "ks" } } }), /needs numbers/);
});

Deno.test("detectDrift: a growing injected shift gives a monotone statistic", () => {
  const ref = makeTable(3000, 7);
  for (const test of ["wasserstein", "ks", "psi", "jensenshannon"] as const) {
    let last = -Infinity;
    for (const k of [0, 0.25, 0.5, 1, 2]) {
      const cur = injectDrift(ref, { kind: "mean_shift", column: "x", k }).table;
      const s =
        detectDrift(ref, cur, { only: ["x"], columns: { x: { test } } }).columns[0].statistic;
      assert.ok(s >= last, `${test}: statistic ${s} at k=${k} below ${last}`);
      last = s;
    }
  }
});

Deno.test("detectDrift counts missing values and the dataset share", () => {
  const ref = makeTable(1200, 8);
  const cur =
    injectDrift(makeTable(1200, 9), { kind: "missing", column: "x", share: 0.2 }, { seed: 1 })
      .table;
  const r = detectDrift(ref, cur, { driftShare: 0.2 });
  const x = r.columns.find((c) => c.column === "x")!;
  assert.ok(x.nullShareCur > 0.15 && x.nullShareCur < 0.25);
  assert.equal(x.nullShareRef, 0);
  assert.equal(x.nRef + Math.round(x.nullShareRef * 1200), 1200);
  assert.equal(r.driftShareThreshold, 0.2);
});

Deno.test("detectDrift multivariate: the domain classifier sees a joint change the marginals miss", () => {
  // x and y keep their marginals but their correlation flips sign
  const rng = new Random(3);
  const make = (sign: number) => {
    const n = 3000, x = new Float64Array(n), y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = rng.normal();
      y[i] = sign * 0.9 * x[i] + Math.sqrt(1 - 0.81) * rng.normal();
    }
    return { x, y, xy: x.map((v, i) => v * y[i]) };
  };
  const ref = make(1), same = make(1), flipped = make(-1);
  const calm = detectDrift(ref, same, { multivariate: true, seed: 1 });
  assert.equal(calm.multivariate?.drifted, false, `calm AUC ${calm.multivariate?.rocAuc}`);
  const r = detectDrift(ref, flipped, { only: ["x", "y", "xy"], multivariate: true, seed: 1 });
  assert.ok(r.multivariate!.rocAuc > 0.8, `AUC ${r.multivariate!.rocAuc}`);
  assert.equal(r.multivariate!.drifted, true);
  assert.equal(r.multivariate!.topFeatures[0].feature, "xy");
});

Deno.test("detectDrift text columns: a domain classifier on words", () => {
  const rng = new Random(4);
  const words = (pool: string[]) =>
    Array.from(
      { length: 600 },
      () => Array.from({ length: 8 }, () => pool[rng.int(pool.length)]).join(" "),
    );
  const old = ["meeting", "report", "budget", "team", "project", "deadline", "client", "update"];
  const fresh = ["crypto", "wallet", "token", "airdrop", "project", "team", "update", "moon"];
  const ref = { body: words(old) }, same = { body: words(old) }, drifted = { body: words(fresh) };
  const calm = detectDrift(ref, same).columns[0];
  assert.equal(calm.type, "text");
  assert.equal(calm.drifted, false, `AUC ${calm.statistic}`);
  const d = detectDrift(ref, drifted).columns[0];
  assert.equal(d.test, "domain_classifier");
  assert.equal(d.drifted, true);
  assert.ok(d.statistic > 0.9);
});

Deno.test("detectDrift prediction and performance drift with bootstrap intervals", () => {
  const rng = new Random(5);
  const make = (noise: number) => {
    const n = 1500, y = new Float64Array(n), p = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.next() < 0.4 ? 1 : 0;
      const signal = y[i] === 1 ? 0.7 : 0.3;
      p[i] = Math.min(1, Math.max(0, signal + noise * (rng.next() - 0.5)));
    }
    return { label: y, score: p };
  };
  const r = detectDrift(make(0.4), make(1.6), { target: "label", prediction: "score" });
  assert.ok(r.prediction);
  const auc = r.performance!.metrics.find((m) => m.name === "roc_auc")!;
  assert.ok(
    auc.reference.ciLow <= auc.reference.value && auc.reference.value <= auc.reference.ciHigh,
  );
  assert.ok(auc.change < -0.1, `AUC change ${auc.change}`);
  assert.deepEqual(r.performance!.metrics.map((m) => m.name), [
    "accuracy",
    "f1",
    "roc_auc",
    "log_loss",
  ]);
  assert.equal(r.columns.length, 0, "target and prediction are not features");
});

Deno.test("detectDrift performance drift for regression: RMSE and MAE with intervals", () => {
  const rng = new Random(6);
  const make = (noise: number) => {
    const n = 800, y = new Float64Array(n), p = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.normal() * 10;
      p[i] = y[i] + noise * rng.normal();
    }
    return { delay: y, predicted: p };
  };
  const r = detectDrift(make(1), make(3), {
    target: "delay",
    prediction: "predicted",
    task: "regression",
  });
  const [rmse, mae] = r.performance!.metrics;
  assert.equal(rmse.name, "rmse");
  assert.equal(mae.name, "mae");
  assert.ok(Math.abs(rmse.reference.value - 1) < 0.1 && Math.abs(rmse.current.value - 3) < 0.3);
  assert.ok(rmse.current.ciLow < rmse.current.value && rmse.current.value < rmse.current.ciHigh);
  assert.ok(mae.change > 1);
});

Deno.test("default preset: corrected p-values, data-quality checks and the policy in the report", () => {
  const ref = makeTable(1500, 21);
  const cur = injectDrift(
    injectDrift(makeTable(1000, 22), { kind: "missing", column: "x", share: 0.1 }, { seed: 2 })
      .table,
    { kind: "unseen_category", column: "cat", share: 0.05 },
    { seed: 3 },
  ).table;
  const r = detectDrift(ref, cur);
  assert.equal(r.policy?.preset, "default");
  assert.equal(r.policy?.correction, "holm");
  assert.equal(r.policy?.alpha, 0.05);
  assert.match(r.policy!.controls, /family-wise/);
  const by = Object.fromEntries(r.columns.map((c) => [c.column, c.test]));
  assert.deepEqual(by, {
    x: "ks",
    small: "chisquare_pooled",
    bin: "chisquare_pooled",
    cat: "chisquare_pooled",
    flag: "chisquare_pooled",
  });
  for (const c of r.columns) {
    assert.ok(c.adjustedPValue! >= c.pValue!, `${c.column}: adjusted ≥ raw`);
    assert.equal(c.drifted, c.adjustedPValue! < 0.05);
    assert.ok(c.effect! >= 0 && c.effect! <= 1);
  }
  const q = (column: string, check: string) =>
    r.quality!.find((x) => x.column === column && x.check === check)!;
  assert.equal(q("x", "missing_share").drifted, true, "10 % missing is caught");
  assert.ok(Math.abs(q("x", "missing_share").current - 0.1) < 0.03);
  assert.equal(q("cat", "unseen_share").drifted, true, "5 % unseen categories are caught");
  assert.equal(q("small", "missing_share").drifted, false);
  // family: 5 columns + missing of x (the only informative missing check) + unseen of cat and flag
  assert.equal(r.policy!.tests, 5 + 1 + 2);
  DriftReport.parse(JSON.parse(JSON.stringify(r)));
});

Deno.test("default preset: corrections change the verdicts as documented", () => {
  const ref = makeTable(1500, 31), cur = makeTable(1500, 32, 0.12);
  const none = detectDrift(ref, cur, { correction: "none", quality: false });
  const holm = detectDrift(ref, cur, { correction: "holm", quality: false });
  const bonf = detectDrift(ref, cur, { correction: "bonferroni", quality: false });
  const x = (r: typeof none) => r.columns.find((c) => c.column === "x")!;
  assert.equal(x(none).adjustedPValue, x(none).pValue);
  assert.ok(Math.abs(x(bonf).adjustedPValue! - Math.min(1, 5 * x(bonf).pValue!)) < 1e-12);
  assert.ok(x(holm).adjustedPValue! <= x(bonf).adjustedPValue!);
  assert.equal(holm.policy!.tests, 5);
});

Deno.test("default preset: prediction drift (KS on scores) joins the family; labels and AUC are tested", () => {
  const rng = new Random(9);
  const make = (n: number, pos: number, noise: number, scoreShift: number) => {
    const y = new Float64Array(n), s = new Float64Array(n), x = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = rng.next() < pos ? 1 : 0;
      x[i] = rng.normal();
      s[i] = 1 / (1 + Math.exp(-((y[i] ? 1 : -1) + noise * rng.normal() + scoreShift)));
    }
    return { x, label: y, score: s };
  };
  const ref = make(3000, 0.2, 1, 0);
  const r = detectDrift(ref, make(2000, 0.4, 1, 0), { target: "label", prediction: "score" });
  assert.equal(r.prediction!.test, "ks");
  assert.ok(r.prediction!.adjustedPValue !== undefined && r.prediction!.adjustedPValue !== null);
  assert.equal(r.prediction!.drifted, true, "the label shift moves the scores");
  assert.ok(r.labels!.pValue < 1e-10 && Math.abs(r.labels!.current - 0.4) < 0.03);
  assert.ok(r.performance!.aucTest!.pValue > 0.01, "AUC held under a prior shift");
  const worse = detectDrift(ref, make(2000, 0.2, 3, 0), { target: "label", prediction: "score" });
  assert.ok(worse.performance!.aucTest!.drop > 0.1);
  assert.ok(worse.performance!.aucTest!.pValue < 1e-6, "a noisier model's AUC drop is significant");
  assert.equal(r.policy!.tests, 4, "x, the prediction, the label share and the AUC drop");
  assert.ok(r.labels!.adjustedPValue! >= r.labels!.pValue);
  assert.ok(r.performance!.aucTest!.adjustedPValue! >= r.performance!.aucTest!.pValue);
});

Deno.test("default preset: the domain classifier decides by its permutation p-value and sees every category", () => {
  const rng = new Random(12);
  const make = (n: number, rare: string) => ({
    city: Array.from({ length: n }, () => (rng.next() < 0.1 ? rare : `c${rng.int(100)}`)),
  });
  const ref = make(3000, "r0");
  const same = detectDrift(ref, make(3000, "r0"), { multivariate: true, seed: 1, quality: false });
  assert.equal(same.multivariate!.drifted, false, `p ${same.multivariate!.pValue}`);
  // 10 % of rows move to a category the old top-10 one-hot encoding would never have seen
  const moved = detectDrift(ref, make(3000, "r1"), { multivariate: true, seed: 1, quality: false });
  assert.ok(moved.multivariate!.pValue < 0.01, `p ${moved.multivariate!.pValue}`);
  assert.equal(moved.multivariate!.drifted, true);
  assert.ok(moved.multivariate!.adjustedPValue! >= moved.multivariate!.pValue);
});

Deno.test("default preset on data: a large sample's tiny real change is minor, a 1σ shift major", () => {
  const rng = new Random(17);
  const make = (n: number, shift: number) => ({
    a: Float64Array.from({ length: n }, () => rng.normal() + shift),
    b: Float64Array.from({ length: n }, () => rng.normal()),
    c: Array.from({ length: n }, () => ["x", "y", "z"][rng.int(3)]),
  });
  const ref = make(20_000, 0);
  const tiny = detectDrift(ref, make(20_000, 0.08), { histograms: false });
  const a = tiny.columns.find((c) => c.column === "a")!;
  assert.equal(a.drifted, true, `p ${a.adjustedPValue}`);
  assert.ok(a.effect! < a.statistic, "the effect is D less its null expectation");
  const minor = evaluateSeverity(tiny);
  assert.equal(minor.severity, "minor", minor.reasons.join("; "));
  const big = evaluateSeverity(detectDrift(ref, make(2000, 1), { histograms: false }));
  assert.equal(big.severity, "major", big.reasons.join("; "));
  // a small batch's noise is not an effect: clean n = 100 effects stay near 0
  const small = detectDrift(ref, make(100, 0), { histograms: false });
  for (const c of small.columns) assert.ok(c.effect! < 0.1, `${c.column}: effect ${c.effect}`);
});

Deno.test("evidently preset: Evidently's thresholds unchanged, no correction, no quality checks", () => {
  assert.deepEqual(
    Object.fromEntries(
      [
        "ks",
        "chisquare",
        "z",
        "cramer_von_mises",
        "mannw",
        "t_test",
        "anderson",
        "wasserstein",
        "jensenshannon",
        "psi",
        "kl_div",
        "hellinger",
        "energy_distance",
        "domain_classifier",
      ].map((t) => [t, DEFAULT_THRESHOLDS[t as keyof typeof DEFAULT_THRESHOLDS]]),
    ),
    {
      ks: 0.05,
      chisquare: 0.05,
      z: 0.05,
      cramer_von_mises: 0.05,
      mannw: 0.05,
      t_test: 0.05,
      anderson: 0.05,
      wasserstein: 0.1,
      jensenshannon: 0.1,
      psi: 0.1,
      kl_div: 0.1,
      hellinger: 0.1,
      energy_distance: 0.1,
      domain_classifier: 0.55,
    },
  );
  const r = detectDrift(makeTable(800, 41), makeTable(800, 42), { preset: "evidently" });
  assert.equal(r.policy?.preset, "evidently");
  assert.equal(r.policy?.correction, "none");
  assert.equal(r.quality, undefined);
  for (const c of r.columns) {
    assert.equal(c.adjustedPValue, undefined);
    assert.equal(c.drifted, c.pValue! < 0.05, `${c.column}: p < 0.05 decides`);
  }
});
