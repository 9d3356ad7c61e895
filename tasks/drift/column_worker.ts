/**
 * The worker of parallel.ts: compares numeric columns that the main thread copied into shared
 * slots (dropping their missing values in place), with the same `compareSamples` as the main thread, and writes each outcome
 * (JSON) into the slot's result buffer. A slot the main thread took back first is left alone.
 *
 * @example
 * ```ts
 * // started by compareInParallel (parallel.ts), never imported:
 * // new Worker(new URL("./column_worker.ts", import.meta.url), { type: "module" })
 * ```
 */
import { type ColumnSettings, type CompareOptions, compareSamples } from "./column_compare.ts";
import { encodeOutcome, SLOT, type WorkerInit, type WorkerTask } from "./parallel.ts";
import { compactFinite, NumericSample } from "./sample.ts";

let shared: WorkerInit | undefined;

globalThis.addEventListener("message", (event) => {
  const data = (event as MessageEvent).data as
    | WorkerInit
    | WorkerTask<ColumnSettings, CompareOptions>;
  if ("control" in data) {
    shared = data;
    return;
  }
  if (!shared) return;
  const control = new Int32Array(shared.control);
  const queued = data.id * 8 + SLOT.QUEUED;
  if (Atomics.compareExchange(control, data.slot, queued, data.id * 8 + SLOT.WORKING) !== queued) {
    return; // the main thread took it
  }
  const slot = shared.slots[data.slot];
  let bytes: Uint8Array;
  try {
    const r = compactFinite(new Float64Array(slot.ref, 0, data.refLength));
    const c = compactFinite(new Float64Array(slot.cur, 0, data.curLength));
    const ref = NumericSample.ofFinite(r.values, r.missing);
    const cur = NumericSample.ofFinite(c.values, c.missing);
    const outcome = compareSamples(
      data.name,
      { kind: "numeric", ref, cur },
      { ref: data.refLength, cur: data.curLength },
      data.col,
      data.nRef,
      data.opts,
    );
    bytes = encodeOutcome(outcome);
  } catch (e) {
    bytes = encodeOutcome({ error: e instanceof Error ? e : new Error(String(e)) });
  }
  const header = new Int32Array(slot.result, 0, 1);
  if (bytes.length + 4 <= slot.result.byteLength) {
    new Uint8Array(slot.result, 4, bytes.length).set(bytes);
    header[0] = bytes.length;
  } else header[0] = -1;
  Atomics.store(control, data.slot, data.id * 8 + SLOT.DONE);
  Atomics.notify(control, data.slot);
});
