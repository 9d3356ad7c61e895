/**
 * The distributed part of the engine benchmark: 5,000 no-op tasks over 1, 2 and 4 worker processes
 * on the PostgreSQL server, with a scheduler process; tasks/s, and on a chain of 30 sequential
 * tasks the latency from ready (scheduled) to started (p50, p99) and the time per task (the
 * scheduler's turn between one task's end and the next one's start included). Beside it, the bare claim-and-complete SQL loop — the same
 * statements, no engine — as PostgreSQL's own limit on this machine.
 */
import { loadDags } from "../../runner/loader.ts";
import { createDagRun } from "../../runner/runs.ts";
import { CHANNEL_SCHEDULER, TaskQueue } from "../../runner/store/queue.ts";
import { openPostgres } from "../../runner/store/postgres.ts";
import { Store } from "../../runner/store/store.ts";
import { cluster, eventually } from "../runner/processes.ts";
import { progress } from "./report.ts";
import { cpuNow, cpuSince, transactionsNow } from "./server_cost.ts";

const DAGS = "tests/fixtures/dags_bench";

export interface DistributedResult {
  workers: number;
  seconds: number;
  tasksPerS: number;
  /** Ready to started in the burst of 5,000: mostly waiting in the queue. */
  burstP50: number;
  /** Ready to started in a chain: the pickup latency of an idle worker. */
  p50: number;
  p99: number;
  /** The pickup's parts in the chain (p50): ready to claimed, claimed to started. */
  wakeP50: number;
  claimP50: number;
  /** A chain's time per task: from the first task scheduled to the last one ended, ÷ its tasks. */
  chainMsPerTask: number;
  /** What the burst cost per try: see {@link Cost}. */
  cost: Cost;
}

/**
 * What a stretch cost per try: transactions committed in the database (each autocommit statement is
 * one; the bench's own polling and, for workers, the chain and their idle polling until they stop
 * included), and CPU ms of the server's backends plus the processes under test (workers and
 * scheduler, or the loop's process) over the burst.
 */
export interface Cost {
  transactionsPerTry: number;
  cpuMsPerTry: number;
}

/**
 * Ready to started (p50, p99) of a run's instances, and the p50 of its two parts: ready to claimed
 * (`queued_at`: the worker's wake-up) and claimed to started (the claim's round trip and the try's
 * set-up). All three are read from the rows' own times.
 */
async function latencies(
  store: Store,
  runId: number,
  mappedOnly: boolean,
): Promise<{ p50: number; p99: number; wakeP50: number; claimP50: number }> {
  const [r] = await store.db.query<Record<string, number>>(
    `select percentile_cont(0.5) within group (order by ms) as p50,
       percentile_cont(0.99) within group (order by ms) as p99,
       percentile_cont(0.5) within group (order by wake) as wake,
       percentile_cont(0.5) within group (order by claim) as claim
     from (select extract(epoch from (start_date - scheduled_at)) * 1000 as ms,
             extract(epoch from (queued_at - scheduled_at)) * 1000 as wake,
             extract(epoch from (start_date - queued_at)) * 1000 as claim
           from task_instances where run_id = $1 and (map_index >= 0 or not $2)) t`,
    [runId, mappedOnly],
  );
  return {
    p50: Number(r.p50),
    p99: Number(r.p99),
    wakeP50: Number(r.wake),
    claimP50: Number(r.claim),
  };
}

/** One measurement with `workers` worker processes. */
export async function measureWorkers(workers: number, tasks: number): Promise<DistributedResult> {
  const c = await cluster(DAGS);
  const env = { BENCH_TASKS: String(tasks) };
  try {
    const scheduler = c.spawn("scheduler", ["scheduler", "--tick-ms", "200"], env);
    const procs = Array.from(
      { length: workers },
      (_, i) =>
        c.spawn(`worker-${i}`, [
          "worker",
          "--concurrency",
          "16",
          "--poll-ms",
          "200",
          "--heartbeat-ms",
          "2000",
        ], env),
    );
    for (const p of procs) {
      await eventually(
        `${p.name} to start`,
        async () => ((await p.output()).includes("started") ? true : undefined),
      );
    }
    Deno.env.set("BENCH_TASKS", String(tasks));
    const { dags } = await loadDags(DAGS);
    const pids = [scheduler, ...procs].map((p) => p.child.pid);
    const transactions0 = await transactionsNow(c.store);
    const cpu0 = await cpuNow(c.store, pids);
    const t0 = performance.now();
    const run = await createDagRun(c.store, dags.get("bench_many")!, { executor: "distributed" });
    await new TaskQueue(c.store.db).notify(CHANNEL_SCHEDULER, String(run.id));
    await eventually("the burst to finish", async () => {
      const [{ n }] = await c.store.db.query<{ n: number }>(
        "select count(*)::int as n from task_instances where run_id = $1 and state = 'success' and map_index >= 0",
        [run.id],
      );
      progress(`${workers} worker(s): tasks`, n, tasks);
      const r = await c.store.getRun(run.id);
      return r?.state === "success"
        ? true
        : r?.state === "failed"
        ? Promise.reject(new Error("the run failed"))
        : undefined;
    }, 600_000);
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = cpuSince(cpu0, await cpuNow(c.store, pids));
    const burst = await latencies(c.store, run.id, true);
    const chain = await createDagRun(c.store, dags.get("bench_chain")!, {
      executor: "distributed",
    });
    await new TaskQueue(c.store.db).notify(CHANNEL_SCHEDULER, String(chain.id));
    await eventually(
      "the chain to finish",
      async () => ((await c.store.getRun(chain.id))?.state === "success" ? true : undefined),
    );
    const [span] = await c.store.db.query<{ ms: number }>(
      `select extract(epoch from max(end_date) - min(scheduled_at)) * 1000 / count(*) as ms
       from task_instances where run_id = $1`,
      [chain.id],
    );
    // the processes' backends exit with them, and their statistics show
    for (const p of [scheduler, ...procs]) await p.kill();
    const transactions = await transactionsNow(c.store) - transactions0;
    const chainTasks = dags.get("bench_chain")!.tasks.length;
    return {
      workers,
      seconds,
      tasksPerS: tasks / seconds,
      burstP50: burst.p50,
      ...await latencies(c.store, chain.id, false),
      chainMsPerTask: Number(span.ms),
      cost: { transactionsPerTry: transactions / (tasks + chainTasks), cpuMsPerTry: cpuMs / tasks },
    };
  } finally {
    await c.close();
  }
}

/** A running run of `bench_many` whose `tasks` items are all ready (expanded at once, as the scheduler does). */
async function readyItems(store: Store, tasks: number): Promise<void> {
  Deno.env.set("BENCH_TASKS", String(tasks));
  const { dags } = await loadDags(DAGS);
  const run = await createDagRun(store, dags.get("bench_many")!, { executor: "distributed" });
  await store.setRunState(run.id, "running", new Date());
  await store.expandMapped(
    { runId: run.id, taskId: "noop", mapIndex: -1 },
    Array.from({ length: tasks }, (_, i) => i),
  );
}

/**
 * One claim alone: `claims` claims of 5 in turn on one connection among `ready` instances expanded
 * at once (each claimed try then started and ended, as a worker would); the median round trip.
 */
export async function measureClaim(ready = 5000, claims = 100): Promise<number> {
  const c = await cluster(DAGS);
  try {
    const store = new Store(await openPostgres(c.url, 2));
    await readyItems(store, ready);
    const queue = new TaskQueue(store.db);
    const ms: number[] = [];
    for (let i = 0; i < claims; i++) {
      const t0 = performance.now();
      const claimed = await queue.claim({
        workerId: "alone",
        hostname: "bench",
        limit: 5,
        pools: null,
        now: new Date(),
        maxActiveTasks: new Map([["bench_many", 10_000]]),
      });
      ms.push(performance.now() - t0);
      await Promise.all(claimed.map(async (t) => {
        const got = await store.startTryAndRead(t, new Date(), "bench", "alone", [], []);
        if (!got) throw new Error(`the claim of ${t.taskId}[${t.mapIndex}] was lost`);
        await store.finishTry(t, got.tryNumber, {
          state: "success",
          at: new Date(),
          durationMs: 0,
        });
      }));
      progress("claims alone", i + 1, claims);
    }
    await store.close();
    return ms.sort((a, b) => a - b)[Math.floor(claims / 2)];
  } finally {
    await c.close();
  }
}

/** The bare loop: `loops` connections claim and complete `tasks` rows with the engine's statements. */
export async function measureSqlLoop(
  tasks: number,
  loops = 4,
): Promise<{ tasksPerS: number; cost: Cost }> {
  const c = await cluster(DAGS);
  try {
    const store = new Store(await openPostgres(c.url, loops * 2));
    await readyItems(store, tasks);
    const queue = new TaskQueue(store.db);
    const transactions0 = await transactionsNow(c.store);
    const cpu0 = await cpuNow(c.store, [Deno.pid]);
    const t0 = performance.now();
    let done = 0;
    await Promise.all(Array.from({ length: loops }, async (_, i) => {
      for (;;) {
        // The worker's statements: the claim, each try's start (with its reads), its end.
        const claimed = await queue.claim({
          workerId: `loop-${i}`,
          hostname: "bench",
          limit: 16,
          pools: null,
          now: new Date(),
          maxActiveTasks: new Map([["bench_many", 10_000]]),
        });
        if (claimed.length === 0) return;
        await Promise.all(claimed.map(async (t) => {
          const got = await store.startTryAndRead(t, new Date(), "bench", `loop-${i}`, [], []);
          if (!got) throw new Error(`the claim of ${t.taskId}[${t.mapIndex}] was lost`);
          await store.finishTry(t, got.tryNumber, {
            state: "success",
            at: new Date(),
            durationMs: 0,
          });
          progress("sql loop: tasks", ++done, tasks);
        }));
      }
    }));
    const tasksPerS = tasks / ((performance.now() - t0) / 1000);
    const cpuMs = cpuSince(cpu0, await cpuNow(c.store, [Deno.pid]));
    await store.close();
    const transactions = await transactionsNow(c.store) - transactions0;
    return {
      tasksPerS,
      cost: { transactionsPerTry: transactions / tasks, cpuMsPerTry: cpuMs / tasks },
    };
  } finally {
    await c.close();
  }
}
