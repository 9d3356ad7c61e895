/**
 * Where `drift_monitoring` is in its stream: the batch a run takes (one past the previous run's),
 * where each batch is written, the state a run leaves for the next, and the batches a retraining
 * may learn from (those whose labels have landed).
 *
 * @example
 * ```ts
 * import { batchPath, labelledBatches, nextStreamState, savedStreamState } from "./stream_state.ts";
 * const state = nextStreamState({ index: 2, batches: ["b0", "b1", "b2"] }, { log: () => {} });
 * const path = batchPath({ batchDir: "data/batches", streamName: "flights" }, state.index);
 * if (path !== "data/batches/flights-batch-0003.parquet") throw new Error(path);
 * const saved = savedStreamState(state, { done: false, path });
 * if (labelledBatches(saved.batches, 1).length !== 3) throw new Error("one batch awaits labels");
 * ```
 */

/** The batch a run works on and the batches written before it, in order. */
export interface StreamState {
  index: number;
  batches: string[];
}

/**
 * The state of this run: batch 0 with nothing before it when there is no previous state (the first
 * run, or `restart`), else the batch after the previous run's. Logs the batch's index.
 */
export function nextStreamState(
  prior: StreamState | undefined,
  ctx: { log(...args: unknown[]): void },
): StreamState {
  const state = prior
    ? { index: prior.index + 1, batches: prior.batches }
    : { index: 0, batches: [] };
  ctx.log(`batch ${state.index}`);
  return state;
}

/** Where batch `index` of a stream is written: `<batchDir>/<streamName>-batch-0007.parquet`. */
export function batchPath(p: { batchDir: string; streamName: string }, index: number): string {
  return `${p.batchDir}/${p.streamName}-batch-${String(index).padStart(4, "0")}.parquet`;
}

/** The state a run leaves for the next: its batch appended when the stream had one. */
export function savedStreamState(
  state: StreamState,
  batch: { done: true } | { done: false; path: string },
): StreamState {
  return {
    index: state.index,
    batches: batch.done ? state.batches : [...state.batches, batch.path],
  };
}

/**
 * The batches a retraining may use: all but the latest `labelsDelay`, whose labels have not landed
 * yet (all of them when labelsDelay is 0).
 */
export function labelledBatches(batches: readonly string[], labelsDelay: number): string[] {
  return batches.slice(0, Math.max(0, batches.length - labelsDelay));
}
