/**
 * The in-process executor: takes a DAG run from queued to success or failed. It decides which task
 * instances may run (trigger rules, branches, mapping), runs them within the run's, the process's
 * and the pools' limits, retries failed tries after their backoff, and records every try, log line
 * and XCom in the store as it goes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { dag } from "./dag.ts";
 * import { Executor } from "./executor.ts";
 * import { createDagRun } from "./runs.ts";
 * import { openStore } from "./store/open.ts";
 * const store = await openStore({ memory: true });
 * const hello = dag({ id: "hello" }).task("greet", { run: () => "hello" });
 * // Without `artifacts`: the store the environment names (under DRIFTFLOW_HOME), as the CLI's.
 * const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
 * const executor = new Executor({ store, artifacts });
 * const run = await createDagRun(store, hello);
 * const result = await executor.runToEnd(hello, run.id);
 * assert.equal(result.state, "success");
 * await store.close();
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { openArtifactStore } from "./artifacts/open.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type DagDefinition, SkipTask } from "./dag.ts";
import { parseDuration } from "./duration.ts";
import { createTriggeredRun } from "./runs.ts";
import { type ExecutorEvent, RunTracker } from "./run_tracker.ts";
import type { RunState } from "./core/states.ts";
import { dataHome } from "./store/open.ts";
import type { Store } from "./store/store.ts";
import type { DagRun, TaskInstance } from "./store/types.ts";
import { TryEnv, type TryHost } from "./try_env.ts";
import { runTry } from "./try_runner.ts";

export type { ExecutorEvent } from "./run_tracker.ts";

/** How the executor is set up. */
export interface ExecutorOptions {
  store: Store;
  clock?: Clock;
  /**
   * Where XComs over 1 MB and artifacts go; default the one the environment names, as for every
   * CLI command: S3 with DRIFTFLOW_S3_BUCKET, else `<DRIFTFLOW_HOME>/artifacts` (see artifacts/open.ts).
   */
  artifacts?: ArtifactStore;
  /** Recorded with every try; default the machine's host name. */
  hostname?: string;
  /** How many task tries this process runs at once, over all runs (default 32). */
  concurrency?: number;
  /** Finds the DAG a trigger task names. */
  resolveDag?: (dagId: string) => DagDefinition | undefined;
  onEvent?: (event: ExecutorEvent) => void;
  /** Aborts running tries and stops starting new ones. */
  signal?: AbortSignal;
}

/** How often a run with tasks waiting on their previous instance (dependsOnPast) looks again. */
const PAST_POLL_MS = 1000;

/** A finished run and its task instances. */
export interface RunResult {
  run: DagRun;
  state: RunState;
  taskInstances: TaskInstance[];
}

/** Wakes a waiting loop; each `wait` resolves at the next `notify`. */
class Wakeup {
  #resolve: (() => void) | null = null;
  #pending = false;
  notify(): void {
    if (this.#resolve) {
      this.#resolve();
      this.#resolve = null;
    } else this.#pending = true;
  }
  wait(): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((r) => (this.#resolve = r));
  }
}

export class Executor implements TryHost {
  readonly store: Store;
  readonly clock: Clock;
  readonly artifacts: ArtifactStore;
  readonly hostname: string;
  readonly concurrency: number;
  #running = 0;
  #poolUse = new Map<string, number>();
  #poolSlots = new Map<string, number>();
  #capacityWaiters = new Set<Wakeup>();
  #background = new Set<Promise<unknown>>();

  constructor(readonly options: ExecutorOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.artifacts = options.artifacts ?? openArtifactStore(dataHome());
    this.hostname = options.hostname ?? Deno.hostname();
    this.concurrency = options.concurrency ?? 32;
  }

  /** Waits for runs that trigger tasks started without waiting. */
  async drain(): Promise<void> {
    while (this.#background.size > 0) await Promise.allSettled([...this.#background]);
  }

  /** Runs run `runId` of `dag` until every task instance has finished; returns the final state. */
  async runToEnd(dag: DagDefinition, runId: number): Promise<RunResult> {
    const run = await this.store.getRun(runId);
    if (!run) throw new Error(`run ${runId} does not exist`);
    if (run.dagId !== dag.id) {
      throw new Error(`run ${runId} belongs to dag "${run.dagId}", not "${dag.id}"`);
    }
    try {
      await this.#loadPools();
      this.#checkPools(dag);
    } catch (e) {
      // A run that cannot start is failed, not left queued for ever.
      await this.store.setRunState(runId, "failed", new Date(this.clock.now()));
      this.emit({ kind: "run", runId, dagId: dag.id, state: "failed" });
      throw e;
    }
    const state = await new InProcessRun(this, dag, run).execute();
    const final = (await this.store.getRun(runId))!;
    return { run: final, state, taskInstances: await this.store.taskInstances(runId) };
  }

  emit(event: ExecutorEvent): void {
    this.options.onEvent?.(event);
  }

  // ---- capacity: the process's concurrency and the pools ----------------------------------------

  async #loadPools(): Promise<void> {
    for (const p of await this.store.pools()) this.#poolSlots.set(p.name, p.slots);
  }

  #checkPools(dag: DagDefinition): void {
    const defaults = dag.options.defaults ?? {};
    for (const t of dag.tasks) {
      const pool = t.settings.pool ?? defaults.pool ?? "default_pool";
      const slots = t.settings.poolSlots ?? defaults.poolSlots ?? 1;
      const size = this.#poolSlots.get(pool);
      if (size === undefined) {
        throw new Error(
          `task "${t.id}" uses pool "${pool}", which does not exist; create it: deno task pools set ${pool} <slots>`,
        );
      }
      if (slots > size) {
        throw new Error(
          `task "${t.id}" needs ${slots} slots of pool "${pool}", which has only ${size}`,
        );
      }
    }
  }

  /** Takes a process slot and pool slots when free; false when the try must wait. */
  tryAcquire(pool: string, slots: number): boolean {
    if (this.#running >= this.concurrency) return false;
    const size = this.#poolSlots.get(pool) ?? 0;
    const used = this.#poolUse.get(pool) ?? 0;
    if (used + slots > size) return false;
    this.#running++;
    this.#poolUse.set(pool, used + slots);
    return true;
  }

  release(pool: string, slots: number): void {
    this.#running--;
    this.#poolUse.set(pool, (this.#poolUse.get(pool) ?? slots) - slots);
    for (const w of this.#capacityWaiters) w.notify();
  }

  watchCapacity(w: Wakeup): () => void {
    this.#capacityWaiters.add(w);
    return () => this.#capacityWaiters.delete(w);
  }

  /** Starts (and maybe waits for) a run of another DAG for a trigger task. */
  async trigger(
    dagId: string,
    conf: Record<string, unknown>,
    parent: { runId: number; taskId: string },
    wait: boolean,
  ): Promise<{ runId: number; state: RunState }> {
    const target = this.options.resolveDag?.(dagId);
    if (!target) throw new Error(`cannot trigger dag "${dagId}": no such DAG is loaded`);
    const run = await createTriggeredRun(this.store, target, {
      conf,
      parent,
      now: this.clock.now(),
      executor: "local",
    });
    const done = this.runToEnd(target, run.id);
    if (wait) return { runId: run.id, state: (await done).state };
    const tracked = done.catch((e) =>
      console.error(`driftflow: triggered run ${run.id} crashed: ${e}`)
    )
      .finally(() => this.#background.delete(tracked));
    this.#background.add(tracked);
    return { runId: run.id, state: "queued" };
  }
}

/** One run's loop in this process: decide, start what capacity allows, wait, repeat. */
class InProcessRun {
  readonly #ex: Executor;
  readonly #dag: DagDefinition;
  readonly #run: DagRun;
  readonly #tracker: RunTracker;
  readonly #tries: TryEnv;
  /** Aborts this run's tries (its dagrunTimeout), beside the executor's signal. */
  readonly #runAbort = new AbortController();
  readonly #wake = new Wakeup();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #maxActiveTasks: number;

  constructor(ex: Executor, dag: DagDefinition, run: DagRun) {
    this.#ex = ex;
    this.#dag = dag;
    this.#run = run;
    this.#tracker = new RunTracker(ex, dag, run);
    const signal = ex.options.signal
      ? AbortSignal.any([ex.options.signal, this.#runAbort.signal])
      : this.#runAbort.signal;
    this.#tries = new TryEnv(this.#tracker, ex, signal);
    this.#maxActiveTasks = dag.options.maxActiveTasks ?? 16;
  }

  async execute(): Promise<RunState> {
    const ex = this.#ex, dag = this.#dag, run = this.#run, tracker = this.#tracker;
    const decisions = tracker.decisions;
    await tracker.load("resume");
    await ex.store.setRunState(run.id, "running", new Date(ex.clock.now()));
    ex.emit({ kind: "run", runId: run.id, dagId: dag.id, state: "running" });
    const unwatch = ex.watchCapacity(this.#wake);
    // dagrunTimeout: from the run's first start (a resumed run keeps its start).
    const limit = dag.options.dagrunTimeout;
    const deadline = limit === undefined
      ? null
      : Math.min(ex.clock.now(), run.startDate?.getTime() ?? Infinity) + parseDuration(limit);
    let timedOut: string | null = null;
    try {
      for (;;) {
        if (deadline !== null && ex.clock.now() >= deadline) {
          timedOut = `the run exceeded its dagrunTimeout of ${limit}`;
          this.#runAbort.abort(new SkipTask(timedOut));
          await Promise.allSettled([...this.#inFlight]);
          await tracker.skipUnfinished(timedOut);
          break;
        }
        await tracker.settle();
        const { started, blocked } = this.#startReady();
        if (decisions.allFinished()) break;
        if (started) continue;
        const retryAt = decisions.earliestRetry();
        if (
          this.#inFlight.size === 0 && retryAt === null && !blocked && !tracker.waitingOnPast
        ) {
          throw new Error(
            `run ${run.id} is stuck: nothing is running or ready (this is a bug)`,
          );
        }
        // Timers end with the wait, so none outlives the run (a 1 h dagrunTimeout, say).
        const timers = new AbortController();
        const sleep = (ms: number) =>
          ex.clock.sleep(Math.max(0, ms), timers.signal).catch(() => {});
        const waits: Promise<unknown>[] = [this.#wake.wait()];
        if (retryAt !== null) waits.push(sleep(retryAt - ex.clock.now()));
        // dependsOnPast: look again for the previous run's result every second.
        if (tracker.waitingOnPast) waits.push(sleep(PAST_POLL_MS));
        if (deadline !== null) waits.push(sleep(deadline - ex.clock.now()));
        await Promise.race(waits);
        timers.abort();
      }
    } finally {
      unwatch();
      await Promise.allSettled([...this.#inFlight]);
    }
    return await tracker.finish(timedOut !== null);
  }

  /** Starts every ready try that capacity allows; says whether any started, or any had to wait. */
  #startReady(): { started: boolean; blocked: boolean } {
    const decisions = this.#tracker.decisions;
    let started = false;
    let blocked = false;
    for (const ti of decisions.readyNow(this.#ex.clock.now())) {
      if (
        this.#inFlight.size >= this.#maxActiveTasks || !this.#ex.tryAcquire(ti.pool, ti.poolSlots)
      ) {
        blocked = true;
        break;
      }
      const { taskId, mapIndex, pool, poolSlots } = ti;
      decisions.update(ti, { busy: true });
      started = true;
      const p: Promise<void> = runTry(this.#tries, decisions.task(taskId)!, { taskId, mapIndex })
        .then(() => {})
        .catch((e) =>
          console.error(`driftflow: internal error running ${taskId}: ${(e as Error).stack}`)
        )
        .finally(() => {
          decisions.update({ taskId, mapIndex }, { busy: false });
          this.#ex.release(pool, poolSlots);
          this.#inFlight.delete(p);
          this.#wake.notify();
        });
      this.#inFlight.add(p);
    }
    return { started, blocked };
  }
}
