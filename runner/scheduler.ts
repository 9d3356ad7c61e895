/**
 * The scheduler: creates the runs schedules call for, starts queued runs within `maxActiveRuns`,
 * moves running runs forward (trigger rules, branches, mapping, the run's end) so workers can claim
 * their tasks, and reaps zombies — tries whose worker stopped heartbeating. Only the leader (see
 * leader.ts) works; runs are unique on (DAG, logical date), so even two leaders could not duplicate
 * a run.
 *
 * @example
 * ```ts
 * import { Scheduler } from "./scheduler.ts";
 * const scheduler = new Scheduler({ store, dags, artifacts });
 * await scheduler.tick(); // one pass; `run(signal)` loops until the signal aborts
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { DagDefinition } from "./dag.ts";
import type { LeaderLock } from "./leader.ts";
import { Heartbeat } from "./liveness.ts";
import { createDagRun } from "./runs.ts";
import { type ExecutorEvent, type RunEnv, RunTracker } from "./run_tracker.ts";
import { parseSchedule } from "./schedule.ts";
import type { RunState } from "./states.ts";
import { CHANNEL_SCHEDULER, CHANNEL_TASKS, TaskQueue } from "./store/queue.ts";
import { RunExistsError, type Store } from "./store/store.ts";

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

export class Scheduler implements RunEnv {
  readonly store: Store;
  readonly clock: Clock;
  readonly artifacts: ArtifactStore;
  readonly hostname: string;
  readonly queue: TaskQueue;
  #dirty = new Set<number>();
  #wake: (() => void) | null = null;
  #lastSweep = 0;
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
            this.#log(`pass failed (will retry): ${(e as Error).message}`);
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
      } else if (!sweep && !this.#dirty.has(run.id)) continue;
      this.#dirty.delete(run.id);
      const tracker = new RunTracker(this, dag, run);
      await tracker.load("observe");
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

  /** Fails (or queues for retry) every try whose worker stopped heartbeating. */
  async reap(now: Date): Promise<number> {
    const before = new Date(now.getTime() - (this.options.zombieAfterMs ?? 30_000));
    const zombies = await this.queue.zombies(before);
    for (const z of zombies) {
      const retry = z.tryNumber <= z.maxTries;
      await this.store.finishTry(z, z.tryNumber, {
        state: retry ? "up_for_retry" : "failed",
        at: now,
        durationMs: 0,
        error: `zombie: no heartbeat from worker ${
          z.workerId ?? "?"
        } since before ${before.toISOString()}`,
        nextRetryAt: retry ? now : null,
      });
      this.#dirty.add(z.runId);
      this.#log(`reaped zombie ${z.taskId}[${z.mapIndex}] of run ${z.runId} (try ${z.tryNumber})`);
    }
    const requeued = await this.queue.requeueStale(before);
    if (zombies.length || requeued) await this.queue.notify(CHANNEL_TASKS);
    return zombies.length + requeued;
  }
}
