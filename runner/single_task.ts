/**
 * One task of a DAG, run in this process outside any run — Airflow's `airflow tasks test`: its
 * upstream XComs come from a given run (or there are none), its log goes to the caller, and
 * nothing is recorded. With `record`, the try is recorded in that run instead, as a new try of the
 * task instance (Airflow's `tasks run`), with its XCom and a branch's skips.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { dag } from "./dag.ts";
 * import { Executor } from "./executor.ts";
 * import { createDagRun } from "./runs.ts";
 * import { runSingleTask } from "./single_task.ts";
 * import { openStore } from "./store/open.ts";
 * const etl = dag({ id: "etl" })
 *   .task("extract", { run: () => ({ rows: 3 }) })
 *   .task("transform", { deps: ["extract"], run: (ctx) => ctx.xcom("extract").rows * 2 });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const artifacts = new LocalArtifactStore(dir);
 *   const run = await createDagRun(store, etl);
 *   await new Executor({ store, artifacts }).runToEnd(etl, run.id);
 *   // transform again, with the XComs of that run, recording nothing:
 *   const options = { store, artifacts, dag: etl, fromRun: run.id };
 *   const r = await runSingleTask({ ...options, taskId: "transform" });
 *   assert.deepEqual(r, { state: "success", value: 6 });
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { type Clock, systemClock } from "./clock.ts";
import { runCommand } from "./command_task.ts";
import { type AnyContext, type DagDefinition, isSkipTask, type TaskDef } from "./dag.ts";
import { parseDuration } from "./duration.ts";
import { parseParams, rejectUnknownParams } from "./params.ts";
import { manualDataInterval } from "./runs.ts";
import { RunTracker, tiKey } from "./run_tracker.ts";
import type { Store } from "./store/store.ts";
import type { DagRun } from "./store/types.ts";
import { formatLogArgs } from "./task_log.ts";
import { runTry } from "./try_runner.ts";
import { pokeUntil } from "./sensor_poke.ts";

/** What to run. */
export interface SingleTaskOptions {
  store: Store;
  artifacts: ArtifactStore;
  dag: DagDefinition;
  taskId: string;
  /** The run whose upstream XComs, params, conf and dates the task sees. */
  fromRun?: number;
  /** Param values over the run's (or the defaults, without a run). */
  params?: Record<string, unknown>;
  conf?: Record<string, unknown>;
  /** Without `fromRun`: the logical date (default now). */
  logicalDate?: Date;
  /** Record the try in `fromRun` (required then). Default false: nothing is written. */
  record?: boolean;
  /** With `record`: take over an instance that is queued or running elsewhere (default false). */
  force?: boolean;
  clock?: Clock;
  /** Where the task's log lines go (default stderr). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** How the task ended. */
export interface SingleTaskResult {
  state: "success" | "failed" | "skipped";
  /** The return value (a mapped task: the array of its items' values; a branch: the followed ids). */
  value?: unknown;
  error?: string;
}

/** Thrown for a task or run that cannot be tested as asked (a usage mistake). */
export class SingleTaskError extends Error {}

/** Runs one task of `dag` (see the module doc). */
export async function runSingleTask(opts: SingleTaskOptions): Promise<SingleTaskResult> {
  const { store, dag } = opts;
  const task = dag.tasks.find((t) => t.id === opts.taskId);
  if (!task) {
    throw new SingleTaskError(
      `dag "${dag.id}" has no task "${opts.taskId}"; its tasks: ${
        dag.tasks.map((t) => t.id).join(", ")
      }`,
    );
  }
  let run: DagRun;
  if (opts.fromRun !== undefined) {
    const stored = await store.getRun(opts.fromRun);
    if (!stored) throw new SingleTaskError(`run ${opts.fromRun} does not exist`);
    if (stored.dagId !== dag.id) {
      throw new SingleTaskError(
        `run ${opts.fromRun} is a run of "${stored.dagId}", not "${dag.id}"`,
      );
    }
    rejectUnknownParams(dag, opts.params ?? {});
    const params = opts.params && Object.keys(opts.params).length
      ? parseParams(dag, { ...stored.params, ...opts.params })
      : stored.params;
    run = { ...stored, params, conf: { ...stored.conf, ...(opts.conf ?? {}) } };
  } else {
    if (opts.record) throw new SingleTaskError("--record needs --from-run: the run to record in");
    rejectUnknownParams(dag, opts.params ?? {});
    const logicalDate = opts.logicalDate ?? new Date();
    const interval = manualDataInterval(dag, logicalDate);
    run = {
      id: 0,
      dagId: dag.id,
      logicalDate,
      dataIntervalStart: interval.start,
      dataIntervalEnd: interval.end,
      runType: "manual",
      state: "running",
      conf: opts.conf ?? {},
      params: parseParams(dag, { ...(opts.conf ?? {}), ...(opts.params ?? {}) }),
      structureHash: "",
      triggeredBy: null,
      executor: "local",
      queuedAt: logicalDate,
      startDate: logicalDate,
      endDate: null,
    };
  }
  const log = opts.log ?? ((line: string) => console.error(line));
  const clock = opts.clock ?? systemClock;
  const tracker = new RunTracker(
    {
      store,
      clock,
      artifacts: opts.artifacts,
      hostname: Deno.hostname(),
      signal: opts.signal,
      emit: () => {},
      trigger: () =>
        Promise.reject(
          new SingleTaskError(
            `task "${task.id}" starts a run of another DAG, which is not done outside a run; ` +
              `use deno task run`,
          ),
        ),
    },
    dag,
    run,
  );
  if (opts.fromRun !== undefined) await tracker.load("observe");

  if (opts.record) {
    const ti = tracker.tis.get(tiKey(task.id, -1));
    if (!ti) throw new SingleTaskError(`run ${run.id} has no instance of task "${task.id}"`);
    if (task.mapped) throw new SingleTaskError("--record of a mapped task is not supported");
    // One try: a failure is final here. The instance is claimed first, as a worker claims it, and
    // only if no one else has it queued or running (unless forced): the try starts only under that
    // claim, never beside a worker's.
    const claim = `run-task:${Deno.hostname()}:${Deno.pid}:${crypto.randomUUID()}`;
    const taken = await store.db.query(
      `update task_instances set state = 'queued', worker_id = $4
       where run_id = $1 and task_id = $2 and map_index = $3
         and ($5::boolean or state is null or state not in ('queued', 'running'))
       returning try_number`,
      [run.id, task.id, -1, claim, opts.force === true],
    );
    if (!taken.length) {
      const now = (await store.taskInstances(run.id, [task.id]))[0];
      throw new SingleTaskError(
        `task "${task.id}" of run ${run.id} is ${now?.state ?? "gone"}` +
          (now?.hostname ? ` on ${now.hostname}` : "") +
          `: a worker or another process has it, and a recorded try would run beside theirs; ` +
          `wait until it ends, or pass --force to take it over`,
      );
    }
    ti.tryNumber = Number(taken[0].try_number); // a try recorded since the run was read counts
    ti.maxTries = ti.tryNumber;
    if (!(await runTry(tracker, task, ti, { workerId: claim }))) {
      throw new SingleTaskError(`task "${task.id}" of run ${run.id} was taken over meanwhile`);
    }
    const state = ti.state === "success" || ti.state === "skipped" ? ti.state : "failed";
    const instance = (await store.taskInstances(run.id, [task.id]))[0];
    return {
      state,
      value: tracker.outputs.get(task.id)?.get(-1),
      error: instance?.error ?? undefined,
    };
  }

  const timeout = tracker.setting(task, "timeout");
  const signals = [
    opts.signal,
    timeout == null ? undefined : AbortSignal.timeout(parseDuration(timeout)),
  ]
    .filter((s): s is AbortSignal => s !== undefined);
  const signal = signals.length ? AbortSignal.any(signals) : new AbortController().signal;
  const ctxFor = (mapIndex: number) =>
    tracker.context(task, mapIndex, 1, signal, (line) => log(`[${task.id}] ${line}`));
  try {
    const value = await execute(tracker, task, ctxFor, signal, log);
    return { state: "success", value };
  } catch (e) {
    if (isSkipTask(e)) return { state: "skipped", error: (e as Error).message };
    if (e instanceof SingleTaskError) throw e;
    return { state: "failed", error: e instanceof Error ? e.stack ?? e.message : String(e) };
  }
}

async function execute(
  tracker: RunTracker,
  task: TaskDef,
  ctxFor: (mapIndex: number) => AnyContext,
  signal: AbortSignal,
  log: (line: string) => void,
): Promise<unknown> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {});
  const race = <T>(p: () => T | Promise<T>) => Promise.race([Promise.resolve().then(p), aborted]);
  switch (task.kind) {
    case "function": {
      if (!task.mapped) return await race(() => task.run!(ctxFor(-1)));
      const items = await race(() => task.expand!(ctxFor(-1)));
      const out: unknown[] = [];
      for (const [i, item] of items.entries()) {
        out.push(await race(() => task.run!(ctxFor(i), item)));
      }
      return out;
    }
    case "branch":
      return tracker.followed(task, await race(() => task.run!(ctxFor(-1))));
    case "command": {
      const argv = typeof task.cmd === "function" ? task.cmd(ctxFor(-1)) : task.cmd!;
      return await runCommand(argv, {
        env: task.env,
        cwd: task.cwd,
        signal,
        log: (stream, line) => log(`[${task.id} ${stream}] ${line}`),
      });
    }
    case "sensor": {
      // Alone, a sensor pokes in this process until its value or its timeout, whatever its mode.
      const s = task.sensor!;
      return await pokeUntil({
        poke: () => race(() => task.run!(ctxFor(-1))),
        intervalMs: s.intervalMs,
        timeoutMs: s.timeoutMs,
        clock: tracker.clock,
        signal,
      });
    }
    case "trigger":
      throw new SingleTaskError(
        `task "${task.id}" starts a run of dag "${task.trigger!.dagId}", which is recorded; ` +
          `test it inside a run: deno task run ${tracker.dag.id}`,
      );
    default:
      return await race(() => task.run!(ctxFor(-1)));
  }
}

/** One line for a value (the result printed by `deno task run --task`). */
export function showValue(value: unknown): string {
  return value === undefined ? "(no value)" : formatLogArgs([value]);
}
