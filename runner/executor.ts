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
 * const etl = dag({ id: "etl" })
 *   .task("extract", { run: () => ({ rows: 3 }) })
 *   .task("load", { deps: ["extract"], run: (ctx) => ctx.xcom("extract").rows * 2 });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const executor = new Executor({ store, artifacts: new LocalArtifactStore(dir) });
 *   const run = await createDagRun(store, etl);
 *   const result = await executor.runToEnd(etl, run.id);
 *   assert.equal(result.state, "success");
 *   assert.deepEqual(result.taskInstances.map((ti) => [ti.taskId, ti.state]), [
 *     ["extract", "success"],
 *     ["load", "success"],
 *   ]);
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { LocalArtifactStore } from "./artifacts/local.ts";
import { type Clock, systemClock } from "./clock.ts";
import { type DagDefinition, SkipTask } from "./dag.ts";
import { parseDuration } from "./duration.ts";
import { createTriggeredRun } from "./runs.ts";
import { type ExecutorEvent, type RunEnv, RunTracker } from "./run_tracker.ts";
import type { RunState } from "./core/states.ts";
import type { Store } from "./store/store.ts";
import type { DagRun, TaskInstance } from "./store/types.ts";
import { runTry } from "./try_runner.ts";

export type { ExecutorEvent } from "./run_tracker.ts";

/** How the executor is set up. */
export interface ExecutorOptions {
  store: Store;
  clock?: Clock;
  /** Where XComs over 1 MB go; default a local directory under the data home. */
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

export class Executor implements RunEnv {
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
    this.artifacts = options.artifacts ?? new LocalArtifactStore(".driftflow/artifacts");
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
class InProcessRun extends RunTracker {
  readonly wake = new Wakeup();
  readonly inFlight = new Set<Promise<void>>();
  readonly maxActiveTasks: number;

  constructor(readonly ex: Executor, dag: DagDefinition, run: DagRun) {
    super(ex, dag, run);
    this.maxActiveTasks = dag.options.maxActiveTasks ?? 16;
  }

  async execute(): Promise<RunState> {
    await this.load("resume");
    await this.store.setRunState(this.run.id, "running", new Date(this.clock.now()));
    this.ex.emit({ kind: "run", runId: this.run.id, dagId: this.dag.id, state: "running" });
    const unwatch = this.ex.watchCapacity(this.wake);
    // dagrunTimeout: from the run's first start (a resumed run keeps its start).
    const limit = this.dag.options.dagrunTimeout;
    const deadline = limit === undefined
      ? null
      : Math.min(this.clock.now(), this.run.startDate?.getTime() ?? Infinity) +
        parseDuration(limit);
    const runAbort = new AbortController();
    this.signal = this.ex.options.signal
      ? AbortSignal.any([this.ex.options.signal, runAbort.signal])
      : runAbort.signal;
    let timedOut: string | null = null;
    try {
      for (;;) {
        if (deadline !== null && this.clock.now() >= deadline) {
          timedOut = `the run exceeded its dagrunTimeout of ${limit}`;
          runAbort.abort(new SkipTask(timedOut));
          await Promise.allSettled([...this.inFlight]);
          await this.skipUnfinished(timedOut);
          break;
        }
        await this.settle();
        const { started, blocked } = this.startReady();
        if (this.allFinished()) break;
        if (started) continue;
        const retryAt = this.earliestRetry();
        if (this.inFlight.size === 0 && retryAt === null && !blocked && !this.waitingOnPast) {
          throw new Error(
            `run ${this.run.id} is stuck: nothing is running or ready (this is a bug)`,
          );
        }
        // Timers end with the wait, so none outlives the run (a 1 h dagrunTimeout, say).
        const timers = new AbortController();
        const sleep = (ms: number) =>
          this.clock.sleep(Math.max(0, ms), timers.signal).catch(() => {});
        const waits: Promise<unknown>[] = [this.wake.wait()];
        if (retryAt !== null) waits.push(sleep(retryAt - this.clock.now()));
        // dependsOnPast: look again for the previous run's result every second.
        if (this.waitingOnPast) waits.push(sleep(PAST_POLL_MS));
        if (deadline !== null) waits.push(sleep(deadline - this.clock.now()));
        await Promise.race(waits);
        timers.abort();
      }
    } finally {
      unwatch();
      await Promise.allSettled([...this.inFlight]);
    }
    return await this.finish(timedOut !== null);
  }

  // ---- loading ----------------------------------------------------------------------------------

  /** Starts every ready try that capacity allows; says whether any started, or any had to wait. */
  startReady(): { started: boolean; blocked: boolean } {
    let started = false;
    let blocked = false;
    const now = this.clock.now();
    for (const ti of this.tis.values()) {
      if (ti.busy) continue;
      const task = this.tasks.get(ti.taskId)!;
      if (task.mapped && ti.mapIndex === -1) continue;
      const ready = ti.state === "scheduled" ||
        ((ti.state === "up_for_retry" || ti.state === "up_for_reschedule") &&
          (ti.nextRetryAt ?? 0) <= now);
      if (!ready) continue;
      if (this.inFlight.size >= this.maxActiveTasks || !this.ex.tryAcquire(ti.pool, ti.poolSlots)) {
        blocked = true;
        break;
      }
      ti.busy = true;
      started = true;
      const p: Promise<void> = runTry(this, task, ti)
        .then(() => {})
        .catch((e) =>
          console.error(`driftflow: internal error running ${ti.taskId}: ${(e as Error).stack}`)
        )
        .finally(() => {
          ti.busy = false;
          this.ex.release(ti.pool, ti.poolSlots);
          this.inFlight.delete(p);
          this.wake.notify();
        });
      this.inFlight.add(p);
    }
    return { started, blocked };
  }
}
