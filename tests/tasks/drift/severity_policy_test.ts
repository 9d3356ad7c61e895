/**
 * The default preset's grades, one test each, on hand-made reports with known answers: none, minor
 * (significant whatever its size), moderate / major (by importance-weighted effect size), prior
 * (label share moved, AUC held), concept (significant AUC drop that persists or is large), and the
 * error rate and action every grade states.
 */
import assert from "node:assert/strict";
import type { ColumnDrift, DriftReport, SeverityResult } from "../../../tasks/drift/schema.ts";
import { DEFAULT_ACTIONS, SeverityHistory } from "../../../tasks/drift/schema.ts";
import { evaluateSeverity } from "../../../tasks/drift/severity.ts";

/** One column under the default preset: drifted when its adjusted p is below α. */
function col(column: string, effect: number, adjustedPValue: number): ColumnDrift {
  return {
    column,
    type: "numeric",
    test: "ks",
    statistic: effect,
    pValue: adjustedPValue / 4,
    adjustedPValue,
    effect,
    threshold: 0.05,
    drifted: adjustedPValue < 0.05,
    nRef: 1000,
    nCur: 1000,
    nullShareRef: 0,
    nullShareCur: 0,
  };
}

function report(columns: ColumnDrift[], extra: Partial<DriftReport> = {}): DriftReport {
  return {
    version: 1,
    createdAt: "2026-01-01T00:00:00Z",
    nRef: 1000,
    nCur: 1000,
    columns,
    skipped: [],
    driftedShare: columns.filter((c) => c.drifted).length / Math.max(1, columns.length),
    driftShareThreshold: 0.5,
    datasetDrift: false,
    policy: {
      preset: "default",
      alpha: 0.05,
      correction: "holm",
      controls: "family-wise error rate (Holm)",
      tests: 8,
    },
    quality: [],
    ...extra,
  };
}

const calm = [col("a", 0.02, 1), col("b", 0.03, 0.9)];

function labelled(labelP: number, aucDrop: number, aucP: number): Partial<DriftReport> {
  return {
    labels: {
      positiveLabel: "yes",
      reference: 0.2,
      current: labelP < 0.05 ? 0.3 : 0.21,
      nRef: 1000,
      nCur: 1000,
      statistic: 5,
      pValue: labelP,
    },
    performance: {
      task: "classification",
      metrics: [],
      aucTest: {
        reference: 0.75,
        current: 0.75 - aucDrop,
        seReference: 0.01,
        seCurrent: 0.01,
        drop: aucDrop,
        z: 1,
        pValue: aucP,
      },
    },
  };
}

Deno.test("grade none: nothing significant; the action is log and the error rate is stated", () => {
  const r = evaluateSeverity(report(calm));
  assert.equal(r.severity, "none");
  assert.equal(r.action, "log");
  assert.match(r.errorRate!, /family-wise error rate \(Holm\) ≤ 0\.050 over 8 checks/);
  assert.match(r.reasons[0], /no check significant/);
});

Deno.test("grade minor: significant after correction, small effect — a large sample's tiny change", () => {
  const r = evaluateSeverity(report([...calm, col("c", 0.02, 1e-12)]));
  assert.equal(r.severity, "minor");
  assert.equal(r.action, "log");
  assert.equal(r.score, 0.02);
  assert.match(r.reasons.join(" "), /c \(ks: effect 0\.020, adjusted p 1\.00e-12\)/);
  assert.match(r.reasons.join(" "), /real but small/);
});

Deno.test("grade moderate and major by effect size, not by the count of columns", () => {
  const moderate = evaluateSeverity(report([...calm, col("c", 0.15, 0.001)]));
  assert.equal(moderate.severity, "moderate");
  assert.equal(moderate.action, "warn");
  const major = evaluateSeverity(report([...calm, col("c", 0.4, 0.001)]));
  assert.equal(major.severity, "major");
  assert.equal(major.action, "retrain");
  // five small significant changes stay minor: impact is the largest weighted effect, not a count
  const many = evaluateSeverity(
    report(Array.from({ length: 5 }, (_, i) => col(`c${i}`, 0.05, 0.001))),
  );
  assert.equal(many.severity, "minor");
  // the edges: 0.1 is moderate, 0.25 major
  assert.equal(evaluateSeverity(report([col("c", 0.1, 0.01)])).severity, "moderate");
  assert.equal(evaluateSeverity(report([col("c", 0.25, 0.01)])).severity, "major");
  assert.equal(evaluateSeverity(report([col("c", 0.0999, 0.01)])).severity, "minor");
});

Deno.test("importance weights the effect: a large change of an unimportant feature stays minor", () => {
  const r = report([col("important", 0.02, 0.9), col("noise", 0.4, 0.001)]);
  assert.equal(evaluateSeverity(r).severity, "major");
  const weighted = evaluateSeverity(r, { featureImportance: { important: 10, noise: 0.2 } });
  assert.equal(weighted.severity, "minor", "0.4 × 0.02 = 0.008");
  assert.match(weighted.reasons.join(" "), /importance 0\.020/);
  assert.equal(
    evaluateSeverity(r, { featureImportance: { important: 1, noise: 0.5 } }).severity,
    "moderate",
    "0.4 × 0.5 = 0.2",
  );
});

Deno.test("data-quality and prediction drift findings count in the verdict and the impact", () => {
  const r = report(calm, {
    quality: [{
      column: "a",
      check: "missing_share",
      test: "missing_share",
      reference: 0,
      current: 0.1,
      statistic: 0.1,
      pValue: 1e-20,
      adjustedPValue: 1e-19,
      effect: 0.1,
      drifted: true,
      nRef: 1000,
      nCur: 1000,
    }],
  });
  const q = evaluateSeverity(r);
  assert.equal(q.severity, "moderate");
  assert.match(q.reasons.join(" "), /a \(missing_share/);
  const p = evaluateSeverity(report(calm, { prediction: { ...col("p_late", 0.3, 1e-6) } }));
  assert.equal(p.severity, "major");
  assert.equal(p.signals!.findings[0].check, "prediction_drift");
});

Deno.test("grade prior: the label share moved while ROC AUC held; covariates listed; recalibrate", () => {
  const r = evaluateSeverity(report([...calm, col("c", 0.3, 1e-5)], labelled(1e-8, 0.002, 0.45)));
  assert.equal(r.severity, "prior");
  assert.equal(r.action, "recalibrate");
  assert.match(r.reasons[0], /label share 0\.200 → 0\.300 .* while ROC AUC held/);
  assert.ok(r.reasons.some((x) => /c \(ks/.test(x)), "covariate findings among its reasons");
  assert.match(r.errorRate!, /label-share test \(two-sided\) at α 0\.050/);
  // corrected in the report's family: the grade states the family's error rate
  const fam = labelled(1e-8, 0.002, 0.45);
  fam.labels!.adjustedPValue = 1e-7;
  fam.performance!.aucTest!.adjustedPValue = 1;
  const inFamily = evaluateSeverity(report(calm, fam));
  assert.equal(inFamily.severity, "prior");
  assert.match(
    inFamily.errorRate!,
    /label-share test \(two-sided\) in the family — family-wise error rate \(Holm\) ≤ 0\.050 over 8 checks/,
  );
  fam.labels!.adjustedPValue = 0.2; // significant alone, not after the correction
  assert.equal(evaluateSeverity(report(calm, fam)).severity, "none");
  // no label shift: the covariate grade stands (capped at moderate: the AUC held, see below)
  assert.equal(
    evaluateSeverity(report([...calm, col("c", 0.3, 1e-5)], labelled(0.4, 0.002, 0.45))).severity,
    "moderate",
  );
});

Deno.test("a major covariate change is capped at moderate when labels show the AUC held", () => {
  const moved = [...calm, col("c", 0.3, 1e-5)]; // impact 0.3 ≥ major 0.25
  // no labels: nothing to say the model copes — major, retrain
  assert.equal(evaluateSeverity(report(moved)).severity, "major");
  // labels, AUC held (drop 0.002, p 0.45): moderate, warn, and the reason says why
  const held = evaluateSeverity(report(moved, labelled(0.4, 0.002, 0.45)));
  assert.equal(held.severity, "moderate");
  assert.equal(held.action, "warn");
  assert.match(held.reasons[0], /would be major, but with labels ROC AUC held .*no retrain/);
  assert.equal(held.signals!.impact, 0.3, "the impact is reported unchanged");
  // the cap can be turned off
  const off = evaluateSeverity(report(moved, labelled(0.4, 0.002, 0.45)), {
    capWhenAucHeld: false,
  });
  assert.equal(off.severity, "major");
  // a significant AUC drop is not capped: large → concept
  assert.equal(evaluateSeverity(report(moved, labelled(0.4, 0.08, 1e-6))).severity, "concept");
  // a minor change is not raised, and moderate stays moderate
  assert.equal(
    evaluateSeverity(report([...calm, col("c", 0.05, 1e-5)], labelled(0.4, 0.002, 0.45))).severity,
    "minor",
  );
});

Deno.test("a moved label share without the champion's AUC is a finding, not prior", () => {
  const labels = { ...labelled(1e-9, 0, 0.5).labels!, current: 0.4 };
  const r = evaluateSeverity(report(calm, { labels }));
  assert.equal(r.severity, "moderate", "effect |0.4 − 0.2| = 0.2");
  assert.equal(r.signals!.findings[0].check, "label_share");
});

Deno.test("grade concept: a significant AUC drop that persists for 2 batches or is large", () => {
  // significant but small and first seen: pending, warn
  const first = evaluateSeverity(report(calm, labelled(0.5, 0.03, 0.001)));
  assert.equal(first.severity, "moderate");
  assert.match(first.reasons[0], /concept pending \(1 of 2 batches\)/);
  assert.equal(first.signals!.aucDrop, true);
  // the next batch drops again: concept; history is the previous verdicts as stored JSON
  const history = SeverityHistory.parse(JSON.parse(JSON.stringify([first])));
  const second = evaluateSeverity(report(calm, labelled(0.5, 0.03, 0.001)), {}, history);
  assert.equal(second.severity, "concept");
  assert.equal(second.action, "retrain");
  assert.match(second.reasons[0], /persisted for 2 batches/);
  assert.match(
    second.errorRate!,
    /AUC-drop test \(one-sided\) at α 0\.050 per batch, and significant 2 batches in a row/,
  );
  // large and significant: concept at once
  const large = evaluateSeverity(report(calm, labelled(0.5, 0.08, 1e-6)));
  assert.equal(large.severity, "concept");
  assert.match(large.reasons[0], /large-drop margin 0\.050/);
  // a large but insignificant drop (small batch) is not concept
  assert.notEqual(evaluateSeverity(report(calm, labelled(0.5, 0.1, 0.2))).severity, "concept");
  // a drop with a label shift is concept, not prior
  assert.equal(evaluateSeverity(report(calm, labelled(1e-9, 0.08, 1e-6))).severity, "concept");
  // persistence 1: the first significant drop is concept
  assert.equal(
    evaluateSeverity(report(calm, labelled(0.5, 0.03, 0.001)), { persistence: 1 }).severity,
    "concept",
  );
});

Deno.test("DEFAULT_ACTIONS: minor log, moderate warn, major retrain, prior recalibrate, concept retrain", () => {
  assert.deepEqual({ ...DEFAULT_ACTIONS }, {
    none: "log",
    minor: "log",
    moderate: "warn",
    major: "retrain",
    prior: "recalibrate",
    concept: "retrain",
  });
  const r: SeverityResult = evaluateSeverity(report(calm), { preset: "evidently" });
  assert.match(r.errorRate!, /not controlled/);
});
