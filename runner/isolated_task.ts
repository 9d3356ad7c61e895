/**
 * Function tasks in isolates a timeout can end. A worker runs a try of a function (or branch) task
 * — by default of a task with a timeout; with isolation "always", every one — in a fresh Deno
 * Worker that imports the task's DAG file (see isolate_entry.ts). When the
 * try is aborted — timeout, or the worker releasing it at shutdown — the isolate's `ctx.signal`
 * fires, it gets `graceMs` to settle, and then it is terminated: code that ignores its signal
 * stops there, before the try's failure is recorded, so nothing it does lands after downstream
 * tasks ran. Every try gets a new isolate (nothing a try leaves behind reaches the next); to hide
 * the start-up (importing the DAG file), one spare isolate per DAG file is started ahead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IsolatePool } from "./isolated_task.ts";
 * import type { IsolateRun } from "./isolate_entry.ts";
 * const dir = await Deno.makeTempDir();
 * const file = `${dir}/example.ts`; // a DAG file, as a worker finds it in dags/
 * await Deno.writeTextFile(
 *   file,
 *   `import { dag } from "${new URL("./dag.ts", import.meta.url).href}";
 * export default dag({ id: "example" })
 *   .task("add", { run: (ctx) => { ctx.log("adding"); return 1 + 1; } });`,
 * );
 * const at = new Date("2026-01-01T00:00:00Z");
 * const message: IsolateRun = {
 *   kind: "run",
 *   dagId: "example",
 *   run: {
 *     id: 1, dagId: "example", logicalDate: at, dataIntervalStart: at, dataIntervalEnd: at,
 *     runType: "manual", state: "running", conf: {}, params: {}, structureHash: "",
 *     triggeredBy: null, executor: "distributed", queuedAt: at, startDate: at, endDate: null,
 *   },
 *   taskId: "add",
 *   mapIndex: -1,
 *   tryNumber: 1,
 *   item: undefined,
 *   tis: [],
 *   outputs: new Map(),
 *   hostname: "box",
 *   databaseUrl: "postgres://db.invalid/driftflow", // connected only if the task uses ctx.db
 *   home: dir,
 * };
 * const pool = new IsolatePool();
 * try {
 *   const lines: string[] = [];
 *   const signal = AbortSignal.timeout(60_000); // an abort terminates the isolate
 *   assert.equal(await pool.run(`file://${file}`, message, signal, (l) => lines.push(l)), 2);
 *   assert.deepEqual(lines, ["adding"]);
 * } finally {
 *   pool.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { IsolateOut, IsolateRun } from "./isolate_entry.ts";

const ENTRY = new URL("./isolate_entry.ts", import.meta.url);

/** Which function tries a worker isolates (see WorkerOptions.isolation). */
export type IsolationMode = "timeout" | "always" | "none";

/** DRIFTFLOW_ISOLATION, checked: "timeout" (the default), "always" or "none". */
export function isolationFromEnv(): IsolationMode {
  const v = Deno.env.get("DRIFTFLOW_ISOLATION") ?? "timeout";
  if (v === "timeout" || v === "always" || v === "none") return v;
  throw new Error(
    `DRIFTFLOW_ISOLATION is "${v}": it must be "timeout" (isolate tries of tasks with a timeout), ` +
      `"always" or "none"`,
  );
}

interface Spare {
  worker: Worker;
  loaded: Promise<void>;
}

export class IsolatePool {
  readonly #spares = new Map<string, Spare>();
  readonly #live = new Set<Worker>();
  #closed = false;

  /** `graceMs`: how long an aborted try may take to settle before its isolate is terminated. */
  constructor(readonly graceMs = 500, readonly maxSpares = 2) {}

  #start(file: string): Spare {
    const worker = new Worker(ENTRY, { type: "module" });
    this.#live.add(worker);
    const loaded = new Promise<void>((resolve) => {
      const onLoaded = (e: MessageEvent<IsolateOut>) => {
        if (e.data.kind !== "loaded") return;
        worker.removeEventListener("message", onLoaded);
        resolve();
      };
      worker.addEventListener("message", onLoaded);
    });
    worker.postMessage({ kind: "load", file });
    return { worker, loaded };
  }

  /** A fresh isolate for `file` (the spare when there is one), and a new spare behind it. */
  #take(file: string): Spare {
    const spare = this.#spares.get(file);
    this.#spares.delete(file);
    if (!this.#closed) {
      if (this.#spares.size >= this.maxSpares) {
        const [oldFile, old] = this.#spares.entries().next().value!;
        this.#spares.delete(oldFile);
        this.#end(old.worker);
      }
      this.#spares.set(file, this.#start(file));
    }
    return spare ?? this.#start(file);
  }

  #end(worker: Worker): void {
    worker.terminate();
    this.#live.delete(worker);
  }

  /**
   * Runs one try in a fresh isolate for the DAG file at `file` (a file: URL); resolves with the
   * task's value or rejects with its error — or with `signal.reason` once an aborted try's
   * isolate has been terminated.
   */
  async run(
    file: string,
    message: IsolateRun,
    signal: AbortSignal,
    log: (line: string) => void,
  ): Promise<unknown> {
    if (signal.aborted) throw signal.reason;
    const { worker, loaded } = this.#take(file);
    try {
      await Promise.race([
        loaded,
        new Promise((r) => signal.addEventListener("abort", r, { once: true })),
      ]);
      if (signal.aborted) throw signal.reason;
      return await new Promise<unknown>((resolve, reject) => {
        let graceTimer: ReturnType<typeof setTimeout> | undefined;
        const stop = () => {
          clearTimeout(graceTimer);
          signal.removeEventListener("abort", onAbort);
        };
        const onAbort = () => {
          const r = signal.reason instanceof Error
            ? signal.reason
            : new Error(String(signal.reason));
          worker.postMessage({ kind: "abort", name: r.name, message: r.message });
          graceTimer = setTimeout(() => {
            stop();
            reject(signal.reason);
          }, this.graceMs);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        worker.onmessage = (e: MessageEvent<IsolateOut>) => {
          const m = e.data;
          if (m.kind === "log") return log(m.line);
          if (m.kind === "loaded") return;
          stop();
          // After an abort the try fails with the abort's reason, whatever the function did.
          if (signal.aborted) return reject(signal.reason);
          if (m.kind === "done") return resolve(m.value);
          const err = new Error(m.message);
          err.name = m.name;
          if (m.stack) err.stack = m.stack;
          reject(err);
        };
        worker.onerror = (e) => {
          e.preventDefault();
          stop();
          reject(new Error(`the task's isolate crashed: ${e.message}`));
        };
        worker.postMessage(message);
      });
    } finally {
      // A try's isolate never runs another try: whatever it left behind ends here.
      this.#end(worker);
    }
  }

  /** Terminates every isolate (spares and running ones). */
  close(): void {
    this.#closed = true;
    for (const w of this.#live) w.terminate();
    this.#live.clear();
    this.#spares.clear();
  }
}
