// The champion's reference: which data a version is compared with, and at which prior.
import assert from "node:assert/strict";
import type { ModelVersion } from "../../../models/registry/registry.ts";
import { referenceAtPrior, referenceOf } from "../../../tasks/monitoring/champion.ts";

const version = (params: Record<string, unknown>) =>
  ({ name: "m", version: 3, params }) as unknown as ModelVersion;

Deno.test("referenceOf: the recorded reference, else the holdout, else the training data", () => {
  assert.deepEqual(referenceOf(version({ reference: { data: "sha256:r", positiveShare: 0.3 } })), {
    version: 3,
    reference: "sha256:r",
    kind: "holdout",
    positiveShare: 0.3,
  });
  assert.equal(referenceOf(version({ holdoutData: "sha256:h" })).reference, "sha256:h");
  assert.equal(referenceOf(version({ trainingData: "sha256:t" })).kind, "training");
  assert.throws(() => referenceOf(version({})), /m v3 records no reference data/);
});

Deno.test("referenceAtPrior: resamples to the recorded share; unchanged when it matches", () => {
  const n = 1000;
  const late = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? "yes" : "no"));
  const t = { x: Float64Array.from({ length: n }, (_, i) => i), late };
  assert.equal(referenceAtPrior(t, "late", "yes", 0.2, 1), t);
  assert.equal(referenceAtPrior(t, "late", "yes", null, 1), t);
  const moved = referenceAtPrior(t, "late", "yes", 0.5, 1);
  const share = (moved.late as string[]).filter((v) => v === "yes").length / n;
  assert.equal(share, 0.5);
  // a label shift: every row is one of the reference's rows
  const xs = moved.x as Float64Array;
  for (let i = 0; i < n; i++) assert.equal(late[xs[i]], (moved.late as string[])[i]);
});
