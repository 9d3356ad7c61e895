/**
 * The default policy's claims on data: on clean batches drawn from the reference's own distribution
 * the share flagged (severity ≥ minor) stays at the family-wise α = 0.05 (plus Monte-Carlo slack),
 * at n = 100 and n = 1,000 — where the evidently preset flags most batches — and clear drifts are
 * caught: a 0.5σ mean shift, 10 % missing values, 5 % unseen categories at n = 1,000.
 *
 * Measured rates are printed to stderr (one JSON line per figure).
 */
import assert from "node:assert/strict";
import type { Table } from "../../../models/core/table.ts";
import { detectDrift, type DriftOptions } from "../../../tasks/drift/detect.ts";
import { type DriftSpec, injectDrift } from "../../../tasks/drift/inject.ts";
import { evaluateSeverity } from "../../../tasks/drift/severity.ts";
import { cleanTable } from "./clean_data.ts";

const REF_ROWS = 5000;
const reference = cleanTable(REF_ROWS, 1);

function flagged(current: Table, options: DriftOptions = {}): boolean {
  const report = detectDrift(reference, current, { histograms: false, ...options });
  return evaluateSeverity(report).severity !== "none";
}

function rate(
  n: number,
  batches: number,
  seed0: number,
  options: DriftOptions = {},
  drift?: DriftSpec,
) {
  let hits = 0;
  for (let b = 0; b < batches; b++) {
    let t = cleanTable(n, seed0 + b);
    if (drift) t = injectDrift(t, drift, { seed: seed0 + b }).table;
    if (flagged(t, options)) hits++;
  }
  return hits / batches;
}

const figure = (metric: string, value: number) =>
  console.error(JSON.stringify({ metric, value, unit: "share of batches" }));

for (const n of [100, 1000]) {
  Deno.test(`clean data, n = ${n}: the default policy flags ≤ 8 % of 200 batches (α = 0.05, Holm)`, () => {
    const fpr = rate(n, 200, 10_000 + n);
    figure(`drift_policy.fpr.n${n}`, fpr);
    assert.ok(fpr <= 0.08, `false-positive rate ${fpr} at n = ${n}`);
    // the same batches under the evidently preset: this test fails under the old default
    const old = rate(n, 40, 10_000 + n, { preset: "evidently" });
    figure(`drift_policy.fpr_evidently.n${n}`, old);
    assert.ok(old > 0.5, `evidently preset flags ${old} of clean batches at n = ${n}`);
  });
}

Deno.test("clean data: each correction holds its rate (Bonferroni ≤ Holm ≤ BH in flags)", () => {
  const rates = Object.fromEntries(
    (["bonferroni", "holm", "bh"] as const).map((
      c,
    ) => [c, rate(1000, 100, 50_000, { correction: c })]),
  );
  for (const [c, r] of Object.entries(rates)) {
    figure(`drift_policy.fpr_${c}.n1000`, r);
    assert.ok(r <= 0.1, `${c}: ${r}`);
  }
  assert.ok(rates.bonferroni <= rates.holm && rates.holm <= rates.bh);
});

const POWER: [string, DriftSpec][] = [
  ["mean shift 0.5σ", { kind: "mean_shift", column: "normal", k: 0.5 }],
  ["10 % missing", { kind: "missing", column: "uniform", share: 0.1 }],
  ["5 % unseen categories", { kind: "unseen_category", column: "city", share: 0.05 }],
];

for (const [name, drift] of POWER) {
  Deno.test(`power at n = 1000: ${name} is detected in ≥ 95 % of 40 batches`, () => {
    const power = rate(1000, 40, 90_000, {}, drift);
    figure(`drift_policy.power.${drift.kind}.n1000`, power);
    assert.ok(power >= 0.95, `${name}: power ${power}`);
  });
}
