import assert from "node:assert/strict";
import type { ColumnDrift, DriftReport } from "../../../tasks/drift/schema.ts";
import { evaluateSeverity, SeverityPolicy } from "../../../tasks/drift/severity.ts";

/** A report with `drifted` of `total` columns drifted. */
function report(drifted: number, total: number, extra: Partial<DriftReport> = {}): DriftReport {
  const columns: ColumnDrift[] = Array.from({ length: total }, (_, i) => ({
    column: `c${i}`,
    type: "numeric",
    test: "wasserstein",
    statistic: i < drifted ? 0.5 : 0.01,
    pValue: null,
    threshold: 0.1,
    drifted: i < drifted,
    nRef: 100,
    nCur: 100,
    nullShareRef: 0,
    nullShareCur: 0,
  }));
  return {
    version: 1,
    createdAt: "2026-01-01T00:00:00Z",
    nRef: 100,
    nCur: 100,
    columns,
    skipped: [],
    driftedShare: drifted / total,
    driftShareThreshold: 0.5,
    datasetDrift: drifted / total >= 0.5,
    ...extra,
  };
}

/** The Evidently-compatible rules, named explicitly: these tests are about them. */
const EV = { preset: "evidently" } as const;

Deno.test("evidently preset: severity thresholds at their edges (100 columns: a share is exact)", () => {
  const cases: [number, string][] = [
    [0, "none"],
    [4, "none"],
    [5, "minor"],
    [14, "minor"],
    [15, "moderate"],
    [29, "moderate"],
    [30, "major"],
    [100, "major"],
  ];
  for (const [drifted, expected] of cases) {
    const r = evaluateSeverity(report(drifted, 100), EV);
    assert.equal(r.severity, expected, `${drifted}/100 drifted`);
    assert.equal(r.score, drifted / 100);
    assert.ok(r.reasons.length > 0);
  }
});

Deno.test("evidently preset: sensitivity presets scale the thresholds", () => {
  assert.equal(evaluateSeverity(report(3, 100), { ...EV, sensitivity: "high" }).severity, "minor");
  assert.equal(evaluateSeverity(report(2, 100), { ...EV, sensitivity: "high" }).severity, "none");
  assert.equal(evaluateSeverity(report(9, 100), { ...EV, sensitivity: "low" }).severity, "none");
  assert.equal(evaluateSeverity(report(10, 100), { ...EV, sensitivity: "low" }).severity, "minor");
  assert.equal(evaluateSeverity(report(60, 100), { ...EV, sensitivity: "low" }).severity, "major");
});

Deno.test("evidently preset: feature importance weights the score", () => {
  const r = report(1, 10);
  const weighted = evaluateSeverity(r, { ...EV, featureImportance: { c0: 9, c1: 1 } });
  assert.equal(weighted.score, 0.9);
  assert.equal(weighted.severity, "major");
  assert.match(weighted.reasons[0], /importance-weighted/);
  const unimportant = evaluateSeverity(r, { ...EV, featureImportance: { c5: 1 } });
  assert.equal(unimportant.severity, "none");
});

Deno.test("evidently preset: concept drift wins when performance falls below the reference interval by the margin", () => {
  const perf = (current: number) =>
    report(0, 10, {
      performance: {
        task: "classification",
        metrics: [{
          name: "roc_auc",
          reference: { value: 0.85, ciLow: 0.82, ciHigh: 0.88 },
          current: { value: current, ciLow: current - 0.03, ciHigh: current + 0.03 },
          change: current - 0.85,
        }],
      },
    });
  assert.equal(evaluateSeverity(perf(0.78), EV).severity, "none"); // 0.82 − 0.05 = 0.77: not below
  const c = evaluateSeverity(perf(0.76), EV);
  assert.equal(c.severity, "concept");
  assert.match(c.reasons.join(" "), /roc_auc fell to 0\.760/);
  assert.equal(evaluateSeverity(perf(0.76), { ...EV, conceptMargin: 0.1 }).severity, "none");
});

Deno.test("policies are validated data with clear errors", () => {
  assert.throws(
    () => SeverityPolicy.parse({ thresholds: { minor: 0.5, moderate: 0.2, major: 0.3 } }),
    /thresholds must rise/,
  );
  assert.throws(() => SeverityPolicy.parse({ sensitivity: "extreme" }), /sensitivity/);
  const p = SeverityPolicy.parse(JSON.parse('{"sensitivity":"high","conceptMargin":0.02}'));
  assert.equal(p.thresholds.minor, 0.05);
});
