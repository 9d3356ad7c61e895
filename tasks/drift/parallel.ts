/**
 * Compares the numeric columns of a large table on a second thread while this one compares the
 * rest, and still answers synchronously (detectDrift is a plain function): one worker
 * (column_worker.ts) and two slots of shared memory. This thread copies a numeric column (a
 * memcpy) into a free slot and posts its name; the worker drops the missing values, sorts the slot
 * in place, compares the column (the same `compareSamples` as here) and writes the outcome as JSON
 * into the slot's result buffer. Meanwhile this thread compares the categorical and text columns,
 * then numeric columns from the other end of the list, then any slot the worker has not started
 * (so a worker that never starts costs nothing but the copies), and waits (Atomics.wait) only for
 * a column the worker is busy with. Memory: two slots (the largest column, reference and current)
 * beside the columns being compared — never a copy of the table.
 *
 * Hand-written because the outcome must be the same object the sequential path builds, column by
 * column, in the same order; no pool library answers synchronously.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeOutcome, encodeOutcome } from "./parallel.ts";
 * // outcomes cross threads as JSON that keeps NaN and ±Infinity
 * const bytes = encodeOutcome({ reason: "no values", x: NaN } as unknown as { reason: string });
 * assert.ok(Number.isNaN((decodeOutcome(bytes) as unknown as { x: number }).x));
 * ```
 */
import { compactFinite } from "./sample.ts";
import type { ColumnDrift, QualityCheck } from "./schema.ts";

/** What comparing one column gives: its verdict and checks, a reason to skip it, or its error. */
export type ColumnOutcome =
  | { column: ColumnDrift; quality: QualityCheck[] }
  | { reason: string }
  | { error: Error };

/** A numeric column for the worker: both sides as numbers, and its per-column options. */
export interface NumericTask<C> {
  name: string;
  ref: Float64Array;
  cur: Float64Array;
  col: C;
}

/** Slot states, in the low 3 bits of a slot's control word (the task's id above them). */
const FREE = 0, QUEUED = 1, WORKING = 2, DONE = 3, MAIN = 4;
const SLOTS = 2;
/** Bytes of a slot's result buffer (an outcome that does not fit is recomputed here). */
const RESULT_BYTES = 1 << 20;
/** How long this thread waits for the worker before it gives up on the report. */
const WORKER_TIMEOUT_MS = 10 * 60_000;

/** The first message to the worker: the shared memory. */
export interface WorkerInit {
  control: SharedArrayBuffer;
  slots: { ref: SharedArrayBuffer; cur: SharedArrayBuffer; result: SharedArrayBuffer }[];
}

/** A column for the worker, in slot `slot`. */
export interface WorkerTask<C, O> {
  slot: number;
  id: number;
  name: string;
  col: C;
  /** Lengths of the two sides as copied (missing values included) into the slot. */
  refLength: number;
  curLength: number;
  nRef: number;
  opts: O;
}

/** The slot-state protocol, shared with the worker. */
export const SLOT = { FREE, QUEUED, WORKING, DONE, MAIN } as const;

/** JSON of an outcome with NaN and ±Infinity kept (JSON itself turns them into null). */
export function encodeOutcome(o: ColumnOutcome | { error: { name: string; message: string } }) {
  const text = JSON.stringify(o, (_k, v) => {
    if (v instanceof Error) return { name: v.name, message: v.message };
    return typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v;
  });
  return new TextEncoder().encode(text);
}

/** The outcome {@link encodeOutcome} encoded; an error comes back as an Error of the same name. */
export function decodeOutcome(bytes: Uint8Array): ColumnOutcome {
  const o = JSON.parse(
    new TextDecoder().decode(bytes),
    (_k, v) =>
      v !== null && typeof v === "object" && typeof v.$number === "string" ? Number(v.$number) : v,
  );
  if ("error" in o) {
    const { name, message } = o.error as { name: string; message: string };
    const E = name === "TypeError" ? TypeError : name === "RangeError" ? RangeError : Error;
    return { error: new E(message) };
  }
  return o as ColumnOutcome;
}

/**
 * Runs `others` (each stores its own outcome) and compares the numeric `tasks` — on the worker or,
 * by `onMain` (raw columns) / `onPrepared` (a slot's finite values), here — returning the tasks'
 * outcomes in order; undefined when no worker can be started (then nothing has run).
 */
export function compareInParallel<C, O>(
  tasks: NumericTask<C>[],
  others: (() => void)[],
  onMain: (t: NumericTask<C>) => ColumnOutcome,
  onPrepared: (
    t: NumericTask<C>,
    ref: { values: Float64Array; missing: number },
    cur: { values: Float64Array; missing: number },
  ) => ColumnOutcome,
  context: { nRef: number; opts: O },
  /**
   * `share: false` leaves every numeric column to the worker (tests use it to exercise the worker);
   * `timeoutMs` bounds the wait for it.
   */
  tuning: { share?: boolean; timeoutMs?: number } = {},
): ColumnOutcome[] | undefined {
  const share = tuning.share ?? true;
  let worker: Worker;
  try {
    worker = new Worker(new URL("./column_worker.ts", import.meta.url), { type: "module" });
  } catch {
    return undefined;
  }
  // an error in the worker must not end this process; its columns are computed here instead
  worker.onerror = (e) => e.preventDefault();
  try {
    const maxRef = Math.max(...tasks.map((t) => t.ref.length));
    const maxCur = Math.max(...tasks.map((t) => t.cur.length));
    const control = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
    const slots = Array.from({ length: SLOTS }, () => ({
      ref: new Float64Array(new SharedArrayBuffer(8 * maxRef)),
      cur: new Float64Array(new SharedArrayBuffer(8 * maxCur)),
      result: new SharedArrayBuffer(RESULT_BYTES),
      task: -1,
    }));
    const init: WorkerInit = {
      control: control.buffer as SharedArrayBuffer,
      slots: slots.map((s) => ({
        ref: s.ref.buffer as SharedArrayBuffer,
        cur: s.cur.buffer as SharedArrayBuffer,
        result: s.result,
      })),
    };
    worker.postMessage(init);
    const out = new Array<ColumnOutcome | undefined>(tasks.length);
    let front = 0, back = tasks.length, nextId = 1;
    const guard = (f: () => ColumnOutcome): ColumnOutcome => {
      try {
        return f();
      } catch (e) {
        return { error: e instanceof Error ? e : new Error(String(e)) };
      }
    };
    const prepared = (s: number) => {
      const slot = slots[s], t = tasks[slot.task];
      return guard(() => {
        const ref = compactFinite(slot.ref.subarray(0, t.ref.length));
        const cur = compactFinite(slot.cur.subarray(0, t.cur.length));
        return onPrepared(t, ref, cur);
      });
    };
    const release = (s: number, outcome: ColumnOutcome) => {
      out[slots[s].task] = outcome;
      slots[s].task = -1;
      Atomics.store(control, s, FREE);
    };
    const fill = (s: number) => {
      const slot = slots[s], t = tasks[front];
      slot.task = front++;
      // a plain copy (memcpy); the worker drops the missing values
      slot.ref.set(t.ref);
      slot.cur.set(t.cur);
      const id = nextId++;
      Atomics.store(control, s, id * 8 + QUEUED);
      const message: WorkerTask<C, O> = {
        slot: s,
        id,
        name: t.name,
        col: t.col,
        refLength: t.ref.length,
        curLength: t.cur.length,
        nRef: context.nRef,
        opts: context.opts,
      };
      worker.postMessage(message);
    };
    const pump = () => {
      for (let s = 0; s < SLOTS; s++) {
        const state = Atomics.load(control, s) & 7;
        if (state === DONE) {
          const result = new Int32Array(slots[s].result, 0, 1)[0];
          release(
            s,
            result < 0
              ? guard(() => onMain(tasks[slots[s].task])) // did not fit the result buffer
              : decodeOutcome(new Uint8Array(slots[s].result, 4, result).slice()),
          );
        }
        if ((Atomics.load(control, s) & 7) === FREE && front < back) fill(s);
      }
    };
    const deadline = performance.now() + (tuning.timeoutMs ?? WORKER_TIMEOUT_MS);
    let other = 0;
    for (;;) {
      pump();
      if (other < others.length) {
        others[other++]();
        continue;
      }
      if (share && front < back) {
        const i = --back;
        out[i] = guard(() => onMain(tasks[i]));
        continue;
      }
      let busy = -1, stole = false;
      for (let s = 0; s < SLOTS; s++) {
        const word = Atomics.load(control, s);
        const state = word & 7;
        if (
          share && state === QUEUED &&
          Atomics.compareExchange(control, s, word, (word & ~7) | MAIN) === word
        ) {
          release(s, prepared(s));
          stole = true;
        } else if (state !== FREE) busy = s;
      }
      if (stole) continue;
      if (busy < 0) break;
      Atomics.wait(control, busy, Atomics.load(control, busy), 1000);
      if (performance.now() > deadline) {
        throw new Error("detectDrift: the column worker did not finish in time");
      }
    }
    return out as ColumnOutcome[];
  } finally {
    worker.terminate();
  }
}
