/**
 * The in-process executor: takes a DAG run from queued to success or failed. It decides which task
 * instances may run (trigger rules, branches, mapping), runs them within the run's, the process's
 * and the pools' limits, retries failed tries after their backoff, and records every try, log line
 * and XCom in the store as it goes.
 *
 * @example
 * ```ts
 * import { Executor } from "./executor.ts";
 * import { createDagRun } from "./runs.ts";
 * const executor = new Executor({ store });
 * const run = await createDagRun(store, myDag);
 * const result = await executor.runToEnd(myDag, run.id); // result.state: "success" | "failed"
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { LocalArtifactStore } from "./artifacts/local.ts";
import { type Clock, systemClock } from "./clock.ts";
import { runCommand } from "./command_task.ts";
import type { AnyContext, DagDefinition, TaskDef, TaskEvent, TaskSettings } from "./dag.ts";
import { parseDuration } from "./duration.ts";
import { retryDelayMs } from "./retry.ts";
import { createDagRun } from "./runs.ts";
import { isFinished, type RunState, type TaskState } from "./states.ts";
import { RunExistsError, type Store } from "./store/store.ts";
import type { DagRun, TaskInstance, TiKey } from "./store/types.ts";
import { formatLogArgs, TaskLog } from "./task_log.ts";
import { countUpstream, evaluateTriggerRule } from "./trigger_rules.ts";
import { decodeXcom, encodeXcom } from "./xcom.ts";

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

/** A finished run and its task instances. */
export interface RunResult {
  run: DagRun;
  state: RunState;
  taskInstances: TaskInstance[];
}

interface Ti {
  taskId: string;
  mapIndex: number;
  state: TaskState | null;
  tryNumber: number;
  maxTries: number;
  pool: string;
  poolSlots: number;
  nextRetryAt: number | null;
  /** True while a try of it is under way in this process. */
  busy: boolean;
}

const tiKey = (taskId: string, mapIndex: number) => `${taskId}\u0000${mapIndex}`;

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

export class Executor {
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
    await this.#loadPools();
    this.#checkPools(dag);
    const state = await new RunLoop(this, dag, run).execute();
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
    let run: DagRun | undefined;
    for (let attempt = 0; !run; attempt++) {
      try {
        run = await createDagRun(this.store, target, {
          conf,
          logicalDate: new Date(this.clock.now() + attempt),
          runType: "triggered",
          triggeredBy: parent,
        });
      } catch (e) {
        if (!(e instanceof RunExistsError) || attempt > 100) throw e;
      }
    }
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

/** One run's scheduling loop. */
class RunLoop {
  readonly tis = new Map<string, Ti>();
  readonly tasks: Map<string, TaskDef>;
  readonly downstream = new Map<string, string[]>();
  readonly outputs = new Map<string, Map<number, unknown>>();
  readonly wake = new Wakeup();
  readonly inFlight = new Set<Promise<void>>();
  readonly maxActiveTasks: number;
  readonly defaults: TaskSettings;
  readonly store: Store;
  readonly clock: Clock;

  constructor(readonly ex: Executor, readonly dag: DagDefinition, readonly run: DagRun) {
    this.tasks = new Map(dag.tasks.map((t) => [t.id, t]));
    for (const t of dag.tasks) {
      for (const d of t.deps) this.downstream.set(d, [...(this.downstream.get(d) ?? []), t.id]);
    }
    this.maxActiveTasks = dag.options.maxActiveTasks ?? 16;
    this.defaults = dag.options.defaults ?? {};
    this.store = ex.store;
    this.clock = ex.clock;
  }

  async execute(): Promise<RunState> {
    await this.#load();
    await this.store.setRunState(this.run.id, "running", new Date(this.clock.now()));
    this.ex.emit({ kind: "run", runId: this.run.id, dagId: this.dag.id, state: "running" });
    const unwatch = this.ex.watchCapacity(this.wake);
    try {
      for (;;) {
        await this.#settle();
        const { started, blocked } = this.#startReady();
        if (this.#allFinished()) break;
        if (started) continue;
        const retryAt = this.#earliestRetry();
        if (this.inFlight.size === 0 && retryAt === null && !blocked) {
          throw new Error(
            `run ${this.run.id} is stuck: nothing is running or ready (this is a bug)`,
          );
        }
        const waits: Promise<unknown>[] = [this.wake.wait()];
        if (retryAt !== null) waits.push(this.clock.sleep(Math.max(0, retryAt - this.clock.now())));
        await Promise.race(waits);
      }
    } finally {
      unwatch();
      await Promise.allSettled([...this.inFlight]);
    }
    return await this.#finish();
  }

  // ---- loading ----------------------------------------------------------------------------------

  async #load(): Promise<void> {
    for (const ti of await this.store.taskInstances(this.run.id)) {
      if (!this.tasks.has(ti.taskId)) continue;
      this.tis.set(tiKey(ti.taskId, ti.mapIndex), {
        ...ti,
        nextRetryAt: ti.nextRetryAt?.getTime() ?? null,
        busy: false,
      });
    }
    for (const ti of this.tis.values()) {
      if (ti.state === "running" || ti.state === "queued" || ti.state === "scheduled") {
        await this.#orphaned(ti);
      }
    }
    for (const x of await this.store.xcoms(this.run.id)) {
      this.#setOutput(x.taskId, x.mapIndex, await decodeXcom(x, this.ex.artifacts));
    }
  }

  /** A task instance left unfinished by a process that ended (a resumed run). */
  async #orphaned(ti: Ti): Promise<void> {
    const key = { runId: this.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex };
    if (ti.mapIndex === -1 && this.tasks.get(ti.taskId)!.mapped) {
      // A mapped task with items is aggregated from them; without items it expands again.
      if (this.#children(ti.taskId).length > 0) ti.state = "running";
      else await this.#setState(ti, null);
      return;
    }
    if (ti.state !== "running" || ti.tryNumber === 0) {
      await this.#setState(ti, ti.mapIndex >= 0 ? "scheduled" : null);
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

  #children(taskId: string): Ti[] {
    const out: Ti[] = [];
    for (const ti of this.tis.values()) if (ti.taskId === taskId && ti.mapIndex >= 0) out.push(ti);
    return out.sort((a, b) => a.mapIndex - b.mapIndex);
  }

  #parent(taskId: string): Ti {
    return this.tis.get(tiKey(taskId, -1))!;
  }

  /** Settles every task instance whose fate its upstream decides, and expands mapped tasks. */
  async #settle(): Promise<void> {
    let changed = true;
    while (changed) {
      changed = false;
      for (const task of this.tasks.values()) {
        const parent = this.#parent(task.id);
        if (task.mapped && parent.state === "running" && !parent.busy) {
          changed = (await this.#aggregateMapped(task, parent)) || changed;
          continue;
        }
        if (parent.state !== null) continue;
        const decision = evaluateTriggerRule(
          task.triggerRule,
          countUpstream(task.deps.map((d) => this.#parent(d).state)),
        );
        if (decision === "wait") continue;
        changed = true;
        if (decision === "run") {
          if (task.mapped) await this.#expand(task, parent);
          else this.#setMemState(parent, "scheduled");
        } else await this.#setState(parent, decision);
      }
    }
  }

  async #expand(task: TaskDef, parent: Ti): Promise<void> {
    let items: readonly unknown[];
    parent.busy = true;
    try {
      items = await task.expand!(
        this.#context(task, -1, parent.tryNumber, new AbortController().signal, () => {}),
      );
      if (!Array.isArray(items)) {
        throw new Error(`expand must return an array, got ${typeof items}`);
      }
    } catch (e) {
      parent.busy = false;
      await this.#setState(parent, "failed", `expand failed: ${(e as Error).message}`);
      return;
    }
    parent.busy = false;
    if (items.length === 0) {
      await this.#setState(parent, "skipped", "expand returned no items");
      return;
    }
    await this.store.expandMapped(
      { runId: this.run.id, taskId: task.id, mapIndex: -1 },
      items.length,
    );
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
    await this.#setState(parent, "running");
  }

  readonly expanded = new Map<string, readonly unknown[]>();

  async #aggregateMapped(task: TaskDef, parent: Ti): Promise<boolean> {
    const children = this.#children(task.id);
    if (children.length === 0 || !children.every((c) => isFinished(c.state))) return false;
    const states = children.map((c) => c.state);
    const state: TaskState = states.some((s) => s === "failed" || s === "upstream_failed")
      ? "failed"
      : states.every((s) => s === "skipped")
      ? "skipped"
      : "success";
    await this.#setState(parent, state);
    return true;
  }

  #setMemState(ti: Ti, state: TaskState | null): void {
    ti.state = state;
    this.ex.emit({
      kind: "task",
      runId: this.run.id,
      taskId: ti.taskId,
      mapIndex: ti.mapIndex,
      state,
      tryNumber: ti.tryNumber,
    });
  }

  /** Sets a state in memory at once (so the loop sees it), then in the store. */
  async #setState(ti: Ti, state: TaskState | null, error?: string): Promise<void> {
    this.#setMemState(ti, state);
    await this.store.setTaskState(
      { runId: this.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex },
      state,
      { error: error ?? null, at: new Date(this.clock.now()) },
    );
  }

  #earliestRetry(): number | null {
    let at: number | null = null;
    for (const ti of this.tis.values()) {
      if (ti.state === "up_for_retry" && !ti.busy && ti.nextRetryAt !== null) {
        at = at === null ? ti.nextRetryAt : Math.min(at, ti.nextRetryAt);
      }
    }
    return at;
  }

  #allFinished(): boolean {
    for (const ti of this.tis.values()) if (!isFinished(ti.state) || ti.busy) return false;
    return true;
  }

  // ---- running ----------------------------------------------------------------------------------

  /** Starts every ready try that capacity allows; says whether any started, or any had to wait. */
  #startReady(): { started: boolean; blocked: boolean } {
    let started = false;
    let blocked = false;
    const now = this.clock.now();
    for (const ti of this.tis.values()) {
      if (ti.busy) continue;
      const task = this.tasks.get(ti.taskId)!;
      if (task.mapped && ti.mapIndex === -1) continue;
      const ready = ti.state === "scheduled" ||
        (ti.state === "up_for_retry" && (ti.nextRetryAt ?? 0) <= now);
      if (!ready) continue;
      if (this.inFlight.size >= this.maxActiveTasks || !this.ex.tryAcquire(ti.pool, ti.poolSlots)) {
        blocked = true;
        break;
      }
      ti.busy = true;
      started = true;
      const p: Promise<void> = this.#runTry(task, ti)
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

  #setting<K extends keyof TaskSettings>(task: TaskDef, key: K): TaskSettings[K] {
    return task.settings[key] !== undefined ? task.settings[key] : this.defaults[key];
  }

  async #runTry(task: TaskDef, ti: Ti): Promise<void> {
    const key: TiKey = { runId: this.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex };
    const tryNumber = ti.tryNumber + 1;
    const startedAt = this.clock.now();
    await this.store.startTry(key, tryNumber, new Date(startedAt), this.ex.hostname);
    ti.tryNumber = tryNumber;
    this.#setMemState(ti, "running");

    const controller = new AbortController();
    const outer = this.ex.options.signal;
    const onOuterAbort = () =>
      controller.abort(outer?.reason ?? new Error("the executor is shutting down"));
    outer?.addEventListener("abort", onOuterAbort, { once: true });
    if (outer?.aborted) onOuterAbort();
    const timeout = this.#setting(task, "timeout");
    const timeoutMs = timeout == null ? null : parseDuration(timeout);
    const cancelTimer = timeoutMs === null ? () => {} : this.clock.setTimer(timeoutMs, () => {
      const e = new Error(`timed out after ${timeout}`);
      e.name = "TimeoutError";
      controller.abort(e);
    });
    const log = new TaskLog((lines) => this.store.appendLogs(key, tryNumber, lines), this.clock);

    let value: unknown;
    let error: string | null = null;
    try {
      value = await this.#execute(task, ti, tryNumber, controller.signal, log);
      if (task.kind === "branch") value = this.#followed(task, value);
    } catch (e) {
      error = e instanceof Error
        ? (e.name === "TimeoutError" ? e.message : e.stack ?? e.message)
        : String(e);
      log.write("log", `try ${tryNumber} failed: ${error}`);
    } finally {
      cancelTimer();
      outer?.removeEventListener("abort", onOuterAbort);
    }
    await log.close();
    const endedAt = this.clock.now();
    const durationMs = endedAt - startedAt;
    const event: TaskEvent = {
      dagId: this.dag.id,
      runId: this.run.id,
      taskId: ti.taskId,
      mapIndex: ti.mapIndex,
      tryNumber,
    };

    if (error === null) {
      let xcom = null;
      try {
        xcom = value === undefined ? null : await encodeXcom(value, this.ex.artifacts);
      } catch (e) {
        error = (e as Error).message;
      }
      if (error === null) {
        // The success and the branch's skips change memory together, before any await.
        if (value !== undefined) this.#setOutput(ti.taskId, ti.mapIndex, value);
        ti.state = "success";
        this.ex.emit({ kind: "task", ...key, state: "success", tryNumber, durationMs });
        const skips = task.kind === "branch" ? this.#notFollowed(task, value as string[]) : [];
        for (const s of skips) this.#setMemState(s, "skipped");
        await this.store.finishTry(key, tryNumber, {
          state: "success",
          at: new Date(endedAt),
          durationMs,
          xcom,
        });
        for (const s of skips) {
          await this.store.setTaskState(
            { runId: this.run.id, taskId: s.taskId, mapIndex: -1 },
            "skipped",
            {
              at: new Date(endedAt),
            },
          );
        }
        await this.#callback(task.onSuccess, event, "onSuccess");
        return;
      }
    }
    const retry = tryNumber <= ti.maxTries && !this.ex.options.signal?.aborted;
    const nextRetryAt = retry
      ? endedAt + retryDelayMs({ ...this.defaults, ...task.settings }, tryNumber)
      : null;
    const state = retry ? "up_for_retry" : "failed";
    await this.store.finishTry(key, tryNumber, {
      state,
      at: new Date(endedAt),
      durationMs,
      error,
      nextRetryAt: nextRetryAt === null ? null : new Date(nextRetryAt),
    });
    ti.nextRetryAt = nextRetryAt;
    ti.state = state;
    this.ex.emit({ kind: "task", ...key, state, tryNumber, durationMs, error: error ?? undefined });
    await this.#callback(retry ? task.onRetry : task.onFailure, {
      ...event,
      error: error ?? undefined,
    }, retry ? "onRetry" : "onFailure");
  }

  async #execute(
    task: TaskDef,
    ti: Ti,
    tryNumber: number,
    signal: AbortSignal,
    log: TaskLog,
  ): Promise<unknown> {
    const ctx = this.#context(
      task,
      ti.mapIndex,
      tryNumber,
      signal,
      (line) => log.write("log", line),
    );
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => {});
    switch (task.kind) {
      case "function":
      case "branch": {
        const item = task.mapped ? await this.#item(task, ti.mapIndex) : undefined;
        return await Promise.race([Promise.resolve().then(() => task.run!(ctx, item)), aborted]);
      }
      case "command": {
        const argv = typeof task.cmd === "function" ? task.cmd(ctx) : task.cmd!;
        return await runCommand(argv, {
          env: task.env,
          cwd: task.cwd,
          signal,
          log: (stream, line) => log.write(stream, line),
        });
      }
      case "trigger": {
        const t = task.trigger!;
        const conf = (await t.conf?.(ctx)) ?? {};
        const result = await Promise.race([
          this.ex.trigger(t.dagId, conf, { runId: this.run.id, taskId: task.id }, t.wait),
          aborted,
        ]);
        ctx.log(`triggered dag "${t.dagId}" run ${result.runId}: ${result.state}`);
        if (t.wait && result.state === "failed") {
          throw new Error(`triggered run ${result.runId} of dag "${t.dagId}" failed`);
        }
        return { dagId: t.dagId, ...result };
      }
    }
  }

  /** The item of a mapped task instance (re-expanding after a restart of the process). */
  async #item(task: TaskDef, mapIndex: number): Promise<unknown> {
    let items = this.expanded.get(task.id);
    if (!items) {
      items = await task.expand!(
        this.#context(task, -1, 0, new AbortController().signal, () => {}),
      );
      this.expanded.set(task.id, items);
    }
    if (mapIndex >= items.length) {
      throw new Error(`map index ${mapIndex} is past the ${items.length} items of expand`);
    }
    return items[mapIndex];
  }

  #context(
    task: TaskDef,
    mapIndex: number,
    tryNumber: number,
    signal: AbortSignal,
    log: (line: string) => void,
  ): AnyContext {
    const xcom = (id: string) => {
      const task = this.tasks.get(id);
      if (!task) throw new Error(`ctx.xcom("${id}"): dag "${this.dag.id}" has no task "${id}"`);
      const values = this.outputs.get(id);
      if (task.mapped) {
        const n = this.#children(id).length;
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
      now: () => new Date(this.clock.now()),
    };
  }

  #setOutput(taskId: string, mapIndex: number, value: unknown): void {
    let m = this.outputs.get(taskId);
    if (!m) this.outputs.set(taskId, m = new Map());
    m.set(mapIndex, value);
  }

  #followed(task: TaskDef, value: unknown): string[] {
    const ids = typeof value === "string" ? [value] : value;
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

  /** The direct downstream task instances a branch did not follow and that are still undecided. */
  #notFollowed(task: TaskDef, followed: string[]): Ti[] {
    return (this.downstream.get(task.id) ?? []).filter((id) => !followed.includes(id))
      .map((id) => this.#parent(id)).filter((ti) => ti.state === null);
  }

  async #callback<E>(fn: ((e: E) => unknown) | undefined, event: E, name: string): Promise<void> {
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

  async #finish(): Promise<RunState> {
    const leaves = this.dag.tasks.filter((t) => !this.downstream.has(t.id));
    const failed = leaves.some((t) => {
      const s = this.#parent(t.id).state;
      return s === "failed" || s === "upstream_failed";
    });
    const state: RunState = failed ? "failed" : "success";
    await this.store.setRunState(this.run.id, state, new Date(this.clock.now()));
    this.ex.emit({ kind: "run", runId: this.run.id, dagId: this.dag.id, state });
    const failedTasks = [
      ...new Set([...this.tis.values()].filter((t) => t.state === "failed").map((t) => t.taskId)),
    ];
    const cb = state === "success" ? this.dag.options.onSuccess : this.dag.options.onFailure;
    await this.#callback(
      cb,
      { dagId: this.dag.id, runId: this.run.id, state, failedTasks },
      state === "success" ? "onSuccess" : "onFailure",
    );
    return state;
  }
}
