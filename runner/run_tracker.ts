/**
 * What a process knows of one run: its task instances, the XComs of finished tasks, and the
 * decisions their states imply — trigger rules, branch skips, mapping, a mapped task's aggregate
 * state and the run's final state. The in-process executor, the scheduler and the workers share it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { dag } from "./dag.ts";
 * import { Executor } from "./executor.ts";
 * import { RunTracker, tiKey } from "./run_tracker.ts";
 * import { createDagRun } from "./runs.ts";
 * import { openStore } from "./store/open.ts";
 * const etl = dag({ id: "etl" })
 *   .task("extract", { run: () => 1 })
 *   .task("load", { deps: ["extract"], run: () => 2 });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const env = new Executor({ store, artifacts: new LocalArtifactStore(dir) }); // a RunEnv
 *   const tracker = new RunTracker(env, etl, await createDagRun(store, etl));
 *   await tracker.load("resume");
 *   await tracker.settle(); // schedules what may run, skips what may not
 *   assert.equal(tracker.tis.get(tiKey("extract", -1))?.state, "scheduled");
 *   assert.equal(tracker.tis.get(tiKey("load", -1))?.state, null); // waits for extract
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import type { Clock } from "./clock.ts";
import {
  type AnyContext,
  type DagDefinition,
  SkipTask,
  type TaskDef,
  type TaskSettings,
} from "./dag.ts";
import { isFinished, type RunState, type TaskState } from "./core/states.ts";
import type { Store } from "./store/store.ts";
import type { DagRun, TaskInstance } from "./store/types.ts";
import { formatLogArgs } from "./task_log.ts";
import { countUpstream, evaluateTriggerRule } from "./core/trigger_rules.ts";
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

/** What running tasks of a run needs from the process: the store, time, artifacts, reporting. */
export interface RunEnv {
  readonly store: Store;
  readonly clock: Clock;
  readonly artifacts: ArtifactStore;
  readonly hostname: string;
  /** Aborts running tries (shutdown). */
  readonly signal?: AbortSignal;
  emit(event: ExecutorEvent): void;
  /** Starts (and maybe waits for) a run of another DAG for a trigger task. */
  trigger(
    dagId: string,
    conf: Record<string, unknown>,
    parent: { runId: number; taskId: string },
    wait: boolean,
  ): Promise<{ runId: number; state: RunState }>;
}

/** A task instance in memory: its stored fields, and whether this process is trying it now. */
export type Ti =
  & Pick<
    TaskInstance,
    "taskId" | "mapIndex" | "state" | "tryNumber" | "maxTries" | "pool" | "poolSlots"
  >
  & { nextRetryAt: number | null; busy: boolean };

/** The map key of a task instance. */
export const tiKey = (taskId: string, mapIndex: number) => `${taskId}\u0000${mapIndex}`;

/** The state of one run as a process sees it, and the decisions its upstream states imply. */
export class RunTracker {
  readonly tis = new Map<string, Ti>();
  readonly tasks: Map<string, TaskDef>;
  readonly downstream = new Map<string, string[]>();
  readonly outputs = new Map<string, Map<number, unknown>>();
  readonly expanded = new Map<string, readonly unknown[]>();
  /** Map items read with a try's own instance (see {@link load}). */
  readonly #items = new Map<string, unknown>();
  readonly defaults: TaskSettings;
  readonly store: Store;
  readonly clock: Clock;
  /** Aborts this run's tries: the process's signal, or one the run adds (its dagrunTimeout). */
  signal: AbortSignal | undefined;
  /** How many tasks the last `settle` left waiting for their previous instance (dependsOnPast). */
  waitingOnPast = 0;
  readonly #pastOk = new Set<string>();

  constructor(readonly env: RunEnv, readonly dag: DagDefinition, readonly run: DagRun) {
    this.signal = env.signal;
    this.tasks = new Map(dag.tasks.map((t) => [t.id, t]));
    for (const t of dag.tasks) {
      for (const d of t.deps) {
        const list = this.downstream.get(d);
        if (list) list.push(t.id);
        else this.downstream.set(d, [t.id]);
      }
    }
    this.defaults = dag.options.defaults ?? {};
    this.store = env.store;
    this.clock = env.clock;
  }

  /**
   * Reads the run's task instances and XComs. "resume": this process owns the run alone, so a try
   * left running or queued belongs to a process that ended; "observe": others may be running tries,
   * so states are taken as they are.
   */
  async load(
    mode: "resume" | "observe",
    forTry?: { taskId: string; mapIndex: number },
  ): Promise<void> {
    // For one try: its own instance, what it reads (ancestors), what a branch may skip (downstream).
    const reads = forTry ? this.ancestors(forTry.taskId) : undefined;
    let rows;
    if (forTry) {
      // The try's map item comes with its instance (no query of its own when the try runs).
      const got = await this.store.taskInstancesForTry(
        { runId: this.run.id, ...forTry },
        [...reads!, ...(this.downstream.get(forTry.taskId) ?? [])],
      );
      rows = got.tis;
      if (forTry.mapIndex >= 0) this.#items.set(tiKey(forTry.taskId, forTry.mapIndex), got.item);
    } else rows = await this.store.taskInstances(this.run.id);
    for (const ti of rows) {
      if (!this.tasks.has(ti.taskId)) continue;
      this.tis.set(tiKey(ti.taskId, ti.mapIndex), {
        ...ti,
        nextRetryAt: ti.nextRetryAt?.getTime() ?? null,
        busy: false,
      });
    }
    for (const ti of this.tis.values()) {
      if (mode === "observe") continue;
      if (ti.state === "running" || ti.state === "queued" || ti.state === "scheduled") {
        await this.orphaned(ti);
      }
    }
    if (reads?.length === 0) return;
    for (const x of await this.store.xcoms(this.run.id, reads)) {
      this.setOutput(x.taskId, x.mapIndex, await decodeXcom(x, this.env.artifacts));
    }
  }

  /** Every task `taskId` depends on, directly or not. */
  ancestors(taskId: string): string[] {
    return this.#closure(taskId, (id) => this.tasks.get(id)?.deps ?? []);
  }

  /** Every task that depends on `taskId`, directly or not. */
  descendants(taskId: string): string[] {
    return this.#closure(taskId, (id) => this.downstream.get(id) ?? []);
  }

  #closure(from: string, next: (id: string) => readonly string[]): string[] {
    const seen = new Set<string>();
    const stack = [from];
    while (stack.length) {
      for (const d of next(stack.pop()!)) {
        if (!seen.has(d)) {
          seen.add(d);
          stack.push(d);
        }
      }
    }
    return [...seen];
  }

  /** A task instance left unfinished by a process that ended (a resumed run). */
  async orphaned(ti: Ti): Promise<void> {
    const key = { runId: this.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex };
    if (ti.mapIndex === -1 && this.tasks.get(ti.taskId)!.mapped) {
      // A mapped task with items is aggregated from them; without items it expands again.
      if (this.children(ti.taskId).length > 0) ti.state = "running";
      else await this.setState(ti, null);
      return;
    }
    if (ti.state !== "running" || ti.tryNumber === 0) {
      await this.setState(ti, ti.mapIndex >= 0 ? "scheduled" : null);
      return;
    }
    // The try was under way: it counts as failed, and is retried when tries remain.
    const retry = ti.tryNumber <= ti.maxTries;
    ti.state = retry ? "up_for_retry" : "failed";
    ti.nextRetryAt = retry ? this.clock.now() : null;
    await this.store.finishTry(key, ti.tryNumber, {
      state: ti.state,
      at: new Date(this.clock.now()),
      durationMs: 0,
      error: "the process running this try ended before the try finished",
      nextRetryAt: retry ? new Date(this.clock.now()) : null,
    });
  }

  // ---- deciding ---------------------------------------------------------------------------------

  children(taskId: string): Ti[] {
    const out: Ti[] = [];
    for (const ti of this.tis.values()) if (ti.taskId === taskId && ti.mapIndex >= 0) out.push(ti);
    return out.sort((a, b) => a.mapIndex - b.mapIndex);
  }

  parent(taskId: string): Ti {
    return this.tis.get(tiKey(taskId, -1))!;
  }

  /**
   * Settles every task instance whose fate its upstream decides, and expands mapped tasks. With
   * `persist`, "scheduled" is stored too (workers claim it); otherwise it stays in memory.
   * Returns how many task instances changed.
   */
  async settle(persist = false): Promise<number> {
    let changes = 0;
    let changed = true;
    while (changed) {
      changed = false;
      this.waitingOnPast = 0;
      for (const task of this.tasks.values()) {
        const parent = this.parent(task.id);
        if (task.mapped && parent.state === "running" && !parent.busy) {
          if (await this.aggregateMapped(task, parent)) {
            changed = true;
            changes++;
          }
          continue;
        }
        if (parent.state !== null) continue;
        const decision = evaluateTriggerRule(
          task.triggerRule,
          countUpstream(task.deps.map((d) => this.parent(d).state)),
        );
        if (decision === "wait") continue;
        if (decision === "run" && !await this.pastAllows(task)) {
          this.waitingOnPast++;
          continue;
        }
        changed = true;
        changes++;
        if (decision === "run") {
          if (task.mapped) await this.expand(task, parent);
          else if (persist) await this.setState(parent, "scheduled");
          else this.setMemState(parent, "scheduled");
        } else await this.setState(parent, decision);
      }
    }
    return changes;
  }

  /**
   * Airflow's `depends_on_past`: with `dependsOnPast`, a task may run only when its instance in the
   * previous run (by logical date) ended success or skipped; no previous run, or a previous run
   * without the task, allows it.
   */
  async pastAllows(task: TaskDef): Promise<boolean> {
    if (!this.setting(task, "dependsOnPast") || this.#pastOk.has(task.id)) return true;
    const prev = await this.store.previousTaskState(this.dag.id, this.run.logicalDate, task.id);
    const ok = prev === undefined || prev === "success" || prev === "skipped";
    if (ok) this.#pastOk.add(task.id);
    return ok;
  }

  /** Settles every unfinished task instance as skipped (the run timed out); returns how many. */
  async skipUnfinished(reason: string): Promise<number> {
    let n = 0;
    for (const ti of this.tis.values()) {
      if (isFinished(ti.state) || ti.busy) continue;
      await this.setState(ti, "skipped", reason);
      n++;
    }
    return n;
  }

  async expand(task: TaskDef, parent: Ti): Promise<void> {
    let items: readonly unknown[];
    parent.busy = true;
    try {
      items = await task.expand!(
        this.context(task, -1, parent.tryNumber, new AbortController().signal, () => {}),
      );
      if (!Array.isArray(items)) {
        throw new Error(`expand must return an array, got ${typeof items}`);
      }
    } catch (e) {
      parent.busy = false;
      await this.setState(parent, "failed", `expand failed: ${(e as Error).message}`);
      return;
    }
    parent.busy = false;
    if (items.length === 0) {
      await this.setState(parent, "skipped", "expand returned no items");
      return;
    }
    try {
      JSON.stringify(items);
    } catch (e) {
      await this.setState(
        parent,
        "failed",
        `expand must return JSON-serialisable items: ${(e as Error).message}`,
      );
      return;
    }
    await this.store.expandMapped({ runId: this.run.id, taskId: task.id, mapIndex: -1 }, items);
    this.expanded.set(task.id, items);
    for (let i = 0; i < items.length; i++) {
      this.tis.set(tiKey(task.id, i), {
        ...parent,
        mapIndex: i,
        state: "scheduled",
        tryNumber: 0,
        maxTries: parent.maxTries,
        nextRetryAt: null,
        busy: false,
      });
    }
    await this.setState(parent, "running");
  }

  async aggregateMapped(task: TaskDef, parent: Ti): Promise<boolean> {
    const children = this.children(task.id);
    if (children.length === 0 || !children.every((c) => isFinished(c.state))) return false;
    const states = children.map((c) => c.state);
    const state: TaskState = states.some((s) => s === "failed" || s === "upstream_failed")
      ? "failed"
      : states.every((s) => s === "skipped")
      ? "skipped"
      : "success";
    await this.setState(parent, state);
    return true;
  }

  setMemState(ti: Ti, state: TaskState | null): void {
    ti.state = state;
    this.env.emit({
      kind: "task",
      runId: this.run.id,
      taskId: ti.taskId,
      mapIndex: ti.mapIndex,
      state,
      tryNumber: ti.tryNumber,
    });
  }

  /** Sets a state in memory at once (so the loop sees it), then in the store. */
  async setState(ti: Ti, state: TaskState | null, error?: string): Promise<void> {
    this.setMemState(ti, state);
    await this.store.setTaskState(
      { runId: this.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex },
      state,
      { error: error ?? null, at: new Date(this.clock.now()) },
    );
  }

  earliestRetry(): number | null {
    let at: number | null = null;
    for (const ti of this.tis.values()) {
      const waiting = ti.state === "up_for_retry" || ti.state === "up_for_reschedule";
      if (waiting && !ti.busy && ti.nextRetryAt !== null) {
        at = at === null ? ti.nextRetryAt : Math.min(at, ti.nextRetryAt);
      }
    }
    return at;
  }

  allFinished(): boolean {
    for (const ti of this.tis.values()) if (!isFinished(ti.state) || ti.busy) return false;
    return true;
  }

  // ---- running ----------------------------------------------------------------------------------

  setting<K extends keyof TaskSettings>(task: TaskDef, key: K): TaskSettings[K] {
    return task.settings[key] !== undefined ? task.settings[key] : this.defaults[key];
  }

  /** The item of a mapped task instance: from memory, or as stored when the task was expanded. */
  async item(task: TaskDef, mapIndex: number): Promise<unknown> {
    const items = this.expanded.get(task.id);
    if (items) return items[mapIndex];
    const k = tiKey(task.id, mapIndex);
    if (this.#items.has(k)) return this.#items.get(k);
    return await this.store.mapItem({ runId: this.run.id, taskId: task.id, mapIndex });
  }

  context(
    task: TaskDef,
    mapIndex: number,
    tryNumber: number,
    signal: AbortSignal,
    log: (line: string) => void,
  ): AnyContext {
    const ctxTask = task;
    let upstream: Set<string> | null = null;
    const xcom = (id: string) => {
      const task = this.tasks.get(id);
      if (!task) throw new Error(`ctx.xcom("${id}"): dag "${this.dag.id}" has no task "${id}"`);
      upstream ??= new Set(this.ancestors(ctxTask.id));
      if (!upstream.has(id)) {
        throw new Error(
          `ctx.xcom("${id}") in task "${ctxTask.id}": "${id}" is not upstream of "${ctxTask.id}", ` +
            `so whether it has run is a matter of timing; add "${id}" to its deps`,
        );
      }
      const values = this.outputs.get(id);
      if (task.mapped) {
        const n = this.children(id).length;
        return values || n ? Array.from({ length: n }, (_, i) => values?.get(i)) : undefined;
      }
      return values?.get(-1);
    };
    return {
      dagId: this.dag.id,
      runId: this.run.id,
      taskId: task.id,
      mapIndex,
      tryNumber,
      logicalDate: this.run.logicalDate,
      dataInterval: { start: this.run.dataIntervalStart, end: this.run.dataIntervalEnd },
      params: this.run.params,
      conf: this.run.conf,
      signal,
      log: (...args) => log(formatLogArgs(args)),
      xcom: (id) => {
        const v = xcom(id);
        if (v === undefined) {
          const state = this.tis.get(tiKey(id, -1))?.state ?? "none";
          throw new Error(
            `ctx.xcom("${id}"): task "${id}" has left no value in run ${this.run.id} (its state: ${state})`,
          );
        }
        return v;
      },
      maybeXcom: (id) => xcom(id),
      skip: (reason?: string): never => {
        throw new SkipTask(reason);
      },
      priorXcom: async (id) => {
        const stored = await this.store.priorXcom(this.run.dagId, this.run.logicalDate, id);
        return stored ? await decodeXcom(stored, this.env.artifacts) as never : undefined;
      },
      putArtifact: (data) =>
        this.env.artifacts.put(typeof data === "string" ? new TextEncoder().encode(data) : data),
      getArtifact: (key) => this.env.artifacts.get(key),
      db: this.store.db,
      artifacts: this.env.artifacts,
      now: () => new Date(this.clock.now()),
    };
  }

  setOutput(taskId: string, mapIndex: number, value: unknown): void {
    let m = this.outputs.get(taskId);
    if (!m) this.outputs.set(taskId, m = new Map());
    m.set(mapIndex, value);
  }

  /** The ids a branch follows: what it returned (nothing — undefined or null — follows none). */
  followed(task: TaskDef, value: unknown): string[] {
    const ids = value == null ? [] : typeof value === "string" ? [value] : value;
    const direct = this.downstream.get(task.id) ?? [];
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === "string")) {
      throw new Error(
        `branch "${task.id}" must return a task id or a list of them, got ${JSON.stringify(value)}`,
      );
    }
    for (const id of ids) {
      if (!direct.includes(id)) {
        throw new Error(
          `branch "${task.id}" returned "${id}", which is not one of its direct downstream tasks: ${
            direct.join(", ") || "(none)"
          }`,
        );
      }
    }
    return ids;
  }

  /**
   * The direct downstream task instances a branch skips, still undecided: those neither followed
   * nor downstream of a followed task (Airflow's `skip_all_except`: a join beside a followed task
   * is followed too).
   */
  notFollowed(task: TaskDef, followed: string[]): Ti[] {
    const kept = new Set(followed);
    for (const id of followed) for (const d of this.descendants(id)) kept.add(d);
    return (this.downstream.get(task.id) ?? []).filter((id) => !kept.has(id))
      .map((id) => this.parent(id)).filter((ti) => ti.state === null);
  }

  async callback<E>(fn: ((e: E) => unknown) | undefined, event: E, name: string): Promise<void> {
    if (!fn) return;
    try {
      await fn(event);
    } catch (e) {
      console.error(
        `driftflow: ${name} callback of dag "${this.dag.id}" failed: ${(e as Error).message}`,
      );
    }
  }

  // ---- finishing --------------------------------------------------------------------------------

  /** Ends the run: failed when a leaf failed (or when `failed` says so: it timed out), else success. */
  async finish(failedAnyway = false): Promise<RunState> {
    const leaves = this.dag.tasks.filter((t) => !this.downstream.has(t.id));
    const failed = failedAnyway || leaves.some((t) => {
      const s = this.parent(t.id).state;
      return s === "failed" || s === "upstream_failed";
    });
    const state: RunState = failed ? "failed" : "success";
    await this.store.setRunState(this.run.id, state, new Date(this.clock.now()));
    this.env.emit({ kind: "run", runId: this.run.id, dagId: this.dag.id, state });
    const failedTasks = [
      ...new Set([...this.tis.values()].filter((t) => t.state === "failed").map((t) => t.taskId)),
    ];
    const cb = state === "success" ? this.dag.options.onSuccess : this.dag.options.onFailure;
    await this.callback(
      cb,
      { dagId: this.dag.id, runId: this.run.id, state, failedTasks },
      state === "success" ? "onSuccess" : "onFailure",
    );
    return state;
  }
}
