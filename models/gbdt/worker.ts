/**
 * A GBDT histogram worker: receives the shared training state once, then serves jobs until the
 * pool closes (see pool.ts).
 *
 * @example
 * ```ts
 * new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
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
