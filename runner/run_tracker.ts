/**
 * One run's bookkeeping in a process: reads its task instances and XComs from the store, applies
 * what their states decide (see run_decisions.ts) — scheduling, skipping, expanding mapped tasks,
 * aggregating them — to memory and to the store, and ends the run. The in-process executor, the
 * scheduler and the workers each keep one per run they work on; tries run in a try environment
 * built over it (see try_env.ts).
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
 * const store = await openStore({ memory: true });
 * const d = dag({ id: "one" }).task("a", { run: () => 1 });
 * const run = await createDagRun(store, d);
 * const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
 * const tracker = new RunTracker({ store, clock: systemClock, artifacts, emit() {} }, d, run);
 * await tracker.load("resume");
 * await tracker.settle(); // schedules what may run, skips what may not
 * assert.equal(tracker.decisions.get({ taskId: "a", mapIndex: -1 })?.state, "scheduled");
 * await store.close();
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import type { Clock } from "./clock.ts";
import type { DagDefinition, TaskDef } from "./dag.ts";
import type { RunState, TaskState } from "./core/states.ts";
import { RunDecisions, type TiAt } from "./run_decisions.ts";
import type { Store } from "./store/store.ts";
import type { DagRun, TaskInstance, XcomRecord } from "./store/types.ts";
import { TaskContexts } from "./task_context.ts";
import { CHANNEL_TASKS } from "./store/queue.ts";
import { decodeXcom } from "./xcom.ts";

/** What the executor reports as it works (for live displays). */
export type ExecutorEvent =
  | { kind: "run"; runId: number; dagId: string; state: RunState }
  | {
    kind: "task";
    runId: number;
    taskId: string;
    mapIndex: number;
    state: TaskState | null;
    tryNumber: number;
    durationMs?: number;
    error?: string;
  };

/** What keeping a run's books needs from the process: the store, time, artifacts, reporting. */
export interface RunEnv {
  readonly store: Store;
  readonly clock: Clock;
  readonly artifacts: ArtifactStore;
  emit(event: ExecutorEvent): void;
}

/** Calls a DAG's or task's callback; a callback that throws is reported, never fatal. */
export async function runCallback<E>(
  dagId: string,
  fn: ((e: E) => unknown) | undefined,
  event: E,
  name: string,
): Promise<void> {
  if (!fn) return;
  try {
    await fn(event);
  } catch (e) {
    console.error(`driftflow: ${name} callback of dag "${dagId}" failed: ${(e as Error).message}`);
  }
}

/** The state of one run as a process sees it, kept in step with the store. */
export class RunTracker {
  readonly env: RunEnv;
  readonly dag: DagDefinition;
  readonly run: DagRun;
  readonly #decisions: RunDecisions;
  readonly #contexts: TaskContexts;
  /** How many tasks the last `settle` left waiting for their previous instance (dependsOnPast). */
  #waitingOnPast = 0;
  readonly #pastOk = new Set<string>();

  constructor(env: RunEnv, dag: DagDefinition, run: DagRun) {
    this.env = env;
    this.dag = dag;
    this.run = run;
    this.#decisions = new RunDecisions(dag);
    this.#contexts = new TaskContexts(env, run, this.#decisions);
  }

  /** The task instances in memory and what they decide (no store). */
  get decisions(): RunDecisions {
    return this.#decisions;
  }

  /** The run's XCom values and map items, and the task contexts built from them. */
  get contexts(): TaskContexts {
    return this.#contexts;
  }

  /** How many tasks the last {@link settle} left waiting for their previous instance. */
  get waitingOnPast(): number {
    return this.#waitingOnPast;
  }

  /**
   * Reads the run's task instances and XComs. "resume": this process owns the run alone, so a try
   * left running or queued belongs to a process that ended; "observe": others may be running tries,
   * so states are taken as they are. With `forTry`, only what that try reads (its ancestors), what
   * a branch may skip (its direct downstream) and its own instance (with its map item).
   */
  async load(mode: "resume" | "observe", forTry?: TiAt): Promise<void> {
    const store = this.env.store;
    if (forTry) {
      const { others, reads } = this.readsOf(forTry);
      // The try's map item comes with its instance (no query of its own when the try runs).
      const got = await store.taskInstancesForTry(
        { runId: this.run.id, taskId: forTry.taskId, mapIndex: forTry.mapIndex },
        others,
      );
      const xcoms = reads.length === 0 ? [] : await store.xcoms(this.run.id, reads);
      await this.loaded(forTry, { ...got, xcoms });
      return;
    }
    for (const ti of await store.taskInstances(this.run.id)) {
      this.#decisions.put({ ...ti, nextRetryAt: ti.nextRetryAt?.getTime() ?? null, busy: false });
    }
    if (mode === "resume") {
      for (const ti of [...this.#decisions.instances()]) {
        if (ti.state === "running" || ti.state === "queued" || ti.state === "scheduled") {
          await this.#orphaned(ti);
        }
      }
    }
    for (const x of await store.xcoms(this.run.id)) {
      this.#contexts.setOutput(x.taskId, x.mapIndex, await decodeXcom(x, this.env.artifacts));
    }
  }

  /**
   * What one try reads ("observe"): the instances of `others` — its ancestors, and its direct
   * downstream (what a branch may skip) — besides its own, and the XComs of `reads` (its
   * ancestors).
   */
  readsOf(forTry: TiAt): { others: string[]; reads: string[] } {
    const reads = this.#decisions.ancestors(forTry.taskId);
    return { others: [...reads, ...this.#decisions.downstream(forTry.taskId)], reads: [...reads] };
  }

  /** Takes in what {@link readsOf} names for `forTry`, as read (see Store.startTryAndRead). */
  async loaded(
    forTry: TiAt,
    got: { tis: readonly TaskInstance[]; item: unknown; xcoms: readonly XcomRecord[] },
  ): Promise<void> {
    if (forTry.mapIndex >= 0) this.#contexts.setItem(forTry.taskId, forTry.mapIndex, got.item);
    for (const ti of got.tis) {
      this.#decisions.put({ ...ti, nextRetryAt: ti.nextRetryAt?.getTime() ?? null, busy: false });
    }
    for (const x of got.xcoms) {
      this.#contexts.setOutput(x.taskId, x.mapIndex, await decodeXcom(x, this.env.artifacts));
    }
  }

  /** A task instance left unfinished by a process that ended (a resumed run). */
  async #orphaned(at: TiAt): Promise<void> {
    const fate = this.#decisions.orphanFate(at);
    if (fate.kind === "aggregate") {
      this.#decisions.update(at, { state: "running" });
      return;
    }
    if (fate.kind === "reset") {
      await this.setState(at, fate.state);
      return;
    }
    // The try was under way: it counts as failed, and is retried when tries remain.
    const now = this.env.clock.now();
    const retry = fate.state === "up_for_retry";
    const ti = this.#decisions.update(at, { state: fate.state, nextRetryAt: retry ? now : null });
    await this.env.store.finishTry(
      { runId: this.run.id, taskId: at.taskId, mapIndex: at.mapIndex },
      ti.tryNumber,
      {
        state: fate.state,
        at: new Date(now),
        durationMs: 0,
        error: "the process running this try ended before the try finished",
        nextRetryAt: retry ? new Date(now) : null,
      },
    );
  }

  /**
   * Settles every task instance whose fate its upstream decides, and expands mapped tasks. With
   * `persist`, "scheduled" is stored too (workers claim it); otherwise it stays in memory.
   * Returns how many task instances changed.
   */
  async settle(persist = false): Promise<number> {
    let changes = 0;
    // Only the tasks whose upstream (or own instances) changed since the last settle are decided
    // again; a change made here marks its downstream, decided in the next round, to a fixpoint.
    const waiting = new Set<string>();
    for (
      let round = this.#decisions.takeChanged();
      round.length > 0;
      round = this.#decisions.takeChanged()
    ) {
      for (const task of round) {
        const decision = this.#decisions.decide(task.id);
        if (decision.kind === "wait") continue;
        const at = { taskId: task.id, mapIndex: -1 };
        if (decision.kind === "run" && !await this.#pastAllows(task)) {
          waiting.add(task.id);
          continue;
        }
        waiting.delete(task.id);
        changes++;
        if (decision.kind !== "run") await this.setState(at, decision.state);
        else if (task.mapped) await this.#expand(task);
        else if (persist) await this.setState(at, "scheduled", undefined, CHANNEL_TASKS);
        else this.mark(at, "scheduled");
      }
    }
    // what waits on the previous run's instance is asked again at every settle
    this.#waitingOnPast = waiting.size;
    for (const id of waiting) this.#decisions.recheck(id);
    return changes;
  }

  /**
   * Airflow's `depends_on_past`: with `dependsOnPast`, a task may run only when its instance in the
   * previous run (by logical date) ended success or skipped; no previous run, or a previous run
   * without the task, allows it.
   */
  async #pastAllows(task: TaskDef): Promise<boolean> {
    if (!this.#decisions.setting(task, "dependsOnPast") || this.#pastOk.has(task.id)) return true;
    const prev = await this.env.store.previousTaskState(this.dag.id, this.run.logicalDate, task.id);
    const ok = prev === undefined || prev === "success" || prev === "skipped";
    if (ok) this.#pastOk.add(task.id);
    return ok;
  }

  /** Runs a mapped task's `expand` and adds its items, scheduled; an error or no items ends it. */
  async #expand(task: TaskDef): Promise<void> {
    const at = { taskId: task.id, mapIndex: -1 };
    let items: readonly unknown[];
    const parent = this.#decisions.update(at, { busy: true });
    try {
      items = await task.expand!(
        this.#contexts.context(task, -1, parent.tryNumber, new AbortController().signal, () => {}),
      );
      if (!Array.isArray(items)) {
        throw new Error(`expand must return an array, got ${typeof items}`);
      }
    } catch (e) {
      this.#decisions.update(at, { busy: false });
      await this.setState(at, "failed", `expand failed: ${(e as Error).message}`);
      return;
    }
    this.#decisions.update(at, { busy: false });
    if (items.length === 0) {
      await this.setState(at, "skipped", "expand returned no items");
      return;
    }
    try {
      JSON.stringify(items);
    } catch (e) {
      await this.setState(
        at,
        "failed",
        `expand must return JSON-serialisable items: ${(e as Error).message}`,
      );
      return;
    }
    await this.env.store.expandMapped({ runId: this.run.id, ...at }, items);
    this.#contexts.setItems(task.id, items);
    this.#decisions.expand(task.id, items.length);
    await this.setState(at, "running");
  }

  /** Settles every unfinished task instance as skipped (the run timed out); returns how many. */
  async skipUnfinished(reason: string): Promise<number> {
    const unfinished = this.#decisions.unfinished();
    for (const ti of unfinished) await this.setState(ti, "skipped", reason);
    return unfinished.length;
  }

  /** Sets a state in memory only, and reports it. */
  mark(at: TiAt, state: TaskState | null): void {
    const ti = this.#decisions.update(at, { state });
    this.env.emit({
      kind: "task",
      runId: this.run.id,
      taskId: ti.taskId,
      mapIndex: ti.mapIndex,
      state,
      tryNumber: ti.tryNumber,
    });
  }

  /**
   * Sets a state in memory at once (so the loop sees it), then in the store; scheduled with
   * `wake`, the listeners of that channel (workers) are woken in the same statement.
   */
  async setState(at: TiAt, state: TaskState | null, error?: string, wake?: string): Promise<void> {
    this.mark(at, state);
    await this.env.store.setTaskState(
      { runId: this.run.id, taskId: at.taskId, mapIndex: at.mapIndex },
      state,
      { error: error ?? null, at: new Date(this.env.clock.now()), wake },
    );
  }

  /** Ends the run: failed when a leaf failed (or when `failedAnyway`: it timed out), else success. */
  async finish(failedAnyway = false): Promise<RunState> {
    const { state, failedTasks } = this.#decisions.outcome(failedAnyway);
    await this.env.store.setRunState(this.run.id, state, new Date(this.env.clock.now()));
    this.env.emit({ kind: "run", runId: this.run.id, dagId: this.dag.id, state });
    const cb = state === "success" ? this.dag.options.onSuccess : this.dag.options.onFailure;
    await runCallback(
      this.dag.id,
      cb,
      { dagId: this.dag.id, runId: this.run.id, state, failedTasks },
      state === "success" ? "onSuccess" : "onFailure",
    );
    return state;
  }
}
