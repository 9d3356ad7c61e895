import assert from "node:assert/strict";
import { detectDrift, type DriftOptions } from "../../../tasks/drift/detect.ts";
import { compareInParallel, decodeOutcome, encodeOutcome } from "../../../tasks/drift/parallel.ts";
import { compareSamples } from "../../../tasks/drift/column_compare.ts";
import { NumericSample } from "../../../tasks/drift/sample.ts";
import type { DriftReport } from "../../../tasks/drift/schema.ts";
import type { Table } from "../../../models/core/table.ts";
import { Random } from "../../../models/core/random.ts";

/** Numeric columns of several shapes (missing values, few values, none left), labels and text. */
function makeTable(n: number, seed: number, shift: number): Table {
  const rng = new Random(seed);
  const t: Record<string, Float64Array | (string | null)[]> = {};
  for (let c = 0; c < 5; c++) {
    t[`x${c}`] = Float64Array.from(
      { length: n },
      () => (rng.next() < 0.02 ? NaN : rng.normal() * (c + 1) + shift * (c % 2)),
    );
  }
  t.few = Float64Array.from({ length: n }, () => rng.int(4) + (rng.next() < shift / 2 ? 1 : 0));
  t.ints = Float64Array.from({ length: n }, () => Math.round(rng.normal() * 3));
  t.none = new Float64Array(n).fill(NaN);
  t.cat = Array.from({ length: n }, () => (rng.next() < 0.01 ? null : ["a", "b", "c"][rng.int(3)]));
  return t;
}

const withoutTime = (r: DriftReport) => ({ ...r, createdAt: "" });

for (const preset of ["default", "evidently"] as const) {
  Deno.test(`detectDrift with the column worker gives the sequential report (${preset})`, () => {
    const ref = makeTable(3000, 1, 0), cur = makeTable(5000, 2, 0.2);
    const opts: DriftOptions = { preset, extraTests: ["anderson", "psi"] };
    const sequential = detectDrift(ref, cur, { ...opts, parallel: false });
    const parallel = detectDrift(ref, cur, { ...opts, parallel: true, parallelMinValues: 0 });
    assert.deepStrictEqual(withoutTime(parallel), withoutTime(sequential));
    assert.ok(sequential.skipped.some((s) => s.column === "none"));
  });
}

Deno.test("detectDrift with the column worker throws the first column's error, as sequentially", () => {
  const ref = makeTable(500, 3, 0), cur = makeTable(500, 4, 0);
  const opts: DriftOptions = { columns: { x1: { test: "z" }, x3: { test: "z" } } };
  const message = /column "x1" has more than two values; the z test needs a binary column/;
  assert.throws(() => detectDrift(ref, cur, { ...opts, parallel: false }), message);
  assert.throws(
    () => detectDrift(ref, cur, { ...opts, parallel: true, parallelMinValues: 0 }),
    message,
  );
});

Deno.test("outcomes cross threads with NaN, infinities and errors intact", () => {
  const o = decodeOutcome(
    encodeOutcome({ reason: "x", a: [NaN, Infinity, -Infinity, 1.5, null] } as never),
  ) as unknown as { a: unknown[] };
  assert.deepStrictEqual(o.a, [NaN, Infinity, -Infinity, 1.5, null]);
  const e = decodeOutcome(encodeOutcome({ error: new RangeError("too few") }));
  assert.ok("error" in e && e.error instanceof RangeError && e.error.message === "too few");
});

Deno.test("the column worker compares numeric columns as this thread does", () => {
  const ref = makeTable(2000, 5, 0), cur = makeTable(3000, 6, 0.3);
  const names = ["x0", "x1", "x2", "few", "ints", "none"];
  const opts = {
    preset: "default" as const,
    alpha: 0.05,
    quality: true,
    histograms: true,
    extraTests: ["wasserstein" as const],
  };
  const tasks = names.map((name) => ({
    name,
    ref: ref[name] as Float64Array,
    cur: cur[name] as Float64Array,
    col: {},
  }));
  const notHere = (): never => {
    throw new Error("every numeric column is the worker's here");
  };
  const outcomes = compareInParallel(tasks, [], notHere, notHere, { nRef: 2000, opts }, {
    share: false,
    timeoutMs: 60_000,
  });
  assert.ok(outcomes, "the worker starts");
  const expected = tasks.map((t) =>
    compareSamples(
      t.name,
      { kind: "numeric", ref: NumericSample.from(t.ref), cur: NumericSample.from(t.cur) },
      { ref: t.ref.length, cur: t.cur.length },
      t.col,
      2000,
      opts,
    )
  );
  assert.deepStrictEqual(outcomes, expected);
});
