/**
 * Helper threads of GBDT training: Deno Workers over shared memory, driven synchronously so the
 * trainer stays a plain function. A job is cut into at most MAX_CHUNKS chunks by its size alone;
 * the main thread publishes it by storing a ticket (generation, chunk count, next chunk) in a shared
 * Int32Array, and every thread — the main one included — claims chunks with compare-and-swap
 * until none is left, then the main thread waits (`Atomics.wait`) for the claimed ones to finish.
 * A worker the OS has not scheduled yet never holds a job up: the main thread takes its chunks.
 *
 * Jobs: the gradients of row ranges, the histograms of a leaf's row chunks (one buffer per chunk;
 * the trainer adds them in chunk order), the stable partition of a leaf's row chunks (the
 * trainer joins the parts in chunk order) and a tree's leaf values added to the scores. Each chunk's result depends on the chunk only, so the
 * trees are the same whichever thread ran which chunk, and on any number of threads.
 *
 * Workers join as they come up: nothing waits for them to start (a Deno worker takes 30–100 ms),
 * and one that never does leaves its share to the main thread. `WorkerPool.start` returns null
 * when workers cannot be had (no `Worker`, no read access to worker.ts), and the trainer runs the
 * same chunks on the main thread. `close` terminates every worker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../core/random.ts";
 * import { lastPoolStats } from "./pool.ts";
 * import { trainGbdt } from "./train.ts";
 * // the trainer starts and closes the pool; `threads: 2`: one worker beside the main thread
 * const rng = new Random(1);
 * const x = Float64Array.from({ length: 500 }, () => rng.normal());
 * const y = x.map((v) => (v > 0 ? 1 : 0));
 * trainGbdt({ features: [x], labels: [y], objective: "binary" }, { nEstimators: 5, threads: 2 });
 * assert.equal(lastPoolStats()?.threads, 2);
 * ```
 */
import {
  addLeafValues,
  B,
  chunkStart,
  gradientsRange,
  HIST,
  histChunk,
  MAX_CHUNKS,
  partitionChunk,
} from "./kernels.ts";

/** The training data and buffers the threads share (on SharedArrayBuffers when there are workers). */
export interface SharedState {
  n: number;
  F: number;
  /** Outputs (trees per round). */
  K: number;
  /** OBJECTIVE_CODE of the objective. */
  objective: number;
  /** n × F bins, row-major (histograms read a row's bins from one cache line). */
  rowBins: Uint8Array;
  /** F × n bins, column-major (partitions read one feature). */
  colBins: Uint8Array;
  /** Row positions; each leaf owns a segment. */
  rows: Uint32Array;
  /** n positions of scratch for partitions. */
  scratch: Uint32Array;
  /** [g, h] per row, one block of 2n per output. */
  gh: Float64Array;
  /** Raw scores, one block of n per output. */
  score: Float64Array;
  /** Binary objective: e^(−score) per row (else empty). */
  expNeg: Float64Array;
  /** Labels, one block of n per label column. */
  labels: Float64Array;
  /** The tree's features (first `nFeats` entries). */
  feats: Int32Array;
  /** Up to MAX_CHUNKS histograms of F × B × HIST values. */
  chunks: Float64Array;
  /** The last tree's leaves as [start, end, value] (room for numLeaves). */
  leaves: Float64Array;
}

// control block layout (Int32Array)
const TICKET = 0, OP = 1, START = 2, END = 3, N_FEATS = 5, GH_OFF = 6;
const FEATURE = 7, BIN = 8, ERR = 9, DONE = 10, READY = 11, SCORE_OFF = 12, N_LEAVES = 13;
const CHUNKS_ALL = 14, CHUNKS_WORKERS = 15;
const LEFT = 16;
const CONTROL_INTS = LEFT + MAX_CHUNKS;
const EXIT = -1;
// ticket = gen << 8 | chunk count << 4 | next chunk (generations wrap; chunk counts ≤ 15)
const GEN_MASK = 0x3f_ffff;
/** Job codes. */
const OP_HIST = 1, OP_GRADIENTS = 2, OP_PARTITION = 3, OP_SCORE = 4;
/** Most threads a pool runs (the main thread included): no job has more chunks. */
export const MAX_THREADS = MAX_CHUNKS;
const JOB_TIMEOUT_MS = 120_000;
/**
 * How long a thread spins for the next job (or the last chunk) before it sleeps: about a futex
 * wake-up. Longer spins won nothing on a busy shared machine (measured: the spinning worker took
 * CPU time from the main thread and ran fewer chunks).
 */
const SPIN_MS = 0.05;

/** Runs chunk c of nChunks of the job in the control block (on whichever thread claimed it). */
function runChunk(s: SharedState, ctrl: Int32Array, c: number, nChunks: number): void {
  const op = ctrl[OP];
  if (op === OP_GRADIENTS) {
    const lo = chunkStart(0, s.n, c, nChunks), hi = chunkStart(0, s.n, c + 1, nChunks);
    gradientsRange(s.objective, s.K, s.n, s.labels, s.score, s.expNeg, s.gh, lo, hi);
    return;
  }
  const start = ctrl[START], end = ctrl[END];
  const lo = chunkStart(start, end, c, nChunks), hi = chunkStart(start, end, c + 1, nChunks);
  if (op === OP_HIST) {
    const size = s.F * B * HIST;
    histChunk(
      s.rowBins,
      s.F,
      s.rows,
      lo,
      hi,
      s.gh.subarray(ctrl[GH_OFF]),
      s.feats,
      ctrl[N_FEATS],
      s.chunks.subarray(c * size, (c + 1) * size),
    );
  } else if (op === OP_PARTITION) {
    const f = ctrl[FEATURE];
    const bins = s.colBins.subarray(f * s.n, (f + 1) * s.n);
    ctrl[LEFT + c] = partitionChunk(s.rows, lo, hi, bins, ctrl[BIN], s.scratch);
  } else if (op === OP_SCORE) {
    const { rows, leaves, score, expNeg } = s;
    addLeafValues(rows, lo, hi, leaves, ctrl[N_LEAVES], score, ctrl[SCORE_OFF], expNeg);
  } else throw new Error(`unknown GBDT job ${op}`);
}

/**
 * Claims and runs chunks of the current job until none is left; returns the ticket last seen
 * (to wait on), or EXIT.
 */
function work(s: SharedState, ctrl: Int32Array, worker: boolean): number {
  for (;;) {
    const t = Atomics.load(ctrl, TICKET);
    if (t === EXIT) return EXIT;
    const c = t & 15, nChunks = (t >> 4) & 15;
    if (c >= nChunks) return t;
    // once claimed, the job's arguments stay until its chunks are done (the main thread waits)
    if (Atomics.compareExchange(ctrl, TICKET, t, t + 1) !== t) continue;
    try {
      runChunk(s, ctrl, c, nChunks);
    } catch (e) {
      console.error("GBDT training thread:", e);
      Atomics.store(ctrl, ERR, 1);
    }
    if (worker) Atomics.add(ctrl, CHUNKS_WORKERS, 1);
    Atomics.add(ctrl, CHUNKS_ALL, 1);
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
}

/** Spins up to `ms` while ctrl[i] === value; true when it changed. */
function spinWhile(ctrl: Int32Array, i: number, value: number, ms: number): boolean {
  const until = performance.now() + ms;
  for (;;) {
    for (let k = 0; k < 256; k++) if (Atomics.load(ctrl, i) !== value) return true;
    if (performance.now() > until) return false;
  }
}

/** Worker side: serves jobs until the pool closes (called by worker.ts). */
export function serve(s: SharedState, ctrl: Int32Array): void {
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  for (;;) {
    const seen = work(s, ctrl, true); // a job may be under way already: join it
    if (seen === EXIT) return;
    // jobs come every few hundred µs while a tree grows and a chunk takes ~0.2 ms: spin briefly
    // before sleeping (as OpenMP runtimes do)
    if (!spinWhile(ctrl, TICKET, seen, SPIN_MS)) Atomics.wait(ctrl, TICKET, seen);
  }
}

/** What a worker receives once. */
export interface WorkerInit {
  state: SharedState;
  ctrl: Int32Array;
}

/** How the last pool of this process shared its work (for benchmarks and diagnostics). */
export interface PoolStats {
  threads: number;
  /** Workers that came up before the training ended. */
  started: number;
  chunks: number;
  /** Chunks the workers ran (the rest ran on the main thread). */
  workerChunks: number;
}
let lastStats: PoolStats | null = null;

/** The share of work of the last pool closed in this process, or null. */
export function lastPoolStats(): PoolStats | null {
  return lastStats;
}

let waitForWorkersMs = 0;

/**
 * TEST HOOK: when `ms` > 0, `WorkerPool.start` blocks until every worker has come up (or `ms` have
 * passed), so a test of the parallel path knows the workers were there to claim chunks (workers
 * otherwise join lazily and a fast training may never see one). 0 (the default) restores lazy
 * joining. Returns the previous value.
 */
export function setWaitForWorkers(ms: number): number {
  const previous = waitForWorkersMs;
  waitForWorkersMs = Math.max(0, ms);
  return previous;
}

/** Whether this process may read the file (workers load their module from it). */
function canRead(url: URL): boolean {
  try {
    return Deno.permissions.querySync({ name: "read", path: url }).state === "granted";
  } catch {
    return false;
  }
}

/** Workers plus the main thread over one training's shared state. */
export class WorkerPool {
  #workers: Worker[];
  #ctrl: Int32Array;
  #state: SharedState;
  #gen = 0;

  private constructor(workers: Worker[], ctrl: Int32Array, state: SharedState) {
    this.#workers = workers;
    this.#ctrl = ctrl;
    this.#state = state;
  }

  /** Threads in use, the main thread included. */
  get threads(): number {
    return this.#workers.length + 1;
  }

  /** Starts threads − 1 workers; null when workers are unavailable (the caller runs alone). */
  static start(threads: number, state: SharedState): WorkerPool | null {
    if (threads < 2) return null;
    if (typeof Worker === "undefined") {
      console.error("GBDT training runs on one thread: this runtime has no Worker");
      return null;
    }
    if (!(state.rowBins.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError("WorkerPool needs the training state on SharedArrayBuffers");
    }
    const url = new URL("./worker.ts", import.meta.url);
    if (url.protocol === "file:" && !canRead(url)) {
      console.error(
        `GBDT training runs on one thread: workers need read access to ${url.pathname}`,
      );
      return null;
    }
    const ctrl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
    const workers: Worker[] = [];
    try {
      for (let w = 1; w < threads; w++) {
        const worker = new Worker(url, { type: "module" });
        // a worker that fails to start leaves its share to the main thread: say so, do not crash
        worker.onerror = (e) => {
          e.preventDefault();
          console.error(
            `GBDT training worker failed (the main thread does its share): ${e.message}`,
          );
        };
        workers.push(worker);
        const init: WorkerInit = { state, ctrl };
        worker.postMessage(init);
      }
    } catch (e) {
      for (const w of workers) w.terminate();
      console.error(
        `GBDT training runs on one thread: workers are unavailable (${
          e instanceof Error ? e.message : String(e)
        })`,
      );
      return null;
    }
    if (waitForWorkersMs > 0) {
      const deadline = performance.now() + waitForWorkersMs;
      for (;;) {
        const ready = Atomics.load(ctrl, READY);
        const left = deadline - performance.now();
        if (ready >= workers.length || left <= 0) break;
        Atomics.wait(ctrl, READY, ready, left);
      }
    }
    return new WorkerPool(workers, ctrl, state);
  }

  /** Gradients of every row, in MAX_CHUNKS row ranges. */
  gradients(): void {
    this.#run(OP_GRADIENTS, MAX_CHUNKS);
  }

  /** Histograms of the chunks of positions [start, end) into state.chunks (chunk c at c·F·B·HIST). */
  histChunks(start: number, end: number, nChunks: number, nFeats: number, ghOff: number): void {
    const c = this.#ctrl;
    c[START] = start;
    c[END] = end;
    c[N_FEATS] = nFeats;
    c[GH_OFF] = ghOff;
    this.#run(OP_HIST, nChunks);
  }

  /**
   * Stable partition of each chunk of positions [start, end) by `bins ≤ bin` of `feature`: the
   * left rows stay at the chunk's start, the right ones go to scratch at the same positions.
   * Returns the left count of each chunk.
   */
  partitionChunks(
    start: number,
    end: number,
    nChunks: number,
    feature: number,
    bin: number,
  ): Int32Array {
    const c = this.#ctrl;
    c[START] = start;
    c[END] = end;
    c[FEATURE] = feature;
    c[BIN] = bin;
    this.#run(OP_PARTITION, nChunks);
    return c.subarray(LEFT, LEFT + nChunks);
  }

  /** Adds the leaves in state.leaves to the scores of output k, over positions [0, m). */
  addLeafValues(m: number, nChunks: number, nLeaves: number, k: number): void {
    const c = this.#ctrl;
    c[START] = 0;
    c[END] = m;
    c[N_LEAVES] = nLeaves;
    c[SCORE_OFF] = k * this.#state.n;
    this.#run(OP_SCORE, nChunks);
  }

  #run(op: number, nChunks: number): void {
    const c = this.#ctrl;
    c[OP] = op;
    Atomics.store(c, DONE, 0);
    this.#gen = (this.#gen + 1) & GEN_MASK;
    Atomics.store(c, TICKET, (this.#gen << 8) | (nChunks << 4));
    Atomics.notify(c, TICKET);
    work(this.#state, c, false);
    const deadline = performance.now() + JOB_TIMEOUT_MS;
    for (;;) {
      const done = Atomics.load(c, DONE);
      if (done === nChunks) break;
      if (spinWhile(c, DONE, done, SPIN_MS)) continue;
      if (performance.now() > deadline) {
        throw new Error(
          `GBDT training: ${nChunks - done} chunks unfinished after ${JOB_TIMEOUT_MS} ms`,
        );
      }
      Atomics.wait(c, DONE, done, 1000);
    }
    if (Atomics.load(c, ERR)) throw new Error(`GBDT training: a worker failed in job ${op}`);
  }

  /** Workers that have come up so far. */
  get started(): number {
    return Atomics.load(this.#ctrl, READY);
  }

  /** Stops and terminates every worker. */
  close(): void {
    const c = this.#ctrl;
    lastStats = {
      threads: this.threads,
      started: Atomics.load(c, READY),
      chunks: Atomics.load(c, CHUNKS_ALL),
      workerChunks: Atomics.load(c, CHUNKS_WORKERS),
    };
    Atomics.store(this.#ctrl, TICKET, EXIT);
    Atomics.notify(this.#ctrl, TICKET);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }
}
