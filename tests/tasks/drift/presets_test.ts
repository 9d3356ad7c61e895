import assert from "node:assert/strict";
import { detectDrift, detectDriftPresets, type DriftOptions } from "../../../tasks/drift/detect.ts";
import type { DriftReport } from "../../../tasks/drift/schema.ts";
import type { Table } from "../../../models/core/table.ts";
import { Random } from "../../../models/core/random.ts";

/** Numeric (missing values, few values, none left), categorical, text, id, label and score. */
function makeTable(n: number, seed: number, shift: number): Table {
  const rng = new Random(seed);
  const words = ["late", "gate", "storm", "crew", "delay", "fuel", "snow", "wind", "on", "time"];
  const score = Float64Array.from({ length: n }, () => rng.next());
  return {
    x: Float64Array.from({ length: n }, () => (rng.next() < 0.02 ? NaN : rng.normal() + shift)),
    few: Float64Array.from({ length: n }, () => rng.int(3) + (rng.next() < shift ? 1 : 0)),
    none: new Float64Array(n).fill(NaN),
    cat: Array.from({ length: n }, () => (rng.next() < 0.01 ? null : ["a", "b", "c"][rng.int(3)])),
    note: Array.from(
      { length: n },
      () =>
        Array.from({ length: 8 }, () => words[rng.int(words.length - (shift ? 0 : 3))]).join(" "),
    ),
    user_id: Array.from({ length: n }, (_, i) => `u${seed}-${i}`),
    late: Array.from(score, (p) => (rng.next() < p - shift / 4 ? "yes" : "no")),
    p_late: score,
  };
}

const withoutTime = (r: DriftReport) => ({ ...r, createdAt: "" });

Deno.test("detectDriftPresets gives each preset's detectDrift report from one pass", () => {
  const ref = makeTable(1500, 1, 0), cur = makeTable(1200, 2, 0.3);
  const options: Omit<DriftOptions, "preset"> = {
    target: "late",
    prediction: "p_late",
    extraTests: ["psi", "anderson"],
    bootstrapRounds: 20,
  };
  const both = detectDriftPresets(ref, cur, ["default", "evidently"], options);
  const one = (preset: "default" | "evidently") => detectDrift(ref, cur, { ...options, preset });
  assert.deepStrictEqual(
    both.map(withoutTime),
    [one("default"), one("evidently")].map(withoutTime),
  );
  assert.deepStrictEqual(detectDriftPresets(ref, cur, []), []);
});

Deno.test("detectDriftPresets throws the error detectDrift throws", () => {
  const ref = makeTable(300, 3, 0), cur = makeTable(300, 4, 0);
  const options = { columns: { x: { test: "z" as const } } };
  const message = /column "x" has more than two values; the z test needs a binary column/;
  assert.throws(() => detectDrift(ref, cur, options), message);
  assert.throws(() => detectDriftPresets(ref, cur, ["evidently", "default"], options), message);
});
