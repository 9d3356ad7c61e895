/**
 * What a task body sees of its run: the XCom values of finished tasks (kept here as they are read
 * or made), a mapped task's items, and the `ctx` built from them — `ctx.xcom` only of upstream
 * tasks, artifacts, the run's params, conf and dates.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { systemClock } from "./clock.ts";
 * import { dag } from "./dag.ts";
 * import { RunDecisions } from "./run_decisions.ts";
 * import { createDagRun } from "./runs.ts";
 * import { openStore } from "./store/open.ts";
 * import { TaskContexts } from "./task_context.ts";
 * const store = await openStore({ memory: true });
 * const d = dag({ id: "two" })
 *   .task("extract", { run: () => ({ rows: 3 }) })
 *   .task("load", { deps: ["extract"], run: (ctx) => ctx.xcom("extract").rows });
 * const run = await createDagRun(store, d);
 * const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
 * const contexts = new TaskContexts({ store, clock: systemClock, artifacts }, run, new RunDecisions(d));
 * contexts.setOutput("extract", -1, { rows: 3 });
 * const ctx = contexts.context(d.tasks[1], -1, 1, new AbortController().signal, console.log);
 * assert.deepEqual(ctx.xcom("extract"), { rows: 3 });
 * await store.close();
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import type { Clock } from "./clock.ts";
import { type AnyContext, SkipTask, type TaskDef } from "./dag.ts";
import { type RunDecisions, tiKey } from "./run_decisions.ts";
import type { Store } from "./store/store.ts";
import type { DagRun } from "./store/types.ts";
import { formatLogArgs } from "./task_log.ts";
import { decodeXcom } from "./xcom.ts";

/** What contexts read beyond memory: prior XComs and map items (store), artifacts, time. */
export interface ContextEnv {
  readonly store: Store;
  readonly clock: Clock;
  readonly artifacts: ArtifactStore;
}

/** The XCom values and map items of one run, and the task contexts that read them. */
export class TaskContexts {
  readonly #env: ContextEnv;
  readonly #run: DagRun;
  readonly #decisions: RunDecisions;
  /** task id → map index → value. */
  readonly #outputs = new Map<string, Map<number, unknown>>();
  /** The items of tasks expanded in this process. */
  readonly #expanded = new Map<string, readonly unknown[]>();
  /** Items read with their task instance (a worker's try), by {@link tiKey}. */
  readonly #items = new Map<string, unknown>();

  constructor(env: ContextEnv, run: DagRun, decisions: RunDecisions) {
    this.#env = env;
    this.#run = run;
    this.#decisions = decisions;
  }

  /** Records the value a task instance returned. */
  setOutput(taskId: string, mapIndex: number, value: unknown): void {
    let m = this.#outputs.get(taskId);
    if (!m) this.#outputs.set(taskId, m = new Map());
    m.set(mapIndex, value);
  }

  /** The value task instance `taskId[mapIndex]` returned, if known here. */
  output(taskId: string, mapIndex: number): unknown {
    return this.#outputs.get(taskId)?.get(mapIndex);
  }

  /** Every value known here (a copy: task id → map index → value), for a try's isolate. */
  outputs(): Map<string, Map<number, unknown>> {
    return new Map([...this.#outputs].map(([id, m]) => [id, new Map(m)]));
  }

  /** Keeps the items a mapped task expanded to (in this process). */
  setItems(taskId: string, items: readonly unknown[]): void {
    this.#expanded.set(taskId, items);
  }

  /** Keeps one item, read with its task instance. */
  setItem(taskId: string, mapIndex: number, item: unknown): void {
    this.#items.set(tiKey(taskId, mapIndex), item);
  }

  /** The item of a mapped task instance: from memory, or as stored when the task was expanded. */
  async item(task: TaskDef, mapIndex: number): Promise<unknown> {
    const items = this.#expanded.get(task.id);
    if (items) return items[mapIndex];
    const k = tiKey(task.id, mapIndex);
    if (this.#items.has(k)) return this.#items.get(k);
    return await this.#env.store.mapItem({ runId: this.#run.id, taskId: task.id, mapIndex });
  }

  /** The `ctx` of one try of `task` (or of its expansion, map index -1). */
  context(
    task: TaskDef,
    mapIndex: number,
    tryNumber: number,
    signal: AbortSignal,
    log: (line: string) => void,
  ): AnyContext {
    const run = this.#run;
    const decisions = this.#decisions;
    const env = this.#env;
    const dagId = run.dagId;
    const ctxTask = task;
    let upstream: Set<string> | null = null;
    const xcom = (id: string) => {
      const task = decisions.task(id);
      if (!task) throw new Error(`ctx.xcom("${id}"): dag "${dagId}" has no task "${id}"`);
      upstream ??= new Set(decisions.ancestors(ctxTask.id));
      if (!upstream.has(id)) {
        throw new Error(
          `ctx.xcom("${id}") in task "${ctxTask.id}": "${id}" is not upstream of "${ctxTask.id}", ` +
            `so whether it has run is a matter of timing; add "${id}" to its deps`,
        );
      }
      const values = this.#outputs.get(id);
      if (task.mapped) {
        const n = decisions.children(id).length;
        return values || n ? Array.from({ length: n }, (_, i) => values?.get(i)) : undefined;
      }
      return values?.get(-1);
    };
    return {
      dagId,
      runId: run.id,
      taskId: task.id,
      mapIndex,
      tryNumber,
      logicalDate: run.logicalDate,
      dataInterval: { start: run.dataIntervalStart, end: run.dataIntervalEnd },
      params: run.params,
      conf: run.conf,
      signal,
      log: (...args) => log(formatLogArgs(args)),
      xcom: (id) => {
        const v = xcom(id);
        if (v === undefined) {
          const state = decisions.get({ taskId: id, mapIndex: -1 })?.state ?? "none";
          throw new Error(
            `ctx.xcom("${id}"): task "${id}" has left no value in run ${run.id} (its state: ${state})`,
          );
        }
        return v;
      },
      maybeXcom: (id) => xcom(id),
      skip: (reason?: string): never => {
        throw new SkipTask(reason);
      },
      priorXcom: async (id) => {
        const stored = await env.store.priorXcom(run.dagId, run.logicalDate, id);
        return stored ? await decodeXcom(stored, env.artifacts) as never : undefined;
      },
      putArtifact: (data) =>
        env.artifacts.put(typeof data === "string" ? new TextEncoder().encode(data) : data),
      getArtifact: (key) => env.artifacts.get(key),
      db: env.store.db,
      artifacts: env.artifacts,
      now: () => new Date(env.clock.now()),
    };
  }
}
