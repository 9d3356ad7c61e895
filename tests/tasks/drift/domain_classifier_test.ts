/**
 * The domain classifier's p-value: the Mann–Whitney p of the held-out AUC equals scipy's, has no
 * permutation floor (a strong drift still alarms after Holm over a large family), and stays at α on
 * clean data.
 */
import assert from "node:assert/strict";
import { detectDrift } from "../../../tasks/drift/detect.ts";
import { domainClassifier, mannWhitneyP } from "../../../tasks/drift/domain_classifier.ts";
import { aucFromRanks, midranks } from "../../../models/metrics.ts";
import { Random } from "../../../models/core/random.ts";

Deno.test("mannWhitneyP equals scipy mannwhitneyu(alternative='greater') with ties", () => {
  const y = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
  const ranks = midranks([3, 4, 5, 5, 6, 1, 2, 2, 3, 5]);
  const p = mannWhitneyP(y, ranks, aucFromRanks(y, ranks));
  assert.ok(Math.abs(p - 0.035242314523105486) < 1e-12, `p ${p}`);
});

Deno.test("a strong text drift alarms after Holm over 61 checks (no 1/501 floor)", () => {
  const rng = new Random(4);
  const words = (pool: string[]) =>
    Array.from(
      { length: 600 },
      () => Array.from({ length: 8 }, () => pool[rng.int(pool.length)]).join(" "),
    );
  const old = ["meeting", "report", "budget", "team", "project", "deadline", "client", "update"];
  const fresh = ["crypto", "wallet", "token", "airdrop", "project", "team", "update", "moon"];
  const noise = () =>
    Object.fromEntries(
      Array.from({ length: 60 }, (_, j) => [
        `x${j}`,
        Float64Array.from({ length: 600 }, () => rng.normal()),
      ]),
    );
  const ref = { body: words(old), ...noise() }, cur = { body: words(fresh), ...noise() };
  const r = detectDrift(ref, cur, { histograms: false, quality: false });
  const body = r.columns.find((c) => c.column === "body")!;
  assert.equal(body.test, "domain_classifier");
  assert.ok(r.policy!.tests >= 61, `tests ${r.policy!.tests}`);
  assert.ok(body.adjustedPValue! < 0.05, `adjusted p ${body.adjustedPValue}`);
  assert.equal(body.drifted, true);
});

Deno.test("domain classifier p-value stays at α on clean data (300 seeded draws)", () => {
  const rng = new Random(21);
  const draws = 300;
  let rejected = 0;
  const table = (n: number) => ({
    a: Float64Array.from({ length: n }, () => rng.normal()),
    b: Float64Array.from({ length: n }, () => rng.normal()),
    c: Array.from({ length: n }, () => ["x", "y", "z"][rng.int(3)]),
  });
  const cols = [
    { name: "a", type: "numeric" as const },
    { name: "b", type: "numeric" as const },
    { name: "c", type: "categorical" as const },
  ];
  for (let d = 0; d < draws; d++) {
    if (domainClassifier(table(300), table(200), cols, { seed: d }).pValue < 0.05) rejected++;
  }
  const bound = 0.05 + 3 * Math.sqrt(0.05 * 0.95 / draws);
  assert.ok(rejected / draws <= bound, `rejects ${rejected / draws}`);
});

Deno.test("embedding-like drift over 100 dimensions: the multivariate check alarms after Holm over 101 checks", () => {
  // every dimension moves by 0.1 σ: too little for one column's KS, plain for the classifier
  const rng = new Random(31);
  const emb = (n: number, shift: number) =>
    Object.fromEntries(
      Array.from({ length: 100 }, (_, j) => [
        `text_emb_${j}`,
        Float64Array.from({ length: n }, () => rng.normal() + shift),
      ]),
    );
  const ref = emb(1500, 0);
  const opts = { multivariate: true, seed: 1, histograms: false, quality: false };
  const drifted = detectDrift(ref, emb(1500, 0.1), opts);
  assert.ok(drifted.policy!.tests >= 101, `tests ${drifted.policy!.tests}`);
  const m = drifted.multivariate!;
  assert.ok(m.adjustedPValue! < 0.05, `AUC ${m.rocAuc}, adjusted p ${m.adjustedPValue}`);
  assert.equal(m.drifted, true);
  const clean = detectDrift(ref, emb(1500, 0), opts).multivariate!;
  assert.equal(clean.drifted, false, `clean: AUC ${clean.rocAuc}, p ${clean.pValue}`);
});
