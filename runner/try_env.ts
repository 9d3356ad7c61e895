/**
 * The environment tries of one run run in: the run's books (a {@link RunTracker}: states, XComs,
 * the store), and what only running a try needs from the process — its host name, how it starts
 * runs of other DAGs (trigger tasks), the signal that aborts the run's tries and the process's
 * own shutdown. The scheduler, which runs no tries, keeps books without one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { systemClock } from "./clock.ts";
 * import { dag } from "./dag.ts";
 * import { RunTracker } from "./run_tracker.ts";
 * import { createDagRun } from "./runs.ts";
 * import { openStore } from "./store/open.ts";
 * import { TryEnv } from "./try_env.ts";
 * import { runTry } from "./try_runner.ts";
 * const store = await openStore({ memory: true });
 * const d = dag({ id: "one" }).task("extract", { run: () => ({ rows: 3 }) });
 * const run = await createDagRun(store, d);
 * const host = {
 *   store,
 *   clock: systemClock,
 *   artifacts: new LocalArtifactStore(await Deno.makeTempDir()),
 *   hostname: "example",
 *   emit() {},
 *   trigger: () => Promise.reject(new Error("this example starts no other runs")),
 * };
 * const tracker = new RunTracker(host, d, run);
 * await tracker.load("observe");
 * await runTry(new TryEnv(tracker, host), d.tasks[0], { taskId: "extract", mapIndex: -1 });
 * assert.equal(tracker.decisions.get({ taskId: "extract", mapIndex: -1 })?.state, "success");
 * await store.close();
 * ```
 */
import type { RunState } from "./core/states.ts";
import type { RunEnv, RunTracker } from "./run_tracker.ts";

/** What running tries needs from the process, beyond keeping a run's books. */
export interface TryHost extends RunEnv {
  readonly hostname: string;
  /** The process's shutdown: aborts running tries (with a TryReleased: back to the queue). */
  readonly signal?: AbortSignal;
  /** Starts (and maybe waits for) a run of another DAG for a trigger task. */
  trigger(
    dagId: string,
    conf: Record<string, unknown>,
    parent: { runId: number; taskId: string },
    wait: boolean,
  ): Promise<{ runId: number; state: RunState }>;
}

/** One run's tries' environment: its tracker, its host, and the signal that aborts its tries. */
export class TryEnv {
  readonly #tracker: RunTracker;
  readonly #host: TryHost;
  readonly #signal: AbortSignal | undefined;

  /** `signal` aborts this run's tries (default the process's shutdown, `host.signal`). */
  constructor(tracker: RunTracker, host: TryHost, signal: AbortSignal | undefined = host.signal) {
    this.#tracker = tracker;
    this.#host = host;
    this.#signal = signal;
  }

  /** The run's books: its states (`decisions`), XComs (`contexts`), store and clock (`env`). */
  get tracker(): RunTracker {
    return this.#tracker;
  }

  /** The machine tries are recorded on. */
  get hostname(): string {
    return this.#host.hostname;
  }

  /** Aborts the run's tries: the process's shutdown, or the run's own end (its dagrunTimeout). */
  get signal(): AbortSignal | undefined {
    return this.#signal;
  }

  /** The process's shutdown alone (a released try goes back to the queue, see TryReleased). */
  get shutdown(): AbortSignal | undefined {
    return this.#host.signal;
  }

  /** Starts (and maybe waits for) a run of another DAG for a trigger task. */
  trigger(
    dagId: string,
    conf: Record<string, unknown>,
    parent: { runId: number; taskId: string },
    wait: boolean,
  ): Promise<{ runId: number; state: RunState }> {
    return this.#host.trigger(dagId, conf, parent, wait);
  }
}
