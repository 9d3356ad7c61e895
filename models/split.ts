/**
 * The out-of-time split: the latest part of a window in time is held out, so the holdout is scored
 * on days the model never saw (a random split of the same weeks shares each day's weather between
 * training and holdout and flatters the model). By default the cut is always at a UTC day boundary
 * — the one leaving a holdout nearest the asked size with both sides non-empty — so no day is ever on
 * both sides; data from a single day is refused with a clear error (or cut by row with `align:
 * "none"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { outOfTimeSplit } from "./split.ts";
 * const day = 86_400_000;
 * const date = Float64Array.from({ length: 10 }, (_, i) => i * day);
 * const table = { date, x: new Float64Array(10) };
 * const { train, holdout, cutoff } = outOfTimeSplit(table, { timeColumn: "date", fraction: 0.2 });
 * assert.equal(holdout.x.length, 2); // the latest two days
 * assert.equal(train.x.length, 8);
 * assert.equal(cutoff, 8 * day);
 * ```
 */
import { z } from "zod";
import { type Column, rowCount, type Table, takeRows } from "./core/table.ts";

/** How to split. */
export const SplitOptions = z.object({
  /** The time column (epoch ms or ISO text); null = the table's row order is its time order. */
  timeColumn: z.string().nullable().default("date"),
  /** Share of rows held out (the latest). */
  fraction: z.number().gt(0).lt(1).default(0.2),
  /** Rows held out; overrides `fraction`. */
  rows: z.number().int().positive().optional(),
  /** "day": cut at the UTC day boundary nearest the asked size (never split a day); "none": exact. */
  align: z.enum(["day", "none"]).default("day"),
}).strict();
export type SplitOptions = z.input<typeof SplitOptions>;

const DAY = 86_400_000;

function times(col: Column, name: string): Float64Array {
  return Float64Array.from({ length: col.length }, (_, i) => {
    const v = col[i];
    const t = typeof v === "number" ? v : v === null ? NaN : Date.parse(v);
    if (!Number.isFinite(t)) {
      throw new RangeError(
        `out-of-time split: row ${i} of time column "${name}" is ${
          JSON.stringify(v)
        }, not a time (epoch ms or ISO date)`,
      );
    }
    return t;
  });
}

/** The split: training rows (earlier), holdout rows (latest), and the cut. */
export function outOfTimeSplit(table: Table, options: SplitOptions = {}): {
  train: Table;
  holdout: Table;
  /** First holdout time (epoch ms), or null when split by row order. */
  cutoff: number | null;
} {
  const o = SplitOptions.parse(options);
  const n = rowCount(table);
  const want = o.rows ?? Math.round(n * o.fraction);
  if (n < 2 || want < 1 || want >= n) {
    throw new RangeError(
      `out-of-time split: cannot hold out ${want} of ${n} rows (both sides need at least one row)`,
    );
  }
  if (o.timeColumn === null) {
    const idx = Array.from({ length: n }, (_, i) => i);
    return {
      train: takeRows(table, idx.slice(0, n - want)),
      holdout: takeRows(table, idx.slice(n - want)),
      cutoff: null,
    };
  }
  const col = table[o.timeColumn];
  if (col === undefined) {
    throw new RangeError(
      `out-of-time split: the data has no time column "${o.timeColumn}" (it has ${
        Object.keys(table).join(", ")
      }); name the time column, or pass timeColumn: null to hold out the last rows in file order`,
    );
  }
  const t = times(col, o.timeColumn);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => t[a] - t[b] || a - b);
  const sorted = order.map((i) => t[i]);
  // rows at or after `cut` are held out; count them by binary search on the sorted times
  const countFrom = (cut: number) => {
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < cut) lo = mid + 1;
      else hi = mid;
    }
    return n - lo;
  };
  let cutoff = sorted[n - want];
  if (o.align === "day") {
    // every UTC midnight after the first row's day is a cut leaving both sides non-empty: take the
    // one whose holdout is nearest the asked size (the earlier on a tie)
    let best: { c: number; k: number } | undefined;
    for (let day = Math.floor(sorted[0] / DAY) * DAY + DAY; day <= sorted[n - 1]; day += DAY) {
      const k = countFrom(day);
      if (best === undefined || Math.abs(k - want) < Math.abs(best.k - want)) best = { c: day, k };
    }
    if (best === undefined) {
      throw new RangeError(
        `out-of-time split: every row of "${o.timeColumn}" is on one UTC day (${
          new Date(sorted[0]).toISOString().slice(0, 10)
        }), so no day boundary can separate training from holdout; give data from at least two days, or pass align: "none" to cut within the day`,
      );
    }
    cutoff = best.c;
  }
  const k = countFrom(cutoff);
  if (k < 1 || k >= n) {
    throw new RangeError(
      `out-of-time split: every row of "${o.timeColumn}" has the same time; nothing to hold out`,
    );
  }
  return {
    train: takeRows(table, order.slice(0, n - k)),
    holdout: takeRows(table, order.slice(n - k)),
    cutoff,
  };
}
