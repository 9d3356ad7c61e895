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

Deno.test("referenceAtPrior: adds rows of the growing class to the recorded share; keeps every row", () => {
  const n = 1000;
  const late = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? "yes" : "no"));
  const t = { x: Float64Array.from({ length: n }, (_, i) => i), late };
  assert.equal(referenceAtPrior(t, "late", "yes", 0.2, 1), t);
  assert.equal(referenceAtPrior(t, "late", "yes", null, 1), t);
  const share = (u: typeof t | ReturnType<typeof referenceAtPrior>) =>
    (u.late as string[]).filter((v) => v === "yes").length / (u.late as string[]).length;
  for (const q of [0.5, 0.1]) {
    const moved = referenceAtPrior(t, "late", "yes", q, 1);
    assert.ok(Math.abs(share(moved) - q) < 1e-3, `${share(moved)} vs ${q}`);
    const xs = moved.x as Float64Array;
    // the original rows first, all of them; the added ones are copies of the growing class
    for (let i = 0; i < n; i++) assert.equal(xs[i], i);
    for (let i = n; i < xs.length; i++) {
      assert.equal((moved.late as string[])[i], q > 0.2 ? "yes" : "no");
      assert.equal(late[xs[i]], (moved.late as string[])[i]);
    }
  }
});
