/**
 * The stream's ROC AUC history for the drift report's chart, read from its monitoring rows:
 * per batch of the latest pass, CBPE's estimate with its interval, the realized value (once the
 * labels landed) and the sequential alarms raised there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { aucHistory } from "./auc_history.ts";
 * import { MonitoringTable } from "./metrics_table.ts";
 * const db = await openPglite(); // in memory
 * try {
 *   const table = await MonitoringTable.open(db);
 *   await table.insert({
 *     dagId: "drift_monitoring",
 *     runId: 1,
 *     stream: "flights",
 *     batch: 6,
 *     rows: 5000,
 *     metrics: {
 *       roc_auc: {
 *         reference: 0.71,
 *         realized: 0.7,
 *         estimated: 0.72,
 *         estimatedInterval: [0.7, 0.74],
 *       },
 *     },
 *     details: { sequential: { alarms: ["prediction"] } },
 *   });
 *   const history = aucHistory(await table.list("flights"), {
 *     batch: 7, // the batch being reported, not stored yet
 *     estimated: 0.71,
 *     ciLow: 0.69,
 *     ciHigh: 0.73,
 *     realized: null,
 *     alarms: [],
 *   });
 *   assert.deepEqual(history.map((p) => p.batch), [6, 7]);
 *   assert.deepEqual(history[0].alarms, ["prediction"]);
 *   assert.equal(history[0].ciLow, 0.7);
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import { z } from "zod";
import type { AucHistoryPoint } from "../drift/auc_history_svg.tsx";
import { latestPass } from "./document.ts";
import type { MetricsRow } from "./metrics_table.ts";

const Auc = z.object({
  estimated: z.number().nullable().optional(),
  estimatedInterval: z.tuple([z.number(), z.number()]).optional(),
  realized: z.number().nullable().optional(),
});
const Alarms = z.object({ alarms: z.array(z.string()) });

/** One row as a history point (nulls where the row has no estimate or no labels yet). */
function aucPoint(row: Pick<MetricsRow, "batch" | "metrics" | "details">): AucHistoryPoint {
  const auc = Auc.safeParse(row.metrics.roc_auc);
  const seq = Alarms.safeParse(row.details.sequential);
  const m = auc.success ? auc.data : {};
  return {
    batch: row.batch,
    estimated: m.estimated ?? null,
    ciLow: m.estimatedInterval?.[0] ?? null,
    ciHigh: m.estimatedInterval?.[1] ?? null,
    realized: m.realized ?? null,
    alarms: seq.success ? seq.data.alarms : [],
  };
}

/**
 * The latest pass's batches before `current.batch`, then `current` (the batch being reported,
 * not yet stored), oldest first.
 */
export function aucHistory(
  rows: readonly MetricsRow[],
  current?: AucHistoryPoint,
): AucHistoryPoint[] {
  const past = latestPass(rows)
    .filter((r) => current === undefined || r.batch < current.batch)
    .map(aucPoint);
  return current ? [...past, current] : past;
}
