/**
 * The demo's data preparation on a thread of its own (a Deno Worker): on a fresh clone the demo
 * prepares the data here while the main thread opens the store (PGlite's first start runs initdb)
 * and loads the DAGs, so the two overlap on a second core instead of adding up.
 *
 * Message in: the data directory. Message out: `{ ok: true }`, or `{ ok: false, error }` with the
 * error's stack; the worker then closes itself.
 *
 * @example
 * ```ts
 * // what dags/_demo/main.ts does when the data directory is missing
 * const worker = new Worker(new URL("./prepare_worker.ts", import.meta.url), { type: "module" });
 * worker.terminate(); // (here: no data to prepare)
 * ```
 */
/// <reference lib="deno.worker" />
import { prepareAll } from "../../tasks/data/prepare.ts";

self.onmessage = async (e: MessageEvent<string>) => {
  try {
    await prepareAll(e.data);
    self.postMessage({ ok: true });
  } catch (err) {
    self.postMessage({ ok: false, error: (err as Error).stack ?? String(err) });
  }
  self.close();
};
