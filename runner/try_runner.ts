/**
 * One try of one task instance: recorded as started, run (a function raced against its abort
 * signal, a command, or a trigger), its log written, and recorded as a success with its XCom, a
 * failure, or up for retry after its backoff — with the task's callbacks.
 *
 * @example
 * ```ts
 * import { runTry } from "./try_runner.ts";
 * await runTry(tracker, task, ti); // ti.state is now success, failed or up_for_retry
 * ```
 */
import { recordAssetEvent } from "./assets.ts";
import { runCommand } from "./command_task.ts";
import { isSkipTask, type TaskDef, type TaskEvent } from "./dag.ts";
import { parseDuration } from "./duration.ts";
import { retryDelayMs } from "./retry.ts";
import type { RunTracker, Ti } from "./run_tracker.ts";
import { TaskQueue } from "./store/queue.ts";
import type { TiKey } from "./store/types.ts";
import { TaskLog } from "./task_log.ts";
import {
  pokeUntil,
  Reschedule,
  sensorDone,
  SensorTimeout,
  timeoutMessage,
} from "./sensors/poke.ts";
import { encodeXcom } from "./xcom.ts";

/** Runs the next try of `ti`. */
export async function runTry(t: RunTracker, task: TaskDef, ti: Ti): Promise<void> {
  const env = t.env;
  const key: TiKey = { runId: t.run.id, taskId: ti.taskId, mapIndex: ti.mapIndex };
  const tryNumber = ti.tryNumber + 1;
  const startedAt = t.clock.now();
  await t.store.startTry(key, tryNumber, new Date(startedAt), env.hostname);
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
  const log = new TaskLog((lines) => t.store.appendLogs(key, tryNumber, lines), t.clock);

  let value: unknown;
  let error: string | null = null;
  let skipped: string | null = null;
  let reschedule = false;
  /** A failure that is final whatever the retries (a sensor's timeout). */
  let final = false;
  try {
    value = await execute(t, task, ti, tryNumber, controller.signal, log);
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
  await log.close();
  const endedAt = t.clock.now();
  const durationMs = endedAt - startedAt;
  const event: TaskEvent = {
    dagId: t.dag.id,
    runId: t.run.id,
    taskId: ti.taskId,
    mapIndex: ti.mapIndex,
    tryNumber,
  };

  if (reschedule) {
    // A reschedule-mode sensor whose condition does not hold yet: within its timeout it waits as
    // up_for_reschedule (no slot held; the poke does not use a retry), else it times out.
    const s = task.sensor!;
    const first = await firstPokeAt(t, key, tryNumber, startedAt);
    const pokes = tryNumber - first.try + 1;
    if (endedAt - first.at + s.intervalMs <= s.timeoutMs) {
      const at = endedAt + s.intervalMs;
      await t.store.appendLogs(key, tryNumber, [{
        ts: new Date(endedAt),
        stream: "log",
        line: `poke ${pokes}: not yet; next poke at ${new Date(at).toISOString()}`,
      }]);
      ti.maxTries++;
      await t.store.extendTries(key);
      await t.store.finishTry(key, tryNumber, {
        state: "up_for_reschedule",
        at: new Date(endedAt),
        durationMs,
        nextRetryAt: new Date(at),
      });
      ti.nextRetryAt = at;
      ti.state = "up_for_reschedule";
      env.emit({ kind: "task", ...key, state: "up_for_reschedule", tryNumber, durationMs });
      return;
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
    await t.store.finishTry(key, tryNumber, {
      state: "skipped",
      at: new Date(endedAt),
      durationMs,
      error: `skipped: ${skipped}`,
    });
    ti.state = "skipped";
    env.emit({ kind: "task", ...key, state: "skipped", tryNumber, durationMs });
    return;
  }
  if (error === null) {
    let xcom = null;
    try {
      xcom = value === undefined ? null : await encodeXcom(value, env.artifacts);
    } catch (e) {
      error = (e as Error).message;
    }
    if (error === null) {
      // The success and the branch's skips change memory together, before any await.
      if (value !== undefined) t.setOutput(ti.taskId, ti.mapIndex, value);
      ti.state = "success";
      env.emit({ kind: "task", ...key, state: "success", tryNumber, durationMs });
      const skips = task.kind === "branch" ? t.notFollowed(task, value as string[]) : [];
      for (const s of skips) t.setMemState(s, "skipped");
      // Skips are stored before the success, so no other process sees the branch done while the
      // tasks it did not follow still look undecided.
      for (const s of skips) {
        await t.store.setTaskState({ runId: t.run.id, taskId: s.taskId, mapIndex: -1 }, "skipped", {
          at: new Date(endedAt),
        });
      }
      // The asset events go first: a process that dies between the two leaves an event and a try
      // that runs again (an extra downstream run at worst), never an update nobody hears of.
      for (const uri of task.outlets ?? []) {
        await recordAssetEvent(t.store.db, {
          uri,
          source: "task",
          sourceDagId: t.dag.id,
          sourceRunId: t.run.id,
          sourceTaskId: ti.taskId,
          ...(ti.mapIndex >= 0 ? { extra: { mapIndex: ti.mapIndex } } : {}),
        });
      }
      await t.store.finishTry(key, tryNumber, {
        state: "success",
        at: new Date(endedAt),
        durationMs,
        xcom,
      });
      await t.callback(task.onSuccess, event, "onSuccess");
      return;
    }
  }
  // A try released by a worker shutting down goes back to the queue and does not use a retry.
  const released = env.signal?.aborted === true &&
    (env.signal.reason as Error)?.name === "ReleaseError";
  const retry = released || (!final && tryNumber <= ti.maxTries && !env.signal?.aborted);
  const nextRetryAt = released ? endedAt : retry
    ? endedAt + retryDelayMs(
      { ...t.defaults, ...task.settings },
      tryNumber,
      `${t.dag.id}#${ti.taskId}#${t.run.id}#${ti.mapIndex}`,
    )
    : null;
  const state = retry ? "up_for_retry" : "failed";
  if (released) await new TaskQueue(t.store.db).grantTry(key);
  await t.store.finishTry(key, tryNumber, {
    state,
    at: new Date(endedAt),
    durationMs,
    error,
    nextRetryAt: nextRetryAt === null ? null : new Date(nextRetryAt),
  });
  ti.nextRetryAt = nextRetryAt;
  ti.state = state;
  env.emit({ kind: "task", ...key, state, tryNumber, durationMs, error: error ?? undefined });
  await t.callback(retry ? task.onRetry : task.onFailure, {
    ...event,
    error: error ?? undefined,
  }, retry ? "onRetry" : "onFailure");
}

/**
 * The first poke of a reschedule-mode sensor's current wait: the earliest of the tries just before
 * this one that ended up_for_reschedule (this try when there are none).
 */
async function firstPokeAt(
  t: RunTracker,
  key: TiKey,
  tryNumber: number,
  startedAt: number,
): Promise<{ try: number; at: number }> {
  const tries = (await t.store.tries(key.runId, key.taskId))
    .filter((x) => x.mapIndex === key.mapIndex && x.tryNumber < tryNumber)
    .sort((a, b) => b.tryNumber - a.tryNumber);
  let first = { try: tryNumber, at: startedAt };
  for (const x of tries) {
    if (x.state !== "up_for_reschedule" || x.tryNumber !== first.try - 1) break;
    first = { try: x.tryNumber, at: x.startDate.getTime() };
  }
  return first;
}

async function execute(
  t: RunTracker,
  task: TaskDef,
  ti: Ti,
  tryNumber: number,
  signal: AbortSignal,
  log: TaskLog,
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
