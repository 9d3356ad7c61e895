/**
 * Histogram workers of GBDT training: Deno Workers over shared memory, driven synchronously. The
 * trainer stays a plain function: the main thread posts a job by bumping a generation counter in a
 * shared Int32Array, does its own share, and waits (`Atomics.wait`) until every worker has
 * stored that generation back. Jobs: the gradients of a row range (split by rows) and the
 * histogram chunks of a leaf (chunk c on thread c mod T; the trainer adds them in chunk order).
 *
 * `WorkerPool.start` returns null when workers cannot be had (no `Worker`, a worker that does not
 * start within the timeout); the trainer then runs on the main thread with the same results.
 * `close` terminates every worker.
 *
 * @example
 * ```ts
 * import { WorkerPool } from "./pool.ts";
 * const pool = WorkerPool.start(2, state); // state: the SharedArrays of a training
 * try {
 *   pool?.gradients();
 * } finally {
 *   pool?.close();
 * }
 * ```
 */
import { B, chunkStart, gradientsRange, HIST, histChunk } from "./kernels.ts";

/** The training data and buffers the threads share (all on SharedArrayBuffers for workers). */
export interface SharedState {
  n: number;
  F: number;
  /** Outputs (trees per round). */
  K: number;
  /** OBJECTIVE_CODE of the objective. */
  objective: number;
  /** n × F bins, row-major. */
  rowBins: Uint8Array;
  /** Row positions; each leaf owns a segment. */
  rows: Uint32Array;
  /** [g, h] per row, one block of 2n per output. */
  gh: Float64Array;
  /** Raw scores, one block of n per output. */
  score: Float64Array;
  /** Labels, one block of n per label column. */
  labels: Float64Array;
  /** The tree's features (first `nFeats` entries). */
  feats: Int32Array;
  /** MAX_CHUNKS histograms of F × B × HIST values. */
  chunks: Float64Array;
}

// control block layout (Int32Array)
const GEN = 0, OP = 1, START = 2, END = 3, N_CHUNKS = 4, N_FEATS = 5, GH_OFF = 6, ERR = 7;
const READY = 8, DONE = 16;
export const CONTROL_INTS = 32;
/** Job codes. */
export const OP_HIST = 1, OP_GRADIENTS = 2, OP_EXIT = 3;
/** Most threads a pool runs (the main thread included). */
export const MAX_THREADS = 8;
const START_TIMEOUT_MS = 10_000;
const JOB_TIMEOUT_MS = 120_000;

/** The share of thread t of T of the job in the control block (run by workers and the main thread). */
export function runShare(s: SharedState, ctrl: Int32Array, t: number, T: number): void {
  const op = ctrl[OP];
  if (op === OP_GRADIENTS) {
    const lo = Math.floor((s.n * t) / T), hi = Math.floor((s.n * (t + 1)) / T);
    gradientsRange(s.objective, s.K, s.n, s.labels, s.score, s.gh, lo, hi);
  } else if (op === OP_HIST) {
    const start = ctrl[START], end = ctrl[END], nChunks = ctrl[N_CHUNKS];
    const size = s.F * B * HIST; // values per chunk histogram
    const gh = s.gh.subarray(ctrl[GH_OFF]);
    for (let c = t; c < nChunks; c += T) {
      histChunk(
        s.rowBins,
        s.F,
        s.rows,
        chunkStart(start, end, c, nChunks),
        chunkStart(start, end, c + 1, nChunks),
        gh,
        s.feats,
        ctrl[N_FEATS],
        s.chunks.subarray(c * size, (c + 1) * size),
      );
    }
  }
}

/** Worker side: the message loop of worker `index` (called by worker.ts). */
export function serve(s: SharedState, ctrl: Int32Array, index: number, T: number): void {
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  let gen = 0;
  for (;;) {
    Atomics.wait(ctrl, GEN, gen);
    gen = Atomics.load(ctrl, GEN);
    if (ctrl[OP] === OP_EXIT) return;
    try {
      runShare(s, ctrl, index, T);
    } catch (e) {
      console.error(`GBDT worker ${index}:`, e);
      Atomics.store(ctrl, ERR, index);
    }
    Atomics.store(ctrl, DONE + index, gen);
    Atomics.notify(ctrl, DONE + index);
  }
}

/** What a worker receives once. */
export interface WorkerInit {
  state: SharedState;
  ctrl: Int32Array;
  index: number;
  threads: number;
}

/** T − 1 workers plus the main thread over one training's shared state. */
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
    const ctrl = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
    const workers: Worker[] = [];
    try {
      for (let w = 1; w < threads; w++) {
        const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
        workers.push(worker);
        const init: WorkerInit = { state, ctrl, index: w, threads };
        worker.postMessage(init);
      }
      const deadline = performance.now() + START_TIMEOUT_MS;
      for (;;) {
        const ready = Atomics.load(ctrl, READY);
        if (ready === threads - 1) break;
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`${ready} of ${threads - 1} GBDT workers started`);
        Atomics.wait(ctrl, READY, ready, left);
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
    return new WorkerPool(workers, ctrl, state);
  }

  /** Gradients of every row, split by rows over the threads. */
  gradients(): void {
    this.#run(OP_GRADIENTS);
  }

  /** Histogram chunks of positions [start, end) into state.chunks (chunk c at c × F·B·HIST). */
  histChunks(start: number, end: number, nChunks: number, nFeats: number, ghOff: number): void {
    const c = this.#ctrl;
    c[START] = start;
    c[END] = end;
    c[N_CHUNKS] = nChunks;
    c[N_FEATS] = nFeats;
    c[GH_OFF] = ghOff;
    this.#run(OP_HIST);
  }

  #run(op: number): void {
    const c = this.#ctrl, T = this.threads;
    c[OP] = op;
    const gen = ++this.#gen;
    Atomics.store(c, GEN, gen);
    Atomics.notify(c, GEN);
    runShare(this.#state, c, 0, T);
    for (let w = 1; w < T; w++) {
      const deadline = performance.now() + JOB_TIMEOUT_MS;
      for (;;) {
        const done = Atomics.load(c, DONE + w);
        if (done === gen) break;
        if (performance.now() > deadline) {
          throw new Error(`GBDT worker ${w} did not finish its share within ${JOB_TIMEOUT_MS} ms`);
        }
        Atomics.wait(c, DONE + w, done, 1000);
      }
    }
    const err = Atomics.load(c, ERR);
    if (err) throw new Error(`GBDT worker ${err} failed in job ${op}`);
  }

  /** Stops and terminates every worker. */
  close(): void {
    const c = this.#ctrl;
    c[OP] = OP_EXIT;
    Atomics.store(c, GEN, ++this.#gen);
    Atomics.notify(c, GEN);
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
  }
}
