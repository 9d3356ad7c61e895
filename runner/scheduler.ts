/**
 * The scheduler: creates the runs schedules call for, starts queued runs within `maxActiveRuns`,
 * moves running runs forward (trigger rules, branches, mapping, the run's end) so workers can claim
 * their tasks, and reaps zombies — tries whose worker stopped heartbeating. Only the leader (see
 * leader.ts) works; runs are unique on (DAG, logical date), so even two leaders could not duplicate
 * a run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { dag } from "./dag.ts";
 * import { createDagRun } from "./runs.ts";
 * import { Scheduler } from "./scheduler.ts";
 * import { openStore } from "./store/open.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const etl = dag({ id: "etl" }).task("extract", { run: () => 1 });
 *   const dags = new Map([[etl.id, etl]]);
 *   const artifacts = new LocalArtifactStore(dir);
 *   const run = await createDagRun(store, etl, { executor: "distributed" });
 *   const scheduler = new Scheduler({ store, dags, artifacts, log: () => {} });
 *   await scheduler.tick(); // one pass; `run(signal)` loops until the signal aborts
 *   assert.equal((await store.getRun(run.id))?.state, "running");
 *   const [extract] = await store.taskInstances(run.id);
 *   assert.equal(extract.state, "scheduled"); // for a worker to claim
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { DagDefinition } from "./dag.ts";
import { parseDuration } from "./duration.ts";
import type { LeaderLock } from "./leader.ts";
import { createDagRun, poolProblems } from "./runs.ts";
import { createAssetTriggeredRun } from "./assets.ts";
import { watchAssetFolders } from "./assets_watch.ts";
import { Heartbeat } from "./liveness.ts";
import { type ExecutorEvent, type RunEnv, RunTracker } from "./run_tracker.ts";
import { parseSchedule } from "./schedule.ts";
import type { RunState } from "./core/states.ts";
import { CHANNEL_SCHEDULER, CHANNEL_TASKS, TaskQueue } from "./store/queue.ts";
import { RunExistsError, type Store } from "./store/store.ts";
import type { DagRun } from "./store/types.ts";
import { isTransient } from "./store/transient.ts";

/** How many tries of one task instance may be lost with their worker without using a retry. */
export const MAX_FREE_ZOMBIE_TRIES = 10;

/** How a scheduler is set up. */
export interface SchedulerOptions {
  store: Store;
  dags: Map<string, DagDefinition>;
  artifacts: ArtifactStore;
  clock?: Clock;
  hostname?: string;
  /** Held by the one scheduler that works; default: always held (one process). */
  leader?: LeaderLock;
  /** The longest pause between passes (default 1 s); notifications wake it sooner. */
  tickMs?: number;
  /** A running try whose heartbeat is older than this is a zombie (default 30 s). */
  zombieAfterMs?: number;
  /** At most this many missed runs are created per DAG and pass when catching up (default 1000). */
  maxCatchupPerTick?: number;
  onEvent?: (event: ExecutorEvent) => void;
  log?: (line: string) => void;
}

/** True when `run` started longer than its DAG's dagrunTimeout before `now`. */
function dagrunTimedOut(dag: DagDefinition, run: DagRun, now: Date): boolean {
  const limit = dag.options.dagrunTimeout;
  if (limit === undefined || run.startDate === null) return false;
  return run.startDate.getTime() + parseDuration(limit) <= now.getTime();
}

export class Scheduler implements RunEnv {
  readonly store: Store;
  readonly clock: Clock;
  readonly artifacts: ArtifactStore;
  readonly hostname: string;
  readonly queue: TaskQueue;
  #dirty = new Set<number>();
  #wake: (() => void) | null = null;
  #lastSweep = 0;
  /** Since when this scheduler has seen the database up (null: it was just unreachable). */
  #dbUpSince: number | null = null;
  readonly #heartbeat: Heartbeat;

  constructor(readonly options: SchedulerOptions) {
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.artifacts = options.artifacts;
    this.hostname = options.hostname ?? Deno.hostname();
    this.queue = new TaskQueue(options.store.db);
    this.#heartbeat = new Heartbeat(
      options.store.db,
      "scheduler",
      `scheduler:${this.hostname}:${Deno.pid}`,
      this.hostname,
    );
  }

  emit(event: ExecutorEvent): void {
    this.options.onEvent?.(event);
  }

  #log(line: string): void {
    (this.options.log ?? ((l: string) => console.error(l)))(
      `${new Date(this.clock.now()).toISOString()} scheduler: ${line}`,
    );
  }

  /** Trigger tasks run on workers; the scheduler itself never runs a try. */
  trigger(): Promise<{ runId: number; state: RunState }> {
    return Promise.reject(new Error("the scheduler runs no tasks"));
  }

  /** Loops until `signal` aborts: leads or waits to lead, then passes over the work. */
  async run(signal: AbortSignal): Promise<void> {
    const stop = await this.store.db.listen(CHANNEL_SCHEDULER, (payload) => {
      const id = Number(payload);
      if (Number.isInteger(id) && id > 0) this.#dirty.add(id);
      this.#wake?.();
    }).catch(() => null);
    const leader = this.options.leader;
    let leading = false, shown = "";
    try {
      while (!signal.aborted) {
        const isLeader = leader ? await leader.acquire() : true;
        const down = leader?.lastError?.() ?? null;
        if (down) this.#dbUpSince = null;
        const status = isLeader
          ? "leading"
          : down
          ? `standing by: the database is unreachable (${down.message})`
          : "standing by: another scheduler leads";
        if (status !== shown) this.#log(shown = status);
        await this.#heartbeat.beat(isLeader ? "leading" : "standing by");
        leading = isLeader;
        if (leading) {
          try {
            await this.tick();
          } catch (e) {
            if (isTransient(e)) this.#dbUpSince = null;
            this.#log(
              `${isTransient(e) ? "the database is unreachable" : "pass failed"} (will retry): ${
                (e as Error).message
              }`,
            );
          }
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.options.tickMs ?? 1000);
          const done = () => {
            clearTimeout(t);
            this.#wake = null;
            signal.removeEventListener("abort", done);
            resolve();
          };
          this.#wake = done;
          signal.addEventListener("abort", done, { once: true });
        });
      }
    } finally {
      await stop?.().catch(() => {});
      await leader?.release();
      await this.#heartbeat.stop();
    }
  }

  /** One pass: new runs, started runs, runs moved forward, zombies reaped. */
  async tick(): Promise<void> {
    const now = new Date(this.clock.now());
    const paused = await this.store.pausedDags();
    for (const dag of this.options.dags.values()) {
      if (dag.options.schedule && !paused.has(dag.id)) await this.createDueRuns(dag, now);
    }
    await this.createAssetRuns(paused);
    await this.reap(now);
    const sweep = this.clock.now() - this.#lastSweep >= 5000;
    const runs = await this.store.distributedRuns(["queued", "running"]);
    let scheduled = 0;
    for (const run of runs) {
      const dag = this.options.dags.get(run.dagId);
      if (!dag) continue;
      if (run.state === "queued") {
        if (paused.has(dag.id)) continue;
        if (
          !await this.store.startRunIfRoom(run.id, dag.id, dag.options.maxActiveRuns ?? 16, now)
        ) continue;
        run.state = "running";
        this.emit({ kind: "run", runId: run.id, dagId: dag.id, state: "running" });
        const problems = await poolProblems(this.store, dag);
        if (problems.length) {
          // A run whose tasks could never be claimed fails at once instead of waiting for ever.
          const tracker = new RunTracker(this, dag, run);
          await tracker.load("observe");
          await tracker.skipUnfinished(`cannot start: ${problems.join("; ")}`);
          await tracker.finish(true);
          this.#log(`run ${run.id} of ${dag.id}: failed: ${problems.join("; ")}`);
          continue;
        }
      } else if (!sweep && !this.#dirty.has(run.id)) continue;
      this.#dirty.delete(run.id);
      const tracker = new RunTracker(this, dag, run);
      await tracker.load("observe");
      if (dagrunTimedOut(dag, run, now)) {
        // Airflow's dagrun_timeout: unfinished tasks are skipped and the run fails. (A try already
        // running on a worker is stopped at its next heartbeat; its outcome is not recorded.)
        await tracker.skipUnfinished(
          `the run exceeded its dagrunTimeout of ${dag.options.dagrunTimeout}`,
        );
        await tracker.finish(true);
        this.#log(
          `run ${run.id} of ${dag.id}: failed (dagrunTimeout ${dag.options.dagrunTimeout})`,
        );
        continue;
      }
      scheduled += await tracker.settle(true);
      if (tracker.allFinished()) {
        const state = await tracker.finish();
        this.#log(`run ${run.id} of ${dag.id}: ${state}`);
      }
    }
    if (sweep) this.#lastSweep = this.clock.now();
    if (scheduled > 0) await this.queue.notify(CHANNEL_TASKS);
  }

  /** Creates the runs `dag`'s schedule calls for up to `now` (Airflow's: a run starts when its interval ends). */
  async createDueRuns(dag: DagDefinition, now: Date): Promise<number> {
    const schedule = parseSchedule(dag.options.schedule!, dag.options.timezone ?? "UTC");
    const last = await this.store.lastScheduledDate(dag.id);
    const start = dag.options.startDate ? new Date(dag.options.startDate) : null;
    const end = dag.options.endDate ? new Date(dag.options.endDate) : null;
    // Interval starts whose interval has ended by now.
    let starts: Date[];
    if (dag.options.catchup && (last || start)) {
      const from = last ?? new Date(start!.getTime() - 1);
      starts = schedule.between(from, now, (this.options.maxCatchupPerTick ?? 1000) + 1);
    } else {
      // Without catchup only the latest finished interval counts.
      starts = schedule.latest(2, now).filter((d) => !last || d > last);
    }
    let created = 0;
    for (const logical of starts) {
      const intervalEnd = schedule.next(logical);
      if (!intervalEnd || intervalEnd > now) continue;
      if (start && logical < start) continue;
      if (end && logical > end) continue;
      if (last && logical <= last) continue;
      try {
        await createDagRun(this.store, dag, {
          logicalDate: logical,
          dataInterval: { start: logical, end: intervalEnd },
          runType: "scheduled",
          executor: "distributed",
        });
        created++;
      } catch (e) {
        if (!(e instanceof RunExistsError)) throw e;
      }
    }
    if (created) this.#log(`created ${created} run(s) of ${dag.id}`);
    return created;
  }

  /** Watches asset folders, then makes the runs of asset-scheduled DAGs that are due. */
  async createAssetRuns(paused: Set<string>): Promise<void> {
    const dags = [...this.options.dags.values()].filter((d) =>
      d.options.onAssets?.length && !paused.has(d.id)
    );
    if (dags.length === 0) return;
    await watchAssetFolders(this.store.db, dags, (l) => this.#log(l));
    for (const dag of dags) {
      const run = await createAssetTriggeredRun(this.store, dag);
      if (run) this.#log(`created run ${run.id} of ${dag.id} (asset events)`);
    }
  }

  /**
   * Fails (or queues for retry) every try whose worker stopped heartbeating. A try lost with its
   * worker is an infrastructure failure, not the task's: it does not use one of the task's retries,
   * up to {@link MAX_FREE_ZOMBIE_TRIES} times per task instance (a task that kills its worker each
   * time still ends).
   */
  async reap(now: Date): Promise<number> {
    const zombieAfter = this.options.zombieAfterMs ?? 30_000;
    // A heartbeat is only missing if the database was up to take it: after an outage (or this
    // scheduler's start) workers get a whole zombie timeout to beat and write held outcomes.
    this.#dbUpSince ??= now.getTime();
    if (now.getTime() - this.#dbUpSince < zombieAfter) return 0;
    const before = new Date(now.getTime() - zombieAfter);
    const zombies = await this.queue.zombies(before);
    let reaped = 0;
    for (const z of zombies) {
      const grant = z.zombieTries < MAX_FREE_ZOMBIE_TRIES;
      const retry = grant || z.tryNumber <= z.maxTries;
      const done = await this.queue.reapZombie(z, {
        before,
        now,
        state: retry ? "up_for_retry" : "failed",
        error: `zombie: no heartbeat from worker ${
          z.workerId ?? "?"
        } since before ${before.toISOString()}`,
        grant,
      });
      if (!done) continue;
      reaped++;
      this.#dirty.add(z.runId);
      this.#log(
        `reaped zombie ${z.taskId}[${z.mapIndex}] of run ${z.runId} (try ${z.tryNumber}${
          grant ? ", not counted against its retries" : ""
        })`,
      );
    }
    const requeued = await this.queue.requeueStale(before);
    if (reaped || requeued) await this.queue.notify(CHANNEL_TASKS);
    return reaped + requeued;
  }
}
