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

globalThis.addEventListener("message", (e: Event) => {
  const { state, ctrl, index, threads } = (e as MessageEvent<WorkerInit>).data;
  serve(state, ctrl, index, threads);
  globalThis.close();
}, { once: true });
