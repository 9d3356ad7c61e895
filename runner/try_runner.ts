/**
 * One try of one task instance: recorded as started, run (a function raced against its abort
 * signal, a command, or a trigger), its log written, and recorded as a success with its XCom, a
 * failure, or up for retry after its backoff — with the task's callbacks.
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
 * import { runTry } from "./try_runner.ts";
 * const etl = dag({ id: "etl" }).task("extract", { run: () => ({ rows: 3 }) });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const env = new Executor({ store, artifacts: new LocalArtifactStore(dir) });
 *   const run = await createDagRun(store, etl);
 *   const tracker = new RunTracker(env, etl, run);
 *   await tracker.load("resume");
 *   await tracker.settle();
 *   const ti = tracker.tis.get(tiKey("extract", -1))!;
 *   assert.equal(await runTry(tracker, tracker.tasks.get("extract")!, ti), true); // it started
 *   assert.equal(ti.state, "success"); // or failed, or up_for_retry
 *   assert.deepEqual((await store.xcoms(run.id)).map((x) => x.value), [{ rows: 3 }]);
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runCommand } from "./command_task.ts";
import type { IsolatePool } from "./isolated_task.ts";
import { finishWithEvents, type HeldOutcome, type Outbox } from "./outbox.ts";
import { endLeftovers, processStartTime } from "./leftovers.ts";
import { isSkipTask, type TaskDef, type TaskEvent } from "./dag.ts";
import { parseDuration } from "./duration.ts";
import { retryDelayMs } from "./retry.ts";
import { isFinished } from "./core/states.ts";
import type { RunTracker, Ti } from "./run_tracker.ts";
import { TaskQueue } from "./store/queue.ts";
import { isTransient, untilWritten } from "./store/transient.ts";
import type { TiKey } from "./store/types.ts";
import { TaskLog } from "./task_log.ts";
import { pokeUntil, Reschedule, sensorDone, SensorTimeout, timeoutMessage } from "./sensor_poke.ts";
import { encodeXcom } from "./xcom.ts";

/** How a try is run in a worker (the in-process executor passes none of these). */
export interface TryOptions {
  /** The worker whose claim this try starts: the start is recorded only if the claim still holds. */
  workerId?: string;
  /** Where a worker reports held writes (default stderr). */
  log?: (line: string) => void;
  /** Stops retrying writes the database refused (a worker giving up at shutdown). */
  giveUp?: AbortSignal;
  /** Where outcomes the database does not take at once are kept on disk (see outbox.ts). */
  outbox?: Outbox;
  /** Runs function and branch tasks of DAGs loaded from files in isolates (see isolated_task.ts). */
  isolate?: { pool: IsolatePool; databaseUrl: string; home: string; mode: "timeout" | "always" };
}

/**
 * Runs the next try of `ti`. Its start and its outcome are written with {@link untilWritten}: while
 * the database is unreachable the outcome is held in memory and written once it is back. Returns
 * false when the try did not start (a worker's claim was lost meanwhile).
 */
export async function runTry(
  t: RunTracker,
  task: TaskDef,
  ti: Ti,
  opts: TryOptions = {},
): Promise<boolean> {
  const env = t.env;
  const key: TiKey = { runId: t.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex };
  const tryNumber = ti.tryNumber + 1;
  const name = `${ti.taskId}[${ti.mapIndex}] of run ${t.run.id} try ${tryNumber}`;
  const log0 = opts.log ?? ((l: string) => console.error(`driftflow: ${l}`));
  const write = <T>(what: string, op: () => Promise<T>, onHold?: () => Promise<void>) =>
    untilWritten(`${what} of ${name}`, op, { log: log0, giveUp: opts.giveUp, onHold });
  // A worker keeps each outcome in the outbox (on disk) until it is written, so it survives this
  // process dying before the database takes it.
  let kept: HeldOutcome | null = null;
  const holder = (h: Omit<HeldOutcome, "owner">) => async () => {
    if (!opts.outbox || kept) return;
    kept = { ...h, owner: { pid: Deno.pid, start: null } };
    await opts.outbox.keep(h).catch((e) =>
      log0(`${name}: cannot keep the outcome in the outbox: ${(e as Error).message}`)
    );
  };
  const release = async () => {
    if (kept) await opts.outbox?.drop(kept);
    kept = null;
    if (exitFile) opts.outbox?.commandDone(key, tryNumber);
  };
  const startedAt = t.clock.now();
  const started = await write(
    "the start",
    () =>
      t.store.startTry(key, tryNumber, new Date(startedAt), env.hostname, opts.workerId ?? null),
  );
  if (!started) {
    log0(`${name} not started: the claim was taken back meanwhile (another worker may run it)`);
    return false;
  }
  ti.tryNumber = tryNumber;
  t.setMemState(ti, "running");

  const controller = new AbortController();
  const outer = t.signal;
  const onOuterAbort = () =>
    controller.abort(outer?.reason ?? new Error("the executor is shutting down"));
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  if (outer?.aborted) onOuterAbort();
  const timeout = t.setting(task, "timeout");
  const timeoutMs = timeout == null ? null : parseDuration(timeout);
  const cancelTimer = timeoutMs === null ? () => {} : t.clock.setTimer(timeoutMs, () => {
    const e = new Error(`timed out after ${timeout}`);
    e.name = "TimeoutError";
    controller.abort(e);
  });
  const log = new TaskLog(
    (lines) => write(`${lines.length} log lines`, () => t.store.appendLogs(key, tryNumber, lines)),
    t.clock,
  );

  // The asset events a success writes (with it, see finishWithEvents).
  const events = (task.outlets ?? []).map((uri) => ({
    uri,
    source: "task" as const,
    sourceDagId: t.dag.id,
    sourceRunId: t.run.id,
    sourceTaskId: ti.taskId,
    ...(ti.mapIndex >= 0 ? { extra: { mapIndex: ti.mapIndex } } : {}),
  }));
  // A worker notes a command try in the outbox; its supervisor writes the exit status there.
  const exitFile = task.kind === "command" && opts.outbox
    ? opts.outbox.commandStarted(key, tryNumber, startedAt, events)
    : undefined;
  let value: unknown;
  let error: string | null = null;
  let skipped: string | null = null;
  let reschedule = false;
  /** A failure that is final whatever the retries (a sensor's timeout). */
  let final = false;
  try {
    value = await execute(t, task, ti, tryNumber, controller.signal, log, opts, exitFile);
    if (task.kind === "branch") value = t.followed(task, value);
  } catch (e) {
    if (e instanceof Reschedule) {
      reschedule = true;
    } else if (e instanceof SensorTimeout && task.sensor?.softFail) {
      skipped = e.message;
      log.write("log", `try ${tryNumber}: ${e.message}; soft fail: skipped`);
    } else if (isSkipTask(e) || isSkipTask(controller.signal.reason)) {
      skipped = (isSkipTask(e) ? e as Error : controller.signal.reason as Error).message;
      log.write("log", `try ${tryNumber} skipped the task: ${skipped}`);
    } else {
      error = e instanceof Error
        ? (e.name === "TimeoutError" ? e.message : e.stack ?? e.message)
        : String(e);
      final = e instanceof SensorTimeout;
      log.write("log", `try ${tryNumber} failed: ${error}`);
    }
  } finally {
    cancelTimer();
    outer?.removeEventListener("abort", onOuterAbort);
  }
  const endedAt = t.clock.now();
  const durationMs = endedAt - startedAt;
  const event: TaskEvent = {
    dagId: t.dag.id,
    runId: t.run.id,
    taskId: ti.taskId,
    mapIndex: ti.mapIndex,
    tryNumber,
  };
  const lost = (what: string) =>
    log0(
      `${name}: its ${what} was NOT recorded: the task instance moved on meanwhile ` +
        `(reaped as a zombie and retried, or cleared)`,
    );

  if (reschedule) {
    // A reschedule-mode sensor whose condition does not hold yet: within its timeout it waits as
    // up_for_reschedule (no slot held; the poke does not use a retry), else it times out.
    const s = task.sensor!;
    const first = (await sensorHistory(t, key, tryNumber, startedAt)).first;
    const pokes = tryNumber - first.try + 1;
    if (endedAt - first.at + s.intervalMs <= s.timeoutMs) {
      const at = endedAt + s.intervalMs;
      log.write("log", `poke ${pokes}: not yet; next poke at ${new Date(at).toISOString()}`);
      await log.close();
      ti.maxTries++;
      await write("a sensor's extra try", () => t.store.extendTries(key));
      const recorded = await write("the reschedule", () =>
        t.store.finishTry(key, tryNumber, {
          state: "up_for_reschedule",
          at: new Date(endedAt),
          durationMs,
          nextRetryAt: new Date(at),
        }));
      await release();
      if (!recorded) lost("reschedule");
      ti.nextRetryAt = at;
      ti.state = "up_for_reschedule";
      env.emit({ kind: "task", ...key, state: "up_for_reschedule", tryNumber, durationMs });
      return true;
    }
    const message = timeoutMessage(s.timeoutMs, pokes);
    if (s.softFail) skipped = `${message}; soft fail`;
    else {
      error = message;
      final = true;
    }
  }
  if (skipped !== null) {
    // The task skipped itself (SkipTask / ctx.skip): final, no retry, no callback (as Airflow).
    await log.close();
    const recorded = await write("the skip", () =>
      t.store.finishTry(key, tryNumber, {
        state: "skipped",
        at: new Date(endedAt),
        durationMs,
        error: `skipped: ${skipped}`,
      }));
    await release();
    if (!recorded) lost("skip");
    ti.state = "skipped";
    env.emit({ kind: "task", ...key, state: "skipped", tryNumber, durationMs });
    return true;
  }
  if (error === null) {
    let xcom = null;
    try {
      xcom = value === undefined ? null : await encodeXcom(value, env.artifacts);
    } catch (e) {
      error = (e as Error).message;
    }
    if (error === null) {
      const skips = task.kind === "branch" ? t.notFollowed(task, value as string[]) : [];
      let recorded = false;
      const hold = holder({
        key,
        tryNumber,
        end: { state: "success", at: new Date(endedAt).toISOString(), durationMs, xcom },
        skips: skips.map((s) => ({ runId: t.run.id, taskId: s.taskId, mapIndex: -1 })),
        events,
      });
      // In a worker the outcome goes to the outbox before anything else is written: if the worker
      // dies from here on, the next worker here records it instead of running the task again.
      if (opts.outbox) await hold();
      // The last log lines are written beside the outcome, not before it: while the database is
      // down the outcome is what must be held first (and said so), the log follows it.
      const logClosed = log.close();
      try {
        // Skips are stored before the success, so no other process sees the branch done while the
        // tasks it did not follow still look undecided.
        for (const s of skips) {
          await write("a branch skip", () =>
            t.store.setTaskState(
              { runId: t.run.id, taskId: s.taskId, mapIndex: -1 },
              "skipped",
              { at: new Date(endedAt) },
            ), hold);
        }
        // The asset events are written with the success, in one transaction, and only if the
        // success is recorded: a try whose instance moved on meanwhile (skipped by a run's
        // dagrunTimeout, reaped, cleared) announces no update.
        recorded = await write("the success", () =>
          finishWithEvents(t.store, key, tryNumber, {
            state: "success",
            at: new Date(endedAt),
            durationMs,
            xcom,
          }, events), hold);
        await release();
      } catch (e) {
        // A worker giving up at shutdown: the success stays in the outbox for the next worker.
        if (isTransient(e)) throw e;
        // Not a lost connection: the database refused the outcome itself (e.g. a value it cannot
        // store). The try fails with that reason instead of staying `running` unrecorded.
        error = `the try succeeded but its outcome could not be stored: ${(e as Error).message}`;
        log0(`${name}: ${error}`);
        await release();
      } finally {
        await logClosed;
      }
      if (error === null) {
        if (!recorded) lost("success");
        // The success and the branch's skips change memory together, before any await.
        if (value !== undefined) t.setOutput(ti.taskId, ti.mapIndex, value);
        ti.state = "success";
        for (const s of skips) t.setMemState(s, "skipped");
        env.emit({ kind: "task", ...key, state: "success", tryNumber, durationMs });
        await t.callback(task.onSuccess, event, "onSuccess");
        return true;
      }
    }
  }
  // A try released by a worker shutting down goes back to the queue and does not use a retry.
  const released = env.signal?.aborted === true &&
    (env.signal.reason as Error)?.name === "ReleaseError";
  const retry = released || (!final && tryNumber <= ti.maxTries && !env.signal?.aborted);
  // A reschedule-mode sensor's pokes are tries of their own but not attempts (as Airflow, whose
  // reschedules keep the try number): its backoff counts the tries that were not reschedules.
  const attempt = retry && !released && task.sensor?.mode === "reschedule"
    ? (await sensorHistory(t, key, tryNumber, startedAt)).attempts
    : tryNumber;
  const nextRetryAt = released ? endedAt : retry
    ? endedAt + retryDelayMs(
      { ...t.defaults, ...task.settings },
      attempt,
      `${t.dag.id}#${ti.taskId}#${t.run.id}#${ti.mapIndex}`,
    )
    : null;
  const state = retry ? "up_for_retry" : "failed";
  const hold = holder({
    key,
    tryNumber,
    end: {
      state,
      at: new Date(endedAt).toISOString(),
      durationMs,
      error,
      nextRetryAt: nextRetryAt === null ? null : new Date(nextRetryAt).toISOString(),
    },
    skips: [],
  });
  if (opts.outbox) await hold();
  await log.close();
  if (released) await write("a released try", () => new TaskQueue(t.store.db).grantTry(key));
  const recorded = await write(
    `the ${state} outcome`,
    () =>
      t.store.finishTry(key, tryNumber, {
        state,
        at: new Date(endedAt),
        durationMs,
        error,
        nextRetryAt: nextRetryAt === null ? null : new Date(nextRetryAt),
      }),
    hold,
  );
  await release();
  if (!recorded) lost(state);
  ti.nextRetryAt = nextRetryAt;
  ti.state = state;
  env.emit({ kind: "task", ...key, state, tryNumber, durationMs, error: error ?? undefined });
  await t.callback(retry ? task.onRetry : task.onFailure, {
    ...event,
    error: error ?? undefined,
  }, retry ? "onRetry" : "onFailure");
  return true;
}

/**
 * A reschedule-mode sensor's history before try `tryNumber`: `first`, the first try since the
 * task instance was created or last cleared (the tries after the latest one that ended it for
 * good: success, failed, skipped), from which its timeout runs whatever retries came between (as
 * Airflow's, from its first try since a clear); `attempts`, the tries that were not reschedules,
 * this one included (the try number Airflow would give it).
 */
async function sensorHistory(
  t: RunTracker,
  key: TiKey,
  tryNumber: number,
  startedAt: number,
): Promise<{ first: { try: number; at: number }; attempts: number }> {
  const tries = (await t.store.tries(key.runId, key.taskId))
    .filter((x) => x.mapIndex === key.mapIndex && x.tryNumber < tryNumber)
    .sort((a, b) => b.tryNumber - a.tryNumber);
  const attempts = 1 + tries.filter((x) => x.state !== "up_for_reschedule").length;
  let first = { try: tryNumber, at: startedAt };
  for (const x of tries) {
    if (isFinished(x.state)) break;
    first = { try: x.tryNumber, at: x.startDate.getTime() };
  }
  return { first, attempts };
}

async function execute(
  t: RunTracker,
  task: TaskDef,
  ti: Ti,
  tryNumber: number,
  signal: AbortSignal,
  log: TaskLog,
  opts: TryOptions,
  exitFile: string | undefined,
): Promise<unknown> {
  const ctx = t.context(
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
      const item = task.mapped ? await t.item(task, ti.mapIndex) : undefined;
      const isolate = opts.isolate && t.dag.fileloc &&
        (opts.isolate.mode === "always" || t.setting(task, "timeout") != null);
      if (isolate && opts.isolate && t.dag.fileloc) {
        return await opts.isolate.pool.run(
          pathToFileURL(resolve(t.dag.fileloc)).href,
          {
            kind: "run",
            dagId: t.dag.id,
            run: t.run,
            taskId: task.id,
            mapIndex: ti.mapIndex,
            tryNumber,
            item,
            tis: [...t.tis.values()],
            outputs: t.outputs,
            hostname: t.env.hostname,
            databaseUrl: opts.isolate.databaseUrl,
            home: opts.isolate.home,
          },
          signal,
          (line) => log.write("log", line),
        );
      }
      return await Promise.race([Promise.resolve().then(() => task.run!(ctx, item)), aborted]);
    }
    case "command": {
      const argv = typeof task.cmd === "function" ? task.cmd(ctx) : task.cmd!;
      const key = { runId: t.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex };
      if (tryNumber > 1) {
        await endLeftovers(t.store, key, tryNumber, t.env.hostname, (l) => log.write("log", l));
      }
      let recorded: Promise<unknown> = Promise.resolve();
      try {
        return await runCommand(argv, {
          env: task.env,
          cwd: task.cwd,
          signal,
          log: (stream, line) => log.write(stream, line),
          exitFile,
          onStart: (pgid) => {
            const start = processStartTime(pgid);
            recorded = t.store.setTryProcess(key, tryNumber, pgid, start).catch((e) =>
              log.write("log", `could not record process group ${pgid}: ${(e as Error).message}`)
            );
          },
        });
      } finally {
        await recorded;
      }
    }
    case "sensor": {
      const s = task.sensor!;
      const poke = () => Promise.race([Promise.resolve().then(() => task.run!(ctx)), aborted]);
      if (s.mode === "poke") {
        return await pokeUntil({ ...s, poke, clock: t.clock, signal });
      }
      const value = await poke();
      if (sensorDone(value)) return value;
      throw new Reschedule();
    }
    case "trigger": {
      const trig = task.trigger!;
      const conf = (await trig.conf?.(ctx)) ?? {};
      const result = await Promise.race([
        t.env.trigger(trig.dagId, conf, { runId: t.run.id, taskId: task.id }, trig.wait),
        aborted,
      ]);
      ctx.log(`triggered dag "${trig.dagId}" run ${result.runId}: ${result.state}`);
      if (trig.wait && result.state === "failed") {
        throw new Error(`triggered run ${result.runId} of dag "${trig.dagId}" failed`);
      }
      return { dagId: trig.dagId, ...result };
    }
  }
}
