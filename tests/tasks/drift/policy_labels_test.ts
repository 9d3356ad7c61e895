/**
 * The default policy with labels and the champion's scores, on data: clean labelled batches stay at
 * the family-wise α (the label-share and AUC tests are in the family), a pure prior shift is graded
 * `prior` (recalibrate, never retrain), a concept change is graded `concept` — at once when the ROC
 * AUC drop is large, on the second batch when it is small but persists.
 */
import assert from "node:assert/strict";
import { detectDrift, type DriftOptions } from "../../../tasks/drift/detect.ts";
import type { SeverityResult } from "../../../tasks/drift/schema.ts";
import { evaluateSeverity } from "../../../tasks/drift/severity.ts";
import type { Table } from "../../../models/core/table.ts";
import { labelledBatch } from "./clean_data.ts";

const OPTS: DriftOptions = {
  target: "label",
  prediction: "score",
  histograms: false,
  bootstrapRounds: 20,
};
const reference = labelledBatch(10_000, 1);

const judge = (current: Table, history: SeverityResult[] = []) =>
  evaluateSeverity(detectDrift(reference, current, OPTS), {}, history);

Deno.test("clean labelled batches (n = 1000): ≤ 8 % of 100 flagged, never prior or concept", () => {
  const grades = Array.from(
    { length: 100 },
    (_, b) => judge(labelledBatch(1000, 500 + b)).severity,
  );
  const flagged = grades.filter((g) => g !== "none").length / grades.length;
  console.error(JSON.stringify({ metric: "drift_policy.fpr_labelled.n1000", value: flagged }));
  assert.ok(flagged <= 0.08, `flagged ${flagged}: ${grades.join(",")}`);
  assert.ok(!grades.includes("concept"), `concept in ${grades.join(",")}`);
  assert.ok(!grades.includes("prior"), `prior in ${grades.join(",")}`);
});

Deno.test("a pure prior shift (20 % → 35 % positives) is graded prior and recalibrated", () => {
  const grades = Array.from(
    { length: 20 },
    (_, b) => judge(labelledBatch(1000, 700 + b, { prior: 0.35 })),
  );
  const prior = grades.filter((g) => g.severity === "prior").length / grades.length;
  console.error(JSON.stringify({ metric: "drift_policy.power_prior.n1000", value: prior }));
  assert.ok(prior >= 0.9, `prior in ${prior}: ${grades.map((g) => g.severity).join(",")}`);
  assert.ok(grades.every((g) => g.action !== "retrain"), "a prior shift never retrains");
  const one = grades.find((g) => g.severity === "prior")!;
  assert.equal(one.action, "recalibrate");
  assert.match(
    one.reasons[0],
    /^label share 0\.\d+ → 0\.3\d+ .* while ROC AUC held/,
    one.reasons[0],
  );
});

Deno.test("a large concept change is concept at once; a small one on its second batch", () => {
  const large = judge(labelledBatch(5000, 900, { signal: 0.3 }));
  assert.equal(large.severity, "concept", large.reasons.join("; "));
  assert.match(large.reasons[0], /large-drop margin/);
  const first = judge(labelledBatch(10_000, 901, { signal: 0.65 }));
  assert.equal(first.signals!.aucDrop, true, first.reasons.join("; "));
  assert.notEqual(first.severity, "concept", first.reasons.join("; "));
  assert.match(first.reasons[0], /concept pending \(1 of 2 batches\)/);
  const second = judge(labelledBatch(10_000, 902, { signal: 0.65 }), [first]);
  assert.equal(second.severity, "concept", second.reasons.join("; "));
  assert.match(second.reasons[0], /persisted for 2 batches/);
  assert.equal(second.action, "retrain");
});
