/**
 * The decisions a run's task-instance states imply, with no store, no clock and no task code:
 * given the DAG and the states, which task may run, which is skipped or upstream_failed (trigger
 * rules, see core/trigger_rules.ts), a mapped task's state from its items', what a branch skips,
 * which tries may start now, and the run's final state. The states are kept here, privately; the
 * executor, the scheduler and the workers change them through {@link RunDecisions.update} and
 * write them to the store themselves (see run_tracker.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "./dag.ts";
 * import { RunDecisions } from "./run_decisions.ts";
 * const d = dag({ id: "two" }).task("a", { run: () => 1 }).task("b", { deps: ["a"], run: () => 2 });
 * const run = new RunDecisions(d);
 * const fresh = { state: null, tryNumber: 0, maxTries: 1, pool: "default_pool", poolSlots: 1 };
 * for (const t of d.tasks) {
 *   run.put({ ...fresh, taskId: t.id, mapIndex: -1, nextRetryAt: null, busy: false });
 * }
 * assert.deepEqual(run.decide("b"), { kind: "wait" }); // "a" has not run
 * run.update({ taskId: "a", mapIndex: -1 }, { state: "failed" });
 * assert.deepEqual(run.decide("b"), { kind: "settle", state: "upstream_failed" });
 * ```
 */
import type { DagDefinition, TaskDef, TaskSettings } from "./dag.ts";
import { childrenOf } from "./core/children.ts";
import { isFinished } from "./core/states.ts";
import { countUpstream, evaluateTriggerRule } from "./core/trigger_rules.ts";
import type { TaskInstance } from "./store/types.ts";

/** A task instance in memory: its stored fields, and whether this process is trying it now. */
export type Ti =
  & Pick<
    TaskInstance,
    "taskId" | "mapIndex" | "state" | "tryNumber" | "maxTries" | "pool" | "poolSlots"
  >
  & { nextRetryAt: number | null; busy: boolean };

/** Where a task instance is: its task and map index (-1: not an item of a mapped task). */
export interface TiAt {
  readonly taskId: string;
  readonly mapIndex: number;
}

/** What may change of a task instance (its key may not). */
export type TiChange = Partial<Omit<Ti, "taskId" | "mapIndex">>;

/** The map key of a task instance. */
export const tiKey = (taskId: string, mapIndex: number) => `${taskId}\u0000${mapIndex}`;

/**
 * What a task's upstream decides for its (undecided or mapped) instance:
 * - `wait`: nothing yet;
 * - `run`: its trigger rule lets it run (a mapped task expands first);
 * - `settle`: it ends without running, in `state`;
 * - `aggregate`: a mapped task whose items all ended ends in `state`.
 */
export type TaskDecision =
  | { kind: "wait" }
  | { kind: "run" }
  | { kind: "settle"; state: "skipped" | "upstream_failed" }
  | { kind: "aggregate"; state: "success" | "failed" | "skipped" };

/**
 * What becomes of a task instance a process left unfinished when it ended (a resumed run):
 * - `aggregate`: a mapped task with items, `running` again while its items end;
 * - `reset`: decided again (`null`), or an item `scheduled` again, no try used;
 * - `failTry`: its try was under way and counts as failed: retried when tries remain.
 */
export type OrphanFate =
  | { kind: "aggregate" }
  | { kind: "reset"; state: "scheduled" | null }
  | { kind: "failTry"; state: "up_for_retry" | "failed" };

/** The run's end: failed when a leaf failed (or when told so), else success. */
export interface RunOutcome {
  state: "success" | "failed";
  /** The tasks with a failed instance, each once. */
  failedTasks: string[];
}

/** The task instances of one run and what their states decide. */
export class RunDecisions {
  readonly #dag: DagDefinition;
  readonly #tasks: ReadonlyMap<string, TaskDef>;
  readonly #downstream: Map<string, string[]>;
  readonly #defaults: TaskSettings;
  readonly #tis = new Map<string, Ti>();
  /** Each task's place in the DAG (decisions are taken in this order). */
  readonly #order = new Map<string, number>();
  /**
   * The tasks whose decision may have changed since {@link takeChanged} last ran: a task whose
   * instance (or item) changed, and its direct downstream. Deciding only these keeps settling a
   * run linear in its size (deciding every task after every change made a 50,000-task run
   * quadratic).
   */
  readonly #changed = new Set<string>();
  /** The instances waiting for a try (scheduled, up_for_retry, up_for_reschedule), by key. */
  readonly #waiting = new Map<string, Ti>();
  /** The keys of the instances not finished, or being tried. */
  readonly #open = new Set<string>();
  /** Each mapped task's items, by map index (so reading them scans no other instance). */
  readonly #items = new Map<string, Map<number, Ti>>();

  constructor(dag: DagDefinition) {
    this.#dag = dag;
    this.#tasks = new Map(dag.tasks.map((t) => [t.id, t]));
    dag.tasks.forEach((t, i) => this.#order.set(t.id, i));
    this.#downstream = childrenOf(dag.tasks);
    this.#defaults = dag.options.defaults ?? {};
  }

  // ---- the DAG ----------------------------------------------------------------------------------

  /** The task `id`, or undefined when the DAG has none. */
  task(id: string): TaskDef | undefined {
    return this.#tasks.get(id);
  }

  /** The tasks a task instance is decided for, in the DAG's order. */
  tasks(): IterableIterator<TaskDef> {
    return this.#tasks.values();
  }

  /** The tasks that depend on `taskId` directly. */
  downstream(taskId: string): readonly string[] {
    return this.#downstream.get(taskId) ?? [];
  }

  /** Every task `taskId` depends on, directly or not. */
  ancestors(taskId: string): string[] {
    return this.#closure(taskId, (id) => this.#tasks.get(id)?.deps ?? []);
  }

  /** Every task that depends on `taskId`, directly or not. */
  descendants(taskId: string): string[] {
    return this.#closure(taskId, (id) => this.#downstream.get(id) ?? []);
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

  /** A task's setting, or the DAG's default for it. */
  setting<K extends keyof TaskSettings>(task: TaskDef, key: K): TaskSettings[K] {
    return task.settings[key] !== undefined ? task.settings[key] : this.#defaults[key];
  }

  /** The task's settings over the DAG's defaults. */
  settings(task: TaskDef): TaskSettings {
    return { ...this.#defaults, ...task.settings };
  }

  // ---- the states -------------------------------------------------------------------------------

  /** Adds (or replaces) a task instance of a task of the DAG; false for another DAG's task. */
  put(ti: Ti): boolean {
    if (!this.#tasks.has(ti.taskId)) return false;
    const key = tiKey(ti.taskId, ti.mapIndex);
    const copy = { ...ti };
    this.#tis.set(key, copy);
    if (copy.mapIndex >= 0) this.#itemsOf(copy.taskId).set(copy.mapIndex, copy);
    this.#index(key, copy);
    this.#touch(ti.taskId);
    return true;
  }

  /** Keeps the waiting and open indexes in step with an instance's state. */
  #index(key: string, ti: Ti): void {
    if (
      ti.state === "scheduled" || ti.state === "up_for_retry" || ti.state === "up_for_reschedule"
    ) {
      this.#waiting.set(key, ti);
    } else this.#waiting.delete(key);
    if (!isFinished(ti.state) || ti.busy) this.#open.add(key);
    else this.#open.delete(key);
  }

  /** Marks `taskId` and its direct downstream as to be decided again. */
  #touch(taskId: string): void {
    this.#changed.add(taskId);
    for (const d of this.#downstream.get(taskId) ?? []) this.#changed.add(d);
  }

  /**
   * The tasks whose decision may have changed since the last call (an instance of theirs or of an
   * upstream task was put or changed), in the DAG's order; the set starts again empty.
   */
  takeChanged(): TaskDef[] {
    const ids = [...this.#changed];
    this.#changed.clear();
    return ids.map((id) => this.#tasks.get(id)!)
      .sort((a, b) => this.#order.get(a.id)! - this.#order.get(b.id)!);
  }

  /** Keeps `taskId` among the tasks to decide again (it waits on something outside the run). */
  recheck(taskId: string): void {
    this.#changed.add(taskId);
  }

  /** The task instance at `at` (a view: change it with {@link update}). */
  get(at: TiAt): Readonly<Ti> | undefined {
    return this.#tis.get(tiKey(at.taskId, at.mapIndex));
  }

  /** Every task instance known (views), in the order they were put. */
  instances(): IterableIterator<Readonly<Ti>> {
    return this.#tis.values();
  }

  /** The instance of `taskId` that is not a map item; every task of a loaded run has one. */
  parent(taskId: string): Readonly<Ti> {
    const ti = this.#tis.get(tiKey(taskId, -1));
    if (!ti) throw new Error(`task "${taskId}" has no task instance in this run`);
    return ti;
  }

  /** The map items of `taskId`, by map index. */
  children(taskId: string): Readonly<Ti>[] {
    return [...(this.#items.get(taskId)?.values() ?? [])].sort((a, b) => a.mapIndex - b.mapIndex);
  }

  #itemsOf(taskId: string): Map<number, Ti> {
    let items = this.#items.get(taskId);
    if (!items) this.#items.set(taskId, items = new Map());
    return items;
  }

  /** Changes a task instance's fields; returns it. */
  update(at: TiAt, change: TiChange): Readonly<Ti> {
    const key = tiKey(at.taskId, at.mapIndex);
    const ti = this.#tis.get(key);
    if (!ti) {
      throw new Error(`${at.taskId}[${at.mapIndex}] is not a task instance of this run`);
    }
    this.#touch(at.taskId);
    Object.assign(ti, change);
    this.#index(key, ti);
    return ti;
  }

  /** Adds `count` items of mapped task `taskId`, scheduled, each with its task's limits. */
  expand(taskId: string, count: number): void {
    const parent = this.parent(taskId);
    this.#touch(taskId);
    for (let i = 0; i < count; i++) {
      const key = tiKey(taskId, i);
      const item: Ti = {
        ...parent,
        mapIndex: i,
        state: "scheduled",
        tryNumber: 0,
        nextRetryAt: null,
        busy: false,
      };
      this.#tis.set(key, item);
      this.#itemsOf(taskId).set(i, item);
      this.#index(key, item);
    }
  }

  // ---- deciding ---------------------------------------------------------------------------------

  /** What the states of `taskId`'s upstream (or, mapped and running, of its items) decide for it. */
  decide(taskId: string): TaskDecision {
    const task = this.#tasks.get(taskId);
    if (!task) throw new Error(`dag "${this.#dag.id}" has no task "${taskId}"`);
    const parent = this.parent(taskId);
    if (task.mapped && parent.state === "running" && !parent.busy) {
      const state = this.#aggregate(taskId);
      return state === null ? { kind: "wait" } : { kind: "aggregate", state };
    }
    if (parent.state !== null) return { kind: "wait" };
    const decision = evaluateTriggerRule(
      task.triggerRule,
      countUpstream(task.deps.map((d) => this.parent(d).state)),
    );
    if (decision === "wait") return { kind: "wait" };
    if (decision === "run") return { kind: "run" };
    return { kind: "settle", state: decision };
  }

  /** A mapped task's state once all its items ended: failed if one failed, skipped if all were. */
  #aggregate(taskId: string): "success" | "failed" | "skipped" | null {
    const children = this.children(taskId);
    if (children.length === 0 || !children.every((c) => isFinished(c.state))) return null;
    const states = children.map((c) => c.state);
    return states.some((s) => s === "failed" || s === "upstream_failed")
      ? "failed"
      : states.every((s) => s === "skipped")
      ? "skipped"
      : "success";
  }

  /** What becomes of `at`, left running, queued or scheduled by a process that ended. */
  orphanFate(at: TiAt): OrphanFate {
    const ti = this.#tis.get(tiKey(at.taskId, at.mapIndex));
    if (!ti) throw new Error(`${at.taskId}[${at.mapIndex}] is not a task instance of this run`);
    if (ti.mapIndex === -1 && this.#tasks.get(ti.taskId)?.mapped) {
      // A mapped task with items is aggregated from them; without items it expands again.
      return this.children(ti.taskId).length > 0
        ? { kind: "aggregate" }
        : { kind: "reset", state: null };
    }
    if (ti.state !== "running" || ti.tryNumber === 0) {
      return { kind: "reset", state: ti.mapIndex >= 0 ? "scheduled" : null };
    }
    return { kind: "failTry", state: ti.tryNumber <= ti.maxTries ? "up_for_retry" : "failed" };
  }

  /**
   * The task instances whose try may start at `now` (epoch ms), in order: scheduled, or waiting
   * for a retry or a reschedule that is due; none being tried, no mapped task (its items run).
   */
  ready(now: number): Readonly<Ti>[] {
    return [...this.readyNow(now)];
  }

  /**
   * {@link ready}, lazily: a caller that stops at its capacity reads only the instances it starts
   * (the run keeps an index of the waiting ones, so a 50,000-task fan-out is not scanned per try).
   */
  *readyNow(now: number): IterableIterator<Readonly<Ti>> {
    for (const ti of this.#waiting.values()) {
      if (ti.busy) continue;
      if (ti.mapIndex === -1 && this.#tasks.get(ti.taskId)?.mapped) continue;
      if (ti.state === "scheduled" || (ti.nextRetryAt ?? 0) <= now) yield ti;
    }
  }

  /** The task instances not finished and not being tried (what a timed-out run skips). */
  unfinished(): Readonly<Ti>[] {
    return [...this.#open].map((key) => this.#tis.get(key)!).filter((ti) => !ti.busy);
  }

  /** When the first retry or reschedule not being tried is due (epoch ms), or null. */
  earliestRetry(): number | null {
    let at: number | null = null;
    for (const ti of this.#waiting.values()) {
      const waiting = ti.state === "up_for_retry" || ti.state === "up_for_reschedule";
      if (waiting && !ti.busy && ti.nextRetryAt !== null) {
        at = at === null ? ti.nextRetryAt : Math.min(at, ti.nextRetryAt);
      }
    }
    return at;
  }

  /** True when every task instance has finished and none is being tried. */
  allFinished(): boolean {
    return this.#open.size === 0;
  }

  /** The ids branch `taskId` follows: what it returned (nothing — undefined or null — follows none). */
  followed(taskId: string, value: unknown): string[] {
    const ids = value == null ? [] : typeof value === "string" ? [value] : value;
    const direct = this.downstream(taskId);
    if (!Array.isArray(ids) || !ids.every((x) => typeof x === "string")) {
      throw new Error(
        `branch "${taskId}" must return a task id or a list of them, got ${JSON.stringify(value)}`,
      );
    }
    for (const id of ids) {
      if (!direct.includes(id)) {
        throw new Error(
          `branch "${taskId}" returned "${id}", which is not one of its direct downstream tasks: ${
            direct.join(", ") || "(none)"
          }`,
        );
      }
    }
    return ids;
  }

  /**
   * The direct downstream task instances branch `taskId` skips, still undecided: those neither
   * followed nor downstream of a followed task (Airflow's `skip_all_except`: a join beside a
   * followed task is followed too).
   */
  notFollowed(taskId: string, followed: readonly string[]): Readonly<Ti>[] {
    const kept = new Set(followed);
    for (const id of followed) for (const d of this.descendants(id)) kept.add(d);
    return this.downstream(taskId).filter((id) => !kept.has(id))
      .map((id) => this.parent(id)).filter((ti) => ti.state === null);
  }

  /** The run's end: failed when a leaf failed or is upstream_failed, or with `failedAnyway`. */
  outcome(failedAnyway = false): RunOutcome {
    const leaves = this.#dag.tasks.filter((t) => !this.#downstream.has(t.id));
    const failed = failedAnyway || leaves.some((t) => {
      const s = this.parent(t.id).state;
      return s === "failed" || s === "upstream_failed";
    });
    const failedTasks = [
      ...new Set([...this.#tis.values()].filter((t) => t.state === "failed").map((t) => t.taskId)),
    ];
    return { state: failed ? "failed" : "success", failedTasks };
  }
}
