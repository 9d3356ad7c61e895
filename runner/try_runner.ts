/**
 * One try of one task instance: recorded as started, run (a function raced against its abort
 * signal, a command, or a trigger), its log written, and recorded as a success with its XCom, a
 * failure, or up for retry after its backoff — with the task's callbacks.
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
 * import { TryEnv } from "./try_env.ts";
 * import { runTry } from "./try_runner.ts";
 * const store = await openStore({ memory: true });
 * const d = dag({ id: "one" }).task("extract", { run: () => ({ rows: 3 }) });
 * const run = await createDagRun(store, d);
 * const host = {
 *   store,
 *   clock: systemClock,
 *   artifacts: new LocalArtifactStore(await Deno.makeTempDir()),
 *   hostname: "example",
 *   emit() {},
 *   trigger: () => Promise.reject(new Error("this example starts no other runs")),
 * };
 * const tracker = new RunTracker(host, d, run);
 * await tracker.load("observe");
 * await runTry(new TryEnv(tracker, host), d.tasks[0], { taskId: "extract", mapIndex: -1 });
 * assert.equal(tracker.decisions.get({ taskId: "extract", mapIndex: -1 })?.state, "success");
 * await store.close();
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
import type { TiAt } from "./run_decisions.ts";
import { runCallback } from "./run_tracker.ts";
import type { TryEnv } from "./try_env.ts";
import { TryReleased, TryTimeout } from "./try_errors.ts";
import { TaskQueue } from "./store/queue.ts";
import { isTransient, untilWritten } from "./store/transient.ts";
import type { Store } from "./store/store.ts";
import type { TiKey } from "./store/types.ts";
import { TaskLog } from "./task_log.ts";
import { pokeUntil, Reschedule, sensorDone, SensorTimeout, timeoutMessage } from "./sensor_poke.ts";
import { encodeXcom } from "./xcom.ts";

/** How a try is run in a worker (the in-process executor passes none of these). */
export interface TryOptions {
  /** The worker whose claim this try starts: the start is recorded only if the claim still holds. */
  workerId?: string;
  /**
   * The try was started already (a worker records the start with the try's reads, see
   * Store.startTryAndRead): its number and when it started. Its start is not recorded again.
   */
  started?: { tryNumber: number; at: number };
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
 * Runs the next try of task instance `at` in `tries`. Its start and its outcome are written with {@link untilWritten}: while
 * the database is unreachable the outcome is held in memory and written once it is back. Returns
 * false when the try did not start (a worker's claim was lost meanwhile).
 */
export async function runTry(
  tries: TryEnv,
  task: TaskDef,
  at: TiAt,
  opts: TryOptions = {},
): Promise<boolean> {
  const t = tries.tracker;
  const { store, clock } = t.env;
  const decisions = t.decisions;
  const ti = decisions.get(at);
  if (!ti) {
    throw new Error(`${at.taskId}[${at.mapIndex}] is not a task instance of run ${t.run.id}`);
  }
  const key: TiKey = { runId: t.run.id, taskId: at.taskId, mapIndex: at.mapIndex };
  const tryNumber = opts.started?.tryNumber ?? ti.tryNumber + 1;
  const name = `${at.taskId}[${at.mapIndex}] of run ${t.run.id} try ${tryNumber}`;
  const log0 = opts.log ?? ((l: string) => console.error(`driftflow: ${l}`));
  const write = <T>(what: string, op: () => Promise<T>, onHold?: () => Promise<void>) =>
    untilWritten(`${what} of ${name}`, op, { log: log0, giveUp: opts.giveUp, onHold });
  // A worker keeps each outcome in the outbox (on disk) until it is written, so it survives this
  // process dying before the database takes it.
  let kept = false;
  const holder = (
    end: HeldOutcome["end"],
    more: Pick<HeldOutcome, "skips" | "events"> = { skips: [] },
  ) => {
    const h: Omit<HeldOutcome, "owner"> = { key, tryNumber, end, ...more };
    return () => keepHeld(h);
  };
  const keepHeld = async (h: Omit<HeldOutcome, "owner">) => {
    if (!opts.outbox || kept) return;
    kept = true;
    await opts.outbox.keep(h).catch((e) =>
      log0(`${name}: cannot keep the outcome in the outbox: ${(e as Error).message}`)
    );
  };
  // Once the outcome is written (or replaced by another), its held copy goes. A copy that cannot
  // be dropped is said and left: replaying it later finds the try closed and records nothing.
  const release = async () => {
    const held = kept;
    kept = false;
    if (held) {
      await opts.outbox?.drop({ key, tryNumber }).catch((e) =>
        log0(`${name}: cannot drop the held outcome from the outbox: ${(e as Error).message}`)
      );
    }
    if (exitFile) opts.outbox?.commandDone(key, tryNumber);
  };
  const startedAt = opts.started?.at ?? clock.now();
  const started = opts.started !== undefined || await write(
    "the start",
    () =>
      store.startTry(key, tryNumber, new Date(startedAt), tries.hostname, opts.workerId ?? null),
  );
  if (!started) {
    log0(`${name} not started: the claim was taken back meanwhile (another worker may run it)`);
    return false;
  }
  decisions.update(at, { tryNumber });
  t.mark(at, "running");

  const controller = new AbortController();
  const outer = tries.signal;
  const onOuterAbort = () =>
    controller.abort(outer?.reason ?? new Error("the executor is shutting down"));
  outer?.addEventListener("abort", onOuterAbort, { once: true });
  if (outer?.aborted) onOuterAbort();
  const timeout = decisions.setting(task, "timeout");
  const timeoutMs = timeout == null ? null : parseDuration(timeout);
  const cancelTimer = timeoutMs === null
    ? () => {}
    : clock.setTimer(timeoutMs, () => controller.abort(new TryTimeout(timeout!)));
  const log = new TaskLog(
    (lines) => write(`${lines.length} log lines`, () => store.appendLogs(key, tryNumber, lines)),
    clock,
  );

  // The asset events a success writes (with it, see finishWithEvents).
  const events = (task.outlets ?? []).map((uri) => ({
    uri,
    source: "task" as const,
    sourceDagId: t.dag.id,
    sourceRunId: t.run.id,
    sourceTaskId: at.taskId,
    ...(at.mapIndex >= 0 ? { extra: { mapIndex: at.mapIndex } } : {}),
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
    value = await execute(tries, task, at, tryNumber, controller.signal, log, opts, exitFile);
    if (task.kind === "branch") value = decisions.followed(task.id, value);
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
      error = e instanceof TryTimeout
        ? e.message
        : e instanceof Error
        ? e.stack ?? e.message
        : String(e);
      final = e instanceof SensorTimeout;
      log.write("log", `try ${tryNumber} failed: ${error}`);
    }
  } finally {
    cancelTimer();
    outer?.removeEventListener("abort", onOuterAbort);
  }
  const endedAt = clock.now();
  const durationMs = endedAt - startedAt;
  const event: TaskEvent = {
    dagId: t.dag.id,
    runId: t.run.id,
    taskId: at.taskId,
    mapIndex: at.mapIndex,
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
    const first = (await sensorHistory(store, key, tryNumber, startedAt)).first;
    const pokes = tryNumber - first.try + 1;
    if (endedAt - first.at + s.intervalMs <= s.timeoutMs) {
      const next = endedAt + s.intervalMs;
      log.write("log", `poke ${pokes}: not yet; next poke at ${new Date(next).toISOString()}`);
      await log.close();
      decisions.update(at, { maxTries: ti.maxTries + 1 });
      await write("a sensor's extra try", () => store.extendTries(key));
      // held from here (the extra try is written): a worker dying now leaves it for the next one
      const hold = holder({
        state: "up_for_reschedule",
        at: new Date(endedAt).toISOString(),
        durationMs,
        nextRetryAt: new Date(next).toISOString(),
      });
      await hold(); // a no-op without an outbox (in-process runs)
      const recorded = await write("the reschedule", () =>
        store.finishTry(key, tryNumber, {
          state: "up_for_reschedule",
          at: new Date(endedAt),
          durationMs,
          nextRetryAt: new Date(next),
        }), hold);
      await release();
      if (!recorded) lost("reschedule");
      decisions.update(at, { nextRetryAt: next, state: "up_for_reschedule" });
      t.env.emit({ kind: "task", ...key, state: "up_for_reschedule", tryNumber, durationMs });
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
    const hold = holder({
      state: "skipped",
      at: new Date(endedAt).toISOString(),
      durationMs,
      error: `skipped: ${skipped}`,
    });
    await hold(); // a no-op without an outbox (in-process runs)
    await log.close();
    const recorded = await write("the skip", () =>
      store.finishTry(key, tryNumber, {
        state: "skipped",
        at: new Date(endedAt),
        durationMs,
        error: `skipped: ${skipped}`,
      }), hold);
    await release();
    if (!recorded) lost("skip");
    decisions.update(at, { state: "skipped" });
    t.env.emit({ kind: "task", ...key, state: "skipped", tryNumber, durationMs });
    return true;
  }
  if (error === null) {
    let xcom = null;
    try {
      xcom = value === undefined ? null : await encodeXcom(value, t.env.artifacts);
    } catch (e) {
      error = (e as Error).message;
    }
    if (error === null) {
      const skips = task.kind === "branch" ? decisions.notFollowed(task.id, value as string[]) : [];
      let recorded = false;
      const hold = holder({
        state: "success",
        at: new Date(endedAt).toISOString(),
        durationMs,
        xcom,
      }, {
        skips: skips.map((s) => ({ runId: t.run.id, taskId: s.taskId, mapIndex: -1 })),
        events,
      });
      // In a worker the outcome goes to the outbox before anything else is written: if the worker
      // dies from here on, the next worker here records it instead of running the task again.
      await hold(); // a no-op without an outbox (in-process runs)
      // The last log lines are written beside the outcome, not before it: while the database is
      // down the outcome is what must be held first (and said so), the log follows it.
      const logClosed = log.close();
      try {
        // Skips are stored before the success, so no other process sees the branch done while the
        // tasks it did not follow still look undecided.
        for (const s of skips) {
          await write("a branch skip", () =>
            store.setTaskState(
              { runId: t.run.id, taskId: s.taskId, mapIndex: -1 },
              "skipped",
              { at: new Date(endedAt) },
            ), hold);
        }
        // The asset events are written with the success, in one transaction, and only if the
        // success is recorded: a try whose instance moved on meanwhile (skipped by a run's
        // dagrunTimeout, reaped, cleared) announces no update.
        recorded = await write("the success", () =>
          finishWithEvents(store, key, tryNumber, {
            state: "success",
            at: new Date(endedAt),
            durationMs,
            xcom,
          }, events), hold);
      } catch (e) {
        // A worker giving up at shutdown: the success stays in the outbox for the next worker.
        if (isTransient(e)) throw e;
        // Not a lost connection: the database refused the outcome itself (e.g. a value it cannot
        // store). The try fails with that reason instead of staying `running` unrecorded.
        error = `the try succeeded but its outcome could not be stored: ${(e as Error).message}`;
        log0(`${name}: ${error}`);
      } finally {
        await logClosed;
      }
      // the held success goes once: written, or refused (the failure below is held instead)
      await release();
      if (error === null) {
        if (!recorded) lost("success");
        // The success and the branch's skips change memory together, before any await.
        if (value !== undefined) t.contexts.setOutput(at.taskId, at.mapIndex, value);
        decisions.update(at, { state: "success" });
        for (const s of skips) t.mark(s, "skipped");
        t.env.emit({ kind: "task", ...key, state: "success", tryNumber, durationMs });
        await runCallback(t.dag.id, task.onSuccess, event, "onSuccess");
        return true;
      }
    }
  }
  // A try released by a worker shutting down goes back to the queue and does not use a retry.
  const shutdown = tries.shutdown;
  const released = shutdown?.aborted === true && shutdown.reason instanceof TryReleased;
  const retry = released || (!final && tryNumber <= ti.maxTries && !shutdown?.aborted);
  // A reschedule-mode sensor's pokes are tries of their own but not attempts (as Airflow, whose
  // reschedules keep the try number): its backoff counts the tries that were not reschedules.
  const attempt = retry && !released && task.sensor?.mode === "reschedule"
    ? (await sensorHistory(store, key, tryNumber, startedAt)).attempts
    : tryNumber;
  const nextRetryAt = released ? endedAt : retry
    ? endedAt + retryDelayMs(
      decisions.settings(task),
      attempt,
      `${t.dag.id}#${at.taskId}#${t.run.id}#${at.mapIndex}`,
    )
    : null;
  const state = retry ? "up_for_retry" : "failed";
  const hold = holder({
    state,
    at: new Date(endedAt).toISOString(),
    durationMs,
    error,
    nextRetryAt: nextRetryAt === null ? null : new Date(nextRetryAt).toISOString(),
  });
  await hold(); // a no-op without an outbox (in-process runs)
  await log.close();
  if (released) await write("a released try", () => new TaskQueue(store.db).grantTry(key));
  const recorded = await write(
    `the ${state} outcome`,
    () =>
      store.finishTry(key, tryNumber, {
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
  decisions.update(at, { nextRetryAt, state });
  t.env.emit({ kind: "task", ...key, state, tryNumber, durationMs, error: error ?? undefined });
  await runCallback(t.dag.id, retry ? task.onRetry : task.onFailure, {
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
  store: Store,
  key: TiKey,
  tryNumber: number,
  startedAt: number,
): Promise<{ first: { try: number; at: number }; attempts: number }> {
  const tries = (await store.tries(key.runId, key.taskId))
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
  tries: TryEnv,
  task: TaskDef,
  at: TiAt,
  tryNumber: number,
  signal: AbortSignal,
  log: TaskLog,
  opts: TryOptions,
  exitFile: string | undefined,
): Promise<unknown> {
  const t = tries.tracker;
  const ctx = t.contexts.context(
    task,
    at.mapIndex,
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
      const item = task.mapped ? await t.contexts.item(task, at.mapIndex) : undefined;
      const isolate = opts.isolate && t.dag.fileloc &&
        (opts.isolate.mode === "always" || t.decisions.setting(task, "timeout") != null);
      if (isolate && opts.isolate && t.dag.fileloc) {
        return await opts.isolate.pool.run(
          pathToFileURL(resolve(t.dag.fileloc)).href,
          {
            kind: "run",
            dagId: t.dag.id,
            run: t.run,
            taskId: task.id,
            mapIndex: at.mapIndex,
            tryNumber,
            item,
            tis: [...t.decisions.instances()],
            outputs: t.contexts.outputs(),
            hostname: tries.hostname,
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
      const key = { runId: t.run.id, taskId: at.taskId, mapIndex: at.mapIndex };
      if (tryNumber > 1) {
        await endLeftovers(t.env.store, key, tryNumber, tries.hostname, (l) => log.write("log", l));
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
            recorded = t.env.store.setTryProcess(key, tryNumber, pgid, start).catch((e) =>
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
        return await pokeUntil({ ...s, poke, clock: t.env.clock, signal });
      }
      const value = await poke();
      if (sensorDone(value)) return value;
      throw new Reschedule();
    }
    case "trigger": {
      const trig = task.trigger!;
      const conf = (await trig.conf?.(ctx)) ?? {};
      const result = await Promise.race([
        tries.trigger(trig.dagId, conf, { runId: t.run.id, taskId: task.id }, trig.wait),
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
