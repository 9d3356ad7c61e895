/**
 * A GBDT histogram worker: receives the shared training state once, then serves jobs until the
 * pool closes (see pool.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lastPoolStats } from "./pool.ts";
 * import { trainGbdt } from "./train.ts";
 * // WorkerPool.start runs this module as a Worker; a training with `threads: 2` starts one
 * const x = Float64Array.from({ length: 400 }, (_, i) => i % 7);
 * const y = x.map((v) => (v > 3 ? 1 : 0));
 * trainGbdt({ features: [x], labels: [y], objective: "binary" }, { nEstimators: 5, threads: 2 });
 * assert.equal(lastPoolStats()?.threads, 2);
 * ```
 */
import { serve, type WorkerInit } from "./pool.ts";

/** The worker scope's parts used here (typed locally: the project compiles with the window lib). */
const scope = globalThis as unknown as {
  onmessage: ((e: MessageEvent<WorkerInit>) => void) | null;
  close(): void;
};

scope.onmessage = (e) => {
  scope.onmessage = null;
  const { state, ctrl } = e.data;
  serve(state, ctrl);
  scope.close();
};
