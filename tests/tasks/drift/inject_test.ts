import assert from "node:assert/strict";
import { detectDrift } from "../../../tasks/drift/detect.ts";
import {
  type BatchStreamOptions,
  injectDrift,
  temporalBatches,
} from "../../../tasks/drift/inject.ts";
import type { Table } from "../../../models/core/table.ts";
import { Random } from "../../../models/core/random.ts";

function base(n = 4000, seed = 1): Table {
  const rng = new Random(seed);
  const x = new Float64Array(n), z = new Float64Array(n), y = new Float64Array(n);
  const cat: string[] = [], t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x[i] = rng.normal() * 2 + 10;
    z[i] = rng.normal();
    y[i] = x[i] - 10 + z[i] > 0 ? 1 : 0;
    cat.push(rng.next() < 0.7 ? "red" : rng.next() < 0.5 ? "green" : "blue");
    t[i] = n - i; // stored newest first
  }
  return { x, z, y, cat, t };
}

const mean = (a: Float64Array) =>
  a.reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0) / a.length;
const share = (a: ArrayLike<unknown>, v: unknown) =>
  Array.from(a).filter((x) => x === v).length / a.length;

Deno.test("injection is reproducible: same seed, same output; another seed differs", () => {
  const t = base();
  const a = injectDrift(t, { kind: "noise", column: "x", k: 1 }, { seed: 5 });
  const b = injectDrift(t, { kind: "noise", column: "x", k: 1 }, { seed: 5 });
  const c = injectDrift(t, { kind: "noise", column: "x", k: 1 }, { seed: 6 });
  assert.deepEqual(a.table.x, b.table.x);
  assert.notDeepEqual(a.table.x, c.table.x);
  assert.deepEqual(t.x, base().x, "the input is not changed");
});

Deno.test("covariate injections do what their truth says", () => {
  const t = base();
  const shifted = injectDrift(t, { kind: "mean_shift", column: "x", k: 1.5 });
  assert.ok(Math.abs(mean(shifted.table.x as Float64Array) - mean(t.x as Float64Array) - 3) < 0.1);
  assert.equal(shifted.truth.family, "covariate");
  assert.equal(shifted.truth.rowsAffected, 4000);
  const scaled = injectDrift(t, { kind: "variance_scale", column: "x", factor: 2 });
  assert.ok(Math.abs((scaled.truth.details.factor as number) - 2) < 1e-12);
  const missing = injectDrift(t, { kind: "missing", column: "cat", share: 0.1 }, { seed: 2 });
  assert.equal(share(missing.table.cat, null), missing.truth.rowsAffected / 4000);
  const outliers = injectDrift(t, { kind: "outliers", column: "x", share: 0.01, k: 8 }, {
    seed: 3,
  });
  const far =
    Array.from(outliers.table.x as Float64Array).filter((v) => Math.abs(v - 10) > 14).length;
  assert.equal(far, outliers.truth.rowsAffected);
  const swap = injectDrift(t, { kind: "category_swap", column: "cat", a: "red", b: "blue" });
  assert.equal(share(swap.table.cat, "blue"), share(t.cat, "red"));
  const unseen = injectDrift(t, { kind: "unseen_category", column: "cat", share: 0.05 }, {
    seed: 4,
  });
  assert.equal(share(unseen.table.cat, "__unseen__"), unseen.truth.rowsAffected / 4000);
  assert.throws(
    () => injectDrift(t, { kind: "mean_shift", column: "cat", k: 1 }),
    /must be numeric/,
  );
  assert.throws(
    () => injectDrift(t, { kind: "mean_shift", column: "nope", k: 1 }),
    /no column "nope"/,
  );
});

Deno.test("prior and concept injections change labels, not features", () => {
  const t = base();
  const prior = injectDrift(t, { kind: "prior_shift", target: "y", positiveShare: 0.8 }, {
    seed: 1,
  });
  assert.ok(Math.abs(share(prior.table.y, 1) - 0.8) < 1e-3);
  assert.equal(prior.truth.family, "prior");
  const flip = injectDrift(t, {
    kind: "label_flip",
    target: "y",
    column: "x",
    min: 11,
    max: 100,
    positiveShare: "free",
  });
  assert.deepEqual(flip.table.x, t.x);
  for (let i = 0; i < 4000; i++) {
    const x = (t.x as Float64Array)[i];
    const changed = (flip.table.y as Float64Array)[i] !== (t.y as Float64Array)[i];
    assert.equal(changed, x >= 11, `row ${i}`);
  }
  const rot = injectDrift(t, {
    kind: "boundary_rotation",
    target: "y",
    features: ["x", "z"],
    degrees: 90,
  });
  assert.ok(rot.truth.rowsAffected > 1000, `rotated 90°: ${rot.truth.rowsAffected} labels changed`);
  const none = injectDrift(t, {
    kind: "boundary_rotation",
    target: "y",
    features: ["x", "z"],
    degrees: 0,
  });
  assert.ok(none.truth.rowsAffected < 200, `0°: ${none.truth.rowsAffected} changed`);
  const rule = injectDrift(t, {
    kind: "rule_replacement",
    target: "y",
    column: "z",
    threshold: 0,
    positiveShare: "free",
  });
  assert.equal(rule.truth.family, "concept");
  for (let i = 0; i < 50; i++) {
    assert.equal((rule.table.y as Float64Array)[i], (t.z as Float64Array)[i] > 0 ? 1 : 0);
  }
});

/** A flights-like batch: 19.5 % positives, two weak numeric features, string labels. */
function lateBatch(n = 5000, seed = 3): Table {
  const rng = new Random(seed);
  const distance = new Float64Array(n), hour = new Float64Array(n);
  const late: (string | null)[] = [];
  for (let i = 0; i < n; i++) {
    distance[i] = 200 + rng.next() * 2200;
    hour[i] = 5 + rng.int(18);
    const z = -0.8 + 0.08 * (hour[i] - 13) + (distance[i] - 1300) / 5000 + rng.normal() * 0.9;
    late.push(z > 0 ? "yes" : "no");
  }
  return { distance, hour, late };
}

Deno.test("label changes keep the positive share by default, and record their magnitude", () => {
  const t = lateBatch();
  const before = share(t.late, "yes");
  assert.ok(before > 0.1 && before < 0.3, `base rate ${before}`);
  for (const degrees of [0, 30, 90, 180]) {
    const rot = injectDrift(t, {
      kind: "boundary_rotation",
      target: "late",
      features: ["distance", "hour"],
      degrees,
    }, { seed: 4 });
    const after = share(rot.table.late, "yes");
    assert.equal(after, before, `${degrees}°: the positive share is kept exactly`);
    assert.equal(rot.truth.magnitude, degrees);
    assert.equal(rot.truth.unit, "degrees");
    assert.equal(rot.truth.details.positiveShareBefore, before);
    assert.equal(rot.truth.details.positiveShare, after);
    assert.equal(rot.truth.details.labelsChanged, rot.truth.rowsAffected / 5000);
    if (degrees === 0) assert.equal(rot.truth.rowsAffected, 0, "0° changes nothing");
    else assert.ok(rot.truth.rowsAffected > 50, `${degrees}°: ${rot.truth.rowsAffected} changed`);
  }
  // more rotation, more labels changed
  const changed = [15, 45, 90, 180].map((degrees) =>
    injectDrift(t, {
      kind: "boundary_rotation",
      target: "late",
      features: ["distance", "hour"],
      degrees,
    }, { seed: 4 }).truth.rowsAffected
  );
  assert.ok(changed.every((c, i) => i === 0 || c > changed[i - 1]), changed.join(" < "));
  // asked otherwise: a number sets the share; "free" lets the rotated rule decide
  const half = injectDrift(t, {
    kind: "boundary_rotation",
    target: "late",
    features: ["distance", "hour"],
    degrees: 45,
    positiveShare: 0.5,
  });
  assert.equal(share(half.table.late, "yes"), 0.5);
  const flip = injectDrift(t, {
    kind: "label_flip",
    target: "late",
    column: "distance",
    min: 1800,
  }, { seed: 1 });
  assert.equal(share(flip.table.late, "yes"), before);
  assert.ok((flip.truth.details.compensated as number) > 0);
  assert.equal(flip.truth.magnitude, flip.truth.rowsAffected / 5000);
  const free = injectDrift(t, {
    kind: "label_flip",
    target: "late",
    column: "distance",
    min: 1800,
    positiveShare: "free",
  }, { seed: 1 });
  assert.ok(share(free.table.late, "yes") > before + 0.1, "flipping a region moves the share");
  const rule = injectDrift(t, { kind: "rule_replacement", target: "late", column: "hour" });
  assert.equal(share(rule.table.late, "yes"), before);
  const thr = rule.truth.details.threshold as number;
  const hour = t.hour as Float64Array, late = rule.table.late as string[];
  for (let i = 0; i < 5000; i++) {
    if (hour[i] > thr) assert.equal(late[i], "yes", `row ${i}: hour ${hour[i]} > cut ${thr}`);
    if (hour[i] < thr) assert.equal(late[i], "no", `row ${i}: hour ${hour[i]} < cut ${thr}`);
  }
  assert.throws(
    () =>
      injectDrift(t, { kind: "rule_replacement", target: "late", column: "hour", threshold: 3 }),
    /sets the positive share itself; pass positiveShare: "free"/,
  );
  const prior = injectDrift(t, { kind: "prior_shift", target: "late", positiveShare: 0.4 });
  assert.ok(Math.abs(prior.truth.magnitude - (0.4 - before)) < 1e-3);
});

Deno.test("an injection that would leave one class only fails, saying so", () => {
  const t = lateBatch(2000);
  // the old behaviour of a rotation at a 19.5 % base rate: the rule alone gives every row "no"
  assert.throws(
    () =>
      injectDrift(t, {
        kind: "rule_replacement",
        target: "late",
        column: "hour",
        threshold: 100,
        positiveShare: "free",
      }),
    /labels would all be "no" \(2000 rows\); a binary target needs both classes/,
  );
  assert.throws(
    () =>
      injectDrift(t, {
        kind: "boundary_rotation",
        target: "late",
        features: ["distance", "hour"],
        degrees: 30,
        positiveShare: 0,
      }),
    /labels would all be "no"/,
  );
  assert.throws(
    () => injectDrift(t, { kind: "prior_shift", target: "late", positiveShare: 1 }),
    /labels would all be "yes"/,
  );
  const oneClass = { ...t, late: (t.late as string[]).map(() => "no") };
  assert.throws(
    () =>
      injectDrift(oneClass, {
        kind: "boundary_rotation",
        target: "late",
        features: ["distance", "hour"],
        degrees: 30,
      }),
    /one class only/,
  );
});

Deno.test("temporalBatches: time order, sudden / gradual / incremental / recurring patterns", () => {
  const t = base(2000);
  const options: BatchStreamOptions = {
    batchSize: 100,
    timeColumn: "t",
    seed: 9,
    events: [
      { atBatch: 4, drift: { kind: "mean_shift", column: "x", k: 2 } },
      {
        atBatch: 8,
        pattern: "incremental",
        duration: 4,
        drift: { kind: "noise", column: "z", k: 3 },
      },
      {
        atBatch: 10,
        pattern: "gradual",
        duration: 5,
        drift: { kind: "unseen_category", column: "cat", share: 1 },
      },
      {
        atBatch: 2,
        pattern: "recurring",
        duration: 1,
        period: 5,
        drift: { kind: "missing", column: "z", share: 0.5 },
      },
    ],
  };
  const batches = [...temporalBatches(t, options)];
  assert.equal(batches.length, 20);
  assert.equal((batches[0].table.t as Float64Array)[0], 1, "sorted by time");
  assert.equal(batches[3].truth.drifted, false);
  const active = (b: number, kind: string) => batches[b].truth.events.find((e) => e.kind === kind);
  assert.ok(!active(3, "mean_shift") && active(4, "mean_shift") && active(19, "mean_shift"));
  assert.deepEqual([8, 9, 10, 11, 12].map((b) => active(b, "noise")?.intensity), [
    0.25,
    0.5,
    0.75,
    1,
    1,
  ]);
  assert.deepEqual([10, 12, 14].map((b) => active(b, "unseen_category")?.mixing), [0.2, 0.6, 1]);
  const unseen = [10, 12, 14].map((b) => share(batches[b].table.cat, "__unseen__"));
  assert.ok(unseen[0] < unseen[1] && unseen[1] < unseen[2] && unseen[2] === 1, `${unseen}`);
  assert.deepEqual(
    batches.map((b) => active(b.index, "missing") ? b.index : -1).filter((i) => i >= 0),
    [2, 7, 12, 17],
  );
  const again = [...temporalBatches(t, options)];
  assert.deepEqual(
    again.map((b) => b.table),
    batches.map((b) => b.table),
    "same seed, same stream",
  );
  // a monitor catches the sudden shift from its batch on and not before
  const ref = batches[0].table;
  const drifted = batches.map((b) => detectDrift(ref, b.table, { only: ["x"] }).columns[0].drifted);
  assert.deepEqual(drifted.slice(1, 4), [false, false, false]);
  assert.ok(drifted.slice(4).every(Boolean));
  assert.throws(
    () =>
      temporalBatches(t, {
        batchSize: 10,
        events: [{ atBatch: 1, pattern: "recurring", drift: { kind: "noise", column: "z", k: 1 } }],
      }).next(),
    /recurring event needs a period/,
  );
});
