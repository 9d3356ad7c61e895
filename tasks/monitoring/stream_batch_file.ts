/**
 * `drift_monitoring`'s simulated batch: the next rows of the stream (drift events injected and
 * recorded) written as a Parquet file, or `done` when the stream has no rows left.
 *
 * @example
 * ```ts
 * import { writeStreamBatch } from "./stream_batch_file.ts";
 * import { writeParquet } from "../data/parquet.ts";
 * const dir = await Deno.makeTempDir();
 * await writeParquet(`${dir}/s.parquet`, { x: Float64Array.from({ length: 10 }, (_, i) => i) });
 * const p = { stream: `${dir}/s.parquet`, streamName: "s", batchSize: 4, batchDir: dir, events: [], seed: 0 };
 * const b = await writeStreamBatch({ params: p, log: () => {} }, 2);
 * if (b.done || b.rows !== 2) throw new Error("batch 2 holds the last two rows");
 * const end = await writeStreamBatch({ params: p, log: () => {} }, 3);
 * if (!end.done) throw new Error("the stream ends after three batches");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import { writeParquet } from "../data/parquet.ts";
import type { BatchTruth } from "../drift/inject.ts";
import { streamBatch } from "./batches.ts";
import type { StreamMonitorParams } from "./stream_params.ts";
import { batchPath } from "./stream_state.ts";
import type { TaskEnv } from "./task_env.ts";

/** The batch a run monitors (its file, truth and time range), or the stream's end. */
export type SimulatedBatch =
  | { done: true; index: number; rows: 0 }
  | {
    done: false;
    index: number;
    rows: number;
    path: string;
    truth: BatchTruth;
    from: string | null;
    to: string | null;
  };

type Params = Pick<
  StreamMonitorParams,
  "stream" | "streamName" | "batchSize" | "stride" | "window" | "batchDir" | "events" | "seed"
>;

/** Draws batch `index` of the stream and writes it under `batchDir`; logs what was injected. */
export async function writeStreamBatch(
  ctx: Pick<TaskEnv<Params>, "params" | "log">,
  index: number,
): Promise<SimulatedBatch> {
  const p = ctx.params;
  const b = await streamBatch({ ...p, index });
  if (!b) return { done: true as const, index, rows: 0 };
  await Deno.mkdir(p.batchDir, { recursive: true });
  const path = batchPath(p, index);
  await writeParquet(path, b.table);
  ctx.log(
    `rows ${b.start}..${b.end} → ${path}; injected: ${
      b.truth.events.map((e) => e.kind).join(", ") || "nothing"
    }`,
  );
  return {
    done: false as const,
    index,
    rows: b.rows,
    path,
    truth: b.truth,
    from: b.from,
    to: b.to,
  };
}
