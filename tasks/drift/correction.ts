/**
 * Multiple-testing corrections: adjusted p-values for a family of tests, so a verdict "adjusted
 * p < α" controls the family-wise error rate (Bonferroni, Holm) or the false discovery rate
 * (Benjamini–Hochberg) at α. Hand-written because it is a few lines (the npm packages that offer it
 * are unmaintained); it follows R's `p.adjust` exactly.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adjustPValues } from "./correction.ts";
 * assert.deepEqual(adjustPValues([0.01, 0.04, 0.03], "holm"), [0.03, 0.06, 0.06]);
 * assert.deepEqual(adjustPValues([0.01, 0.04, 0.03], "bh"), [0.03, 0.04, 0.04]);
 * ```
 */
import { z } from "zod";

/** A multiple-testing correction; `none` tests each check at α on its own. */
export const Correction = z.enum(["holm", "bonferroni", "bh", "none"]);
export type Correction = z.infer<typeof Correction>;

/** The error rate a correction controls at α. */
export const ERROR_RATE: Record<Correction, string> = {
  holm: "family-wise error rate (Holm)",
  bonferroni: "family-wise error rate (Bonferroni)",
  bh: "false discovery rate (Benjamini–Hochberg)",
  none: "per-test error rate (no correction)",
};

/** Adjusted p-values in the order given (as R's `p.adjust`); NaN counts as 1. */
export function adjustPValues(pValues: readonly number[], method: Correction): number[] {
  const m = pValues.length;
  const p = pValues.map((v) => (Number.isNaN(v) ? 1 : Math.min(1, Math.max(0, v))));
  if (method === "none" || m === 0) return p;
  if (method === "bonferroni") return p.map((v) => Math.min(1, v * m));
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b] || a - b);
  const out = new Array<number>(m);
  if (method === "holm") {
    let running = 0;
    order.forEach((idx, rank) => {
      running = Math.max(running, Math.min(1, (m - rank) * p[idx]));
      out[idx] = running;
    });
    return out;
  }
  // Benjamini–Hochberg step-up: adj_(i) = min_{j ≥ i} m·p_(j)/j
  let running = 1;
  for (let rank = m - 1; rank >= 0; rank--) {
    const idx = order[rank];
    running = Math.min(running, (m * p[idx]) / (rank + 1));
    out[idx] = Math.min(1, running);
  }
  return out;
}
