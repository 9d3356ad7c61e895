/**
 * A worker: claims ready task instances from PostgreSQL (`FOR UPDATE SKIP LOCKED`), runs their
 * tries, heartbeats while they run, and wakes on LISTEN/NOTIFY with polling as the fallback. Any
 * number of workers on any machines may share one `DATABASE_URL`. On stop (SIGTERM) it claims no
 * more, lets running tries finish within a grace period, then releases them back to the queue.
 *
 * @example
 * ```ts
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { openStore } from "./store/open.ts";
 * import { Worker } from "./worker.ts";
 * const store = await openStore({ memory: true }); // in production: the server DATABASE_URL names
 * const tmp = await Deno.makeTempDir();
 * const artifacts = new LocalArtifactStore(`${tmp}/artifacts`);
 * const options = { store, dags: new Map(), artifacts, outboxDir: `${tmp}/outbox`, pollMs: 10 };
 * const worker = new Worker(options, true); // true: embedded (PGlite), this process alone
 * const stop = new AbortController();
 * setTimeout(() => stop.abort(), 100);
 * await worker.run(stop.signal); // claims and runs ready tries until `stop` aborts
 * await store.close();
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { DagDefinition } from "./dag.ts";
import { join } from "node:path";
import { IsolatePool, isolationFromEnv, type IsolationMode } from "./isolated_task.ts";
import { Outbox } from "./outbox.ts";
import { createTriggeredRun } from "./runs.ts";
import { type ExecutorEvent, RunTracker } from "./run_tracker.ts";
import type { RunState } from "./core/states.ts";
import { Heartbeat } from "./liveness.ts";
import { CHANNEL_SCHEDULER, CHANNEL_TASKS, type Claimed, TaskQueue } from "./store/queue.ts";
import { dataHome } from "./store/open.ts";
import type { Store } from "./store/store.ts";
import { untilWritten } from "./store/transient.ts";
import type { DagRun, TiKey } from "./store/types.ts";
import { TryEnv, type TryHost } from "./try_env.ts";
import { TryReleased } from "./try_errors.ts";
import { runTry } from "./try_runner.ts";

/** How a worker is set up. */
export interface WorkerOptions {
  store: Store;
  dags: Map<string, DagDefinition>;
  artifacts: ArtifactStore;
  clock?: Clock;
  hostname?: string;
  /** How many tries it runs at once (default 4). Pass `embedded` to the constructor to allow PGlite (one process). */
  concurrency?: number;
  /** Only tasks of these pools (default: all). */
  pools?: readonly string[] | null;
  /** How often it heartbeats its running tries (default 5 s). */
  heartbeatMs?: number;
  /** How often it looks for work without a notification (default 1 s). */
  pollMs?: number;
  /** How long running tries may take to finish after a stop (default 30 s). */
  graceMs?: number;
  onEvent?: (event: ExecutorEvent) => void;
  log?: (line: string) => void;
  /**
   * Where function and branch tasks run. "timeout" (default): tries of tasks with a timeout run
   * each in an isolate of its own that the timeout (or a release at shutdown) terminates, the rest
   * in this process; "always": every try in an isolate; "none": every try in this process, where a
   * body that ignores `ctx.signal` runs on after its try failed. See isolated_task.ts. Default from
   * DRIFTFLOW_ISOLATION.
   */
  isolation?: IsolationMode;
  /** The server isolates connect to (default DATABASE_URL; without one there is no isolation). */
  databaseUrl?: string;
  /** Where held outcomes are kept on disk (default `<data home>/outbox`; see outbox.ts). */
  outboxDir?: string;
}

export class Worker implements TryHost {
  readonly store: Store;
  readonly clock: Clock;
  readonly artifacts: ArtifactStore;
  readonly hostname: string;
  readonly workerId: string;
  readonly queue: TaskQueue;
  readonly #abort = new AbortController();
  readonly signal: AbortSignal = this.#abort.signal;
  readonly #running = new Set<Promise<void>>();
  /** Stops each claimed try whose task instance leaves `queued`/`running` without it. */
  readonly #tries = new Map<string, AbortController>();
  /** Aborted when a stopping worker stops waiting for the database to take held outcomes. */
  readonly #giveUp = new AbortController();
  /** Isolates for function tasks, while `run` runs (null: no isolation). */
  #isolates:
    | { pool: IsolatePool; databaseUrl: string; home: string; mode: "timeout" | "always" }
    | null = null;
  readonly outbox: Outbox;
  #wake: (() => void) | null = null;
  #pending = false;
  /** Runs seen lately (their conf, params and dates do not change). */
  readonly #runs = new Map<number, DagRun>();
  /**
   * Runs whose scheduler notification is due (sent together when the timer fires: see
   * `#notifyScheduler`), with the mapped tasks whose items ended ("any": something else ended too).
   */
  readonly #toNotify = new Map<number, Set<string> | "any">();
  #notifyTimer: { timer: ReturnType<typeof setTimeout>; delay: number } | undefined;

  constructor(readonly options: WorkerOptions, embedded = false) {
    if (options.store.db.kind !== "postgres" && !embedded) {
      throw new Error(
        "workers need a PostgreSQL server that every process shares: set DATABASE_URL " +
          "(PGlite is embedded in one process; use `deno task run` or `deno task serve --scheduler` with it)",
      );
    }
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
    this.artifacts = options.artifacts;
    this.hostname = options.hostname ?? Deno.hostname();
    this.workerId = `${this.hostname}:${Deno.pid}:${crypto.randomUUID().slice(0, 8)}`;
    this.queue = new TaskQueue(options.store.db);
    this.outbox = new Outbox(options.outboxDir ?? join(dataHome(), "outbox"));
  }

  emit(event: ExecutorEvent): void {
    this.options.onEvent?.(event);
  }

  #log(line: string): void {
    (this.options.log ?? ((l: string) => console.error(l)))(
      `${new Date().toISOString()} worker ${this.workerId}: ${line}`,
    );
  }

  /** Claims and runs tasks until `stop` aborts, then drains (see the module doc). */
  async run(stop: AbortSignal): Promise<void> {
    const concurrency = this.options.concurrency ?? 4;
    const maxActiveTasks = new Map(
      [...this.options.dags].map(([id, d]) => [id, d.options.maxActiveTasks ?? 16]),
    );
    const unlisten = await this.store.db.listen(CHANNEL_TASKS, () => this.#notify()).catch(() =>
      null
    );
    // Outcomes a worker on this machine held when it died: written before new work is claimed.
    const replay = () => this.outbox.replay(this.store, (l) => this.#log(l)).catch(() => 0);
    await replay();
    // As often as heartbeats: a survivor on this machine records a dead worker's outcomes well
    // before the scheduler (zombie timeout, default 30 s) reaps and retries their tries.
    const replayer = setInterval(replay, Math.min(this.options.heartbeatMs ?? 5000, 5000));
    const alive = new Heartbeat(this.store.db, "worker", this.workerId, this.hostname);
    void alive.beat(`started, concurrency ${concurrency}`);
    const beat = setInterval(() => {
      void alive.beat(`${this.#running.size} running of ${concurrency}`);
      if (this.#running.size === 0) return;
      // Tries claimed before the heartbeat whose instance it did not find queued or running: the
      // instance moved on without them (its run timed out, a clear): they are stopped.
      const mine = [...this.#tries];
      this.queue.heartbeat(this.workerId, new Date(this.clock.now())).then((alive) => {
        const live = new Set(alive.map((k) => tiId(k)));
        for (const [id, ended] of mine) {
          if (live.has(id) || this.#tries.get(id) !== ended) continue;
          this.#log(`stopping ${id}: its task instance is no longer queued or running here`);
          ended.abort(
            new Error("the task instance left running (its run timed out, or it was cleared)"),
          );
        }
      }).catch((e) => this.#log(`heartbeat failed: ${(e as Error).message}`));
    }, this.options.heartbeatMs ?? 5000);
    stop.addEventListener("abort", () => this.#notify(), { once: true });
    const isolation = this.options.isolation ?? isolationFromEnv();
    const databaseUrl = this.options.databaseUrl ?? Deno.env.get("DATABASE_URL");
    if (isolation !== "none" && databaseUrl && this.store.db.kind === "postgres") {
      this.#isolates = { pool: new IsolatePool(), databaseUrl, home: dataHome(), mode: isolation };
    }
    this.#log(
      `started: concurrency ${concurrency}, pools ${this.options.pools?.join(",") ?? "all"}, ` +
        `function tasks ${
          !this.#isolates
            ? "in this process"
            : this.#isolates.mode === "always"
            ? "isolated per try"
            : "with a timeout isolated per try"
        }`,
    );
    try {
      // Whether the last claim took every slot it asked for: more work may be waiting.
      let backlog = false;
      while (!stop.aborted) {
        // With work waiting, a worker with fewer than half its slots free lets its other tries
        // end for a moment (GATHER_MS) before it claims: one claim and one start statement for
        // several tries, not one each, which is what the server's CPU runs out on under a backlog
        // of short tasks. Without a backlog (the last claim found less than it asked) it claims
        // at once, so an idle worker's pickup stays a round trip.
        const freeNow = concurrency - this.#running.size;
        if (backlog && freeNow > 0 && freeNow < concurrency / 2) {
          await new Promise((r) => setTimeout(r, GATHER_MS));
        }
        const free = concurrency - this.#running.size;
        let claimed: Claimed[] = [];
        if (free > 0) {
          try {
            claimed = await this.queue.claim({
              workerId: this.workerId,
              hostname: this.hostname,
              limit: free,
              pools: this.options.pools ?? null,
              now: new Date(this.clock.now()),
              maxActiveTasks,
            });
          } catch (e) {
            this.#log(`claim failed (will retry): ${(e as Error).message}`);
          }
        }
        for (const c of claimed) this.#start(c);
        backlog = claimed.length > 0 && claimed.length === free;
        if (claimed.length === 0 || claimed.length === free) await this.#waitForWork();
      }
      this.#log(
        `stopping: ${this.#running.size} tr${this.#running.size === 1 ? "y" : "ies"} running`,
      );
      const grace = new Promise((r) => setTimeout(r, this.options.graceMs ?? 30_000));
      await Promise.race([Promise.allSettled([...this.#running]), grace]);
      if (this.#running.size > 0) {
        this.#abort.abort(new TryReleased());
        const grace2 = new Promise((r) => setTimeout(r, this.options.graceMs ?? 30_000));
        await Promise.race([Promise.allSettled([...this.#running]), grace2]);
      }
      if (this.#running.size > 0) {
        // Only outcomes the database would not take are left: say so, loudly, and stop.
        this.#log(
          `giving up: ${this.#running.size} tr${
            this.#running.size === 1 ? "y's" : "ies'"
          } outcome could not be written (the database is unreachable); ` +
            `they stay in the outbox (${this.outbox.dir}) for the next worker on this machine`,
        );
        this.#giveUp.abort();
        await Promise.allSettled([...this.#running]);
      }
    } finally {
      this.#isolates?.pool.close();
      this.#isolates = null;
      clearInterval(beat);
      clearInterval(replayer);
      await alive.stop();
      if (this.#notifyTimer !== undefined) {
        clearTimeout(this.#notifyTimer.timer);
        for (const id of this.#toNotify.keys()) {
          await this.queue.notify(CHANNEL_SCHEDULER, String(id)).catch(() => {});
        }
      }
      await unlisten?.().catch(() => {});
      this.outbox.close();
    }
  }

  #notify(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }

  #waitForWork(): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#wake = null;
        resolve();
      };
      const t = setTimeout(done, this.options.pollMs ?? 1000);
      this.#wake = done;
    });
  }

  #start(c: Claimed): void {
    const ended = new AbortController();
    this.#tries.set(tiId(c), ended);
    const progress: { stage: Stage } = { stage: { at: "claimed" } };
    const p: Promise<void> = this.#execute(c, ended.signal, progress)
      .catch(async (e) => {
        this.#log(
          `internal error on ${c.taskId}[${c.mapIndex}] of run ${c.runId}: ${(e as Error).stack}`,
        );
        // A claim (or a started try) this worker cannot run goes back at once, not after the
        // stale-claim (zombie) timeout; a started one without using up a retry. A try handed to
        // runTry has recorded its outcome or holds it.
        const s = progress.stage;
        if (s.at === "running") return;
        await this.#write(
          `the release of ${c.taskId}[${c.mapIndex}]`,
          () =>
            s.at === "claimed" ? this.queue.unclaim(c, this.workerId) : this.queue.unclaimStarted(
              c,
              s.tryNumber,
              this.workerId,
              new Date(this.clock.now()),
              `released: worker ${this.workerId} could not run it: ${(e as Error).message}`,
            ),
        ).catch(() => {});
      })
      .finally(() => {
        if (this.#tries.get(tiId(c)) === ended) this.#tries.delete(tiId(c));
        this.#running.delete(p);
        this.#notify();
      });
    this.#running.add(p);
  }

  /** A database call retried while the database is unreachable (see transient.ts). */
  #write<T>(what: string, op: () => Promise<T>): Promise<T> {
    return untilWritten(what, op, { log: (l) => this.#log(l), giveUp: this.#giveUp.signal });
  }

  async #execute(c: Claimed, ended: AbortSignal, progress: { stage: Stage }): Promise<void> {
    const dag = this.options.dags.get(c.dagId);
    const what = `the claim of ${c.taskId}[${c.mapIndex}] of run ${c.runId}`;
    let run = this.#runs.get(c.runId) ?? null;
    if (!run) {
      run = await this.#write(what, () => this.store.getRun(c.runId));
      if (run) this.#runs.set(c.runId, run);
      if (this.#runs.size > 1000) this.#runs.delete(this.#runs.keys().next().value!);
    }
    if (!dag || !run) {
      const why = dag ? `run ${c.runId} is gone` : `dag "${c.dagId}" is not loaded on this worker`;
      await this.#write(
        what,
        () => this.store.setTaskState(c, "failed", { error: why, at: new Date(this.clock.now()) }),
      );
      return;
    }
    const tracker = new RunTracker(this, dag, run);
    const at = { taskId: c.taskId, mapIndex: c.mapIndex };
    // The start is recorded (only while the claim holds) in the statement that reads what the try
    // needs: once it shows running, the try needs the database no more until its end.
    const { others, reads } = tracker.readsOf(at);
    const startedAt = this.clock.now();
    const got = await this.#write(
      what,
      () =>
        this.store.startTryAndRead(
          c,
          new Date(startedAt),
          this.hostname,
          this.workerId,
          others,
          reads,
        ),
    );
    if (!got) {
      this.#log(
        `${c.taskId}[${c.mapIndex}] of run ${c.runId} not started: the claim was taken back meanwhile`,
      );
      return;
    }
    progress.stage = { at: "started", tryNumber: got.tryNumber };
    await tracker.loaded(at, got);
    const task = tracker.decisions.task(c.taskId);
    if (!tracker.decisions.get(at) || !task) {
      throw new Error(`claimed ${c.taskId}[${c.mapIndex}] is not in run ${c.runId}`);
    }
    tracker.decisions.update(at, { busy: true });
    progress.stage = { at: "running" };
    await runTry(new TryEnv(tracker, this, AbortSignal.any([this.signal, ended])), task, at, {
      workerId: this.workerId,
      log: (l) => this.#log(l),
      giveUp: this.#giveUp.signal,
      isolate: this.#isolates ?? undefined,
      outbox: this.outbox,
      started: { tryNumber: got.tryNumber, at: startedAt },
    });
    this.#notifyScheduler(c.runId, c.mapIndex >= 0 ? c.taskId : null);
  }

  /**
   * Tells the scheduler a run changed. A task's end goes out at the next turn of the event loop
   * (ends of the same moment together): the next task of a chain waits for it, and the scheduler
   * folds notifications that come while it passes into one more pass. A mapped item's end changes
   * nothing the scheduler decides until the task's last item ends (its retries are claimed straight
   * from the queue), so for those the run is woken only when no item of that task is left
   * unfinished, checked every 20 ms at most — a pass reads the whole run, and a pass per item of a
   * 10,000-item task would keep it busy for nothing. (Its periodic sweep still sees every run.)
   */
  #notifyScheduler(runId: number, mappedTaskId: string | null): void {
    const tasks = this.#toNotify.get(runId);
    if (mappedTaskId === null) this.#toNotify.set(runId, "any");
    else if (tasks === undefined) this.#toNotify.set(runId, new Set([mappedTaskId]));
    else if (tasks !== "any") tasks.add(mappedTaskId);
    const delay = mappedTaskId === null ? 0 : 20;
    if (this.#notifyTimer !== undefined) {
      if (this.#notifyTimer.delay <= delay) return;
      clearTimeout(this.#notifyTimer.timer);
    }
    const timer = setTimeout(async () => {
      this.#notifyTimer = undefined;
      const due = [...this.#toNotify];
      this.#toNotify.clear();
      for (const [id, tasks] of due) {
        try {
          if (tasks === "any" || await this.queue.anyItemsFinished(id, [...tasks])) {
            await this.queue.notify(CHANNEL_SCHEDULER, String(id));
          }
        } catch (e) {
          this.#log(`notify failed: ${(e as Error).message}`);
        }
      }
    }, delay);
    this.#notifyTimer = { timer, delay };
  }

  /** A trigger task on a worker: the new run is left to the scheduler; with `wait`, polled to its end. */
  async trigger(
    dagId: string,
    conf: Record<string, unknown>,
    parent: { runId: number; taskId: string },
    wait: boolean,
  ): Promise<{ runId: number; state: RunState }> {
    const target = this.options.dags.get(dagId);
    if (!target) throw new Error(`cannot trigger dag "${dagId}": no such DAG is loaded`);
    const { id: runId } = await createTriggeredRun(this.store, target, {
      conf,
      parent,
      now: this.clock.now(),
      executor: "distributed",
    });
    await this.queue.notify(CHANNEL_SCHEDULER, String(runId));
    if (!wait) return { runId, state: "queued" };
    for (;;) {
      const run = await this.store.getRun(runId);
      if (run?.state === "success" || run?.state === "failed") return { runId, state: run.state };
      await this.clock.sleep(500, this.signal);
    }
  }
}

/** How long a busy worker with work waiting lets its tries end before it claims (see `run`). */
const GATHER_MS = 2;

/** How far a claimed task instance got: claimed, its try started, or handed to runTry. */
type Stage = { at: "claimed" } | { at: "started"; tryNumber: number } | { at: "running" };

/** A task instance's key as one string. */
function tiId(k: TiKey): string {
  return `${k.taskId}[${k.mapIndex}] of run ${k.runId}`;
}
