import assert from "node:assert/strict";
import { detectDrift } from "../../../tasks/drift/detect.ts";
import { injectDrift } from "../../../tasks/drift/inject.ts";
import { DriftReport } from "../../../tasks/drift/schema.ts";
import type { Table } from "../../../tasks/data/table.ts";
import { Random } from "../../../tasks/random.ts";

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

Deno.test("detectDrift: identical samples never drift under the default policy", () => {
  for (const n of [200, 1500]) {
    const t = makeTable(n, 11);
    const report = detectDrift(t, t);
    assert.equal(report.columns.filter((c) => c.drifted).length, 0, `n=${n}`);
    assert.equal(report.datasetDrift, false);
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
