/**
 * The x-axis the drift charts share: batches by date (the start of each batch) when every batch
 * has one, else by batch number, with about n labelled ticks each on a batch.
 *
 * @example
 * ```ts
 * import { batchAxis } from "./batch_axis.ts";
 * import type { DriftRow } from "../services/monitoring_data.ts";
 *
 * function xOf(rows: DriftRow[], width: number) {
 *   const axis = batchAxis(rows);
 *   return { x: (i: number) => axis.at(i) * width, ticks: axis.ticks, title: axis.title };
 * }
 * ```
 */
import type { DriftRow } from "../services/monitoring_data.ts";

const DAY_MS = 86_400_000;

/**
 * The x-axis: by batch date (the batch's `from`) when every batch has one, else by batch number.
 * Returns each batch's position in [0, 1] and about `n` labelled ticks, each on a batch.
 */
export function batchAxis(rows: DriftRow[], n = 8): {
  at: (i: number) => number;
  ticks: { pos: number; label: string }[];
  title: string;
} {
  const times = rows.map((r) => (r.from ? Date.parse(r.from) : NaN));
  if (rows.length > 0 && times.every((t) => Number.isFinite(t))) {
    const lo = Math.min(...times), hi = Math.max(...times);
    const span = Math.max(hi - lo, DAY_MS);
    // ticks sit on batches (every few), so a label names a point's own date
    const every = Math.max(1, Math.ceil(rows.length / n));
    const ticks = times.flatMap((t, i) =>
      i % every === 0
        ? [{ pos: (t - lo) / span, label: new Date(t).toISOString().slice(0, 10) }]
        : []
    );
    return { at: (i) => (times[i] - lo) / span, ticks, title: "batch date (start of batch)" };
  }
  const last = Math.max(1, rows.length - 1);
  const every = Math.max(1, Math.ceil(rows.length / n));
  return {
    at: (i) => i / last,
    ticks: rows.flatMap((r, i) =>
      i % every === 0 ? [{ pos: i / last, label: String(r.batch) }] : []
    ),
    title: "batch",
  };
}
