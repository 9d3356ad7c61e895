/**
 * The batches `drift_monitoring` reads from a stream file: batch k starts at k·stride rows and is
 * drawn (seeded) from a window of rows (stride defaults to the window), with the scheduled drift
 * events injected and recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeParquet } from "../data/parquet.ts";
 * import type { DriftEvent } from "../drift/inject.ts";
 * import { streamBatch } from "./batches.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const day = 86_400_000;
 *   const stream = `${dir}/stream.parquet`; // 100 rows in time order
 *   await writeParquet(stream, {
 *     date: Float64Array.from({ length: 100 }, (_, i) => i * day),
 *     distance: Float64Array.from({ length: 100 }, (_, i) => 100 + (i % 10) * 100),
 *   });
 *   const events: DriftEvent[] = [
 *     { atBatch: 3, drift: { kind: "mean_shift", column: "distance", k: 1 } },
 *   ];
 *   const b = await streamBatch({ stream, index: 3, batchSize: 20, events });
 *   assert.ok(b !== null);
 *   assert.deepEqual([b.start, b.end, b.rows], [60, 80, 20]); // batch k starts at k·20 rows
 *   assert.equal(b.truth.drifted, true); // the scheduled shift, recorded
 *   assert.equal(b.from?.slice(0, 10), "1970-03-02"); // day 60
 *   assert.equal(await streamBatch({ stream, index: 5, batchSize: 20 }), null); // past the end
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { parquetRowCount, readParquet } from "../data/parquet.ts";
import { rowCount, sampleRows, type Table } from "../../models/core/table.ts";
import { applyEvents, type BatchTruth, type DriftEvent } from "../drift/inject.ts";

/** Where batch `index` comes from. */
export interface StreamBatchOptions {
  stream: string;
  index: number;
  batchSize: number;
  /** Rows between batch starts (default: the window — batches do not overlap). */
  stride?: number;
  /** Rows a batch is drawn from, sampled down to batchSize (default and at least batchSize). */
  window?: number;
  events?: DriftEvent[];
  seed?: number;
}

/** A batch with its ground truth and time range. */
export interface StreamBatch {
  table: Table;
  truth: BatchTruth;
  rows: number;
  start: number;
  end: number;
  from: string | null;
  to: string | null;
}

/** Batch `index` of the stream, or null when the stream has no rows there. */
export async function streamBatch(o: StreamBatchOptions): Promise<StreamBatch | null> {
  const total = await parquetRowCount(o.stream);
  const window = Math.max(o.window ?? o.batchSize, o.batchSize);
  const start = o.index * (o.stride ?? window);
  if (start >= total) return null;
  const end = Math.min(total, start + window);
  const slice = (await readParquet(o.stream, { rowStart: start, rowEnd: end })).table;
  const seed = o.seed ?? 0;
  const raw = sampleRows(slice, o.batchSize, seed * 7919 + o.index);
  const { table, truth } = applyEvents(raw, o.events ?? [], o.index, seed);
  const dates = table.date as Float64Array | undefined;
  const iso = (i: number) => (dates && dates.length ? new Date(dates[i]).toISOString() : null);
  return {
    table,
    truth,
    rows: rowCount(table),
    start,
    end,
    from: iso(0),
    to: dates ? iso(dates.length - 1) : null,
  };
}
