// Fault tests with real processes on real PostgreSQL: workers killed, the server restarted,
// schedulers killed and doubled.
import assert from "node:assert/strict";
import { loadDags } from "../../runner/loader.ts";
import type { Store } from "../../runner/store/store.ts";
import { startPostgres } from "../pg_server.ts";
import {
  cluster,
  dump,
  eventually,
  FAST_SCHEDULER,
  FAST_WORKER,
  finished,
  startRun as startDistributedRun,
} from "./processes.ts";

const { dags } = await loadDags("tests/fixtures/dags_dist");
const opts = { sanitizeResources: false, sanitizeOps: false };

const startRun = (store: Store, dagId: string, params: Record<string, unknown> = {}) =>
  startDistributedRun(store, dags.get(dagId)!, params);

/** Every task instance has at most one successful try. */
async function assertSingleSuccess(store: Store, runId: number) {
  const tries = await store.tries(runId);
  const counts = new Map<string, number>();
  for (const t of tries) {
    if (t.state === "success") {
      counts.set(`${t.taskId}[${t.mapIndex}]`, (counts.get(`${t.taskId}[${t.mapIndex}]`) ?? 0) + 1);
    }
  }
  for (const [k, n] of counts) assert.equal(n, 1, `${k} has ${n} successful tries`);
}

Deno.test({
  name: "distributed: kill -9 a worker mid-task; the task finishes on the other worker as try 2",
  ...opts,
  async fn() {
    const c = await cluster();
    const procs = [
      c.spawn("scheduler", FAST_SCHEDULER),
      c.spawn("w1", FAST_WORKER),
      c.spawn("w2", FAST_WORKER),
    ];
    try {
      const run = await startRun(c.store, "long", { sleepMs: 6000 });
      const running = await eventually("slow to be running", async () => {
        const ti = (await c.store.taskInstances(run.id)).find((t) => t.taskId === "slow");
        return ti?.state === "running" ? ti : undefined;
      });
      const rows = await c.store.db.query<{ worker_id: string }>(
        "select worker_id from task_instances where run_id = $1 and task_id = 'slow'",
        [run.id],
      );
      const pid = Number(rows[0].worker_id.split(":")[1]);
      const victim = procs.find((p) => p.child.pid === pid);
      assert.ok(victim, `the worker ${rows[0].worker_id} is one of ours`);
      assert.equal(running.tryNumber, 1);
      await victim.kill("SIGKILL");
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "success", await dump(procs));
      const tries = await c.store.tries(run.id, "slow");
      assert.deepEqual(tries.map((t) => [t.tryNumber, t.state]), [[1, "up_for_retry"], [
        2,
        "success",
      ]]);
      assert.match(tries[0].error!, /zombie: no heartbeat from worker/);
      const xcom = (await c.store.xcoms(run.id)).find((x) => x.taskId === "slow")!.value as {
        pid: number;
      };
      assert.notEqual(xcom.pid, pid, "try 2 ran on the surviving worker");
      await assertSingleSuccess(c.store, run.id);
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "distributed: restarting PostgreSQL during a run; workers and scheduler reconnect and it finishes",
  ...opts,
  async fn() {
    // A server of the test's own: restarting the machine's shared one would break other tests.
    const pg = await startPostgres();
    const c = await cluster(undefined, pg.url);
    const procs = [c.spawn("scheduler", FAST_SCHEDULER), c.spawn("w1", FAST_WORKER)];
    try {
      const run = await startRun(c.store, "chain");
      await eventually("s2 to start", async () => {
        const ti = (await c.store.taskInstances(run.id)).find((t) => t.taskId === "s2");
        return ti?.state === "running" || ti?.state === "success" ? true : undefined;
      });
      await pg.restart({ downMs: 300 });
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "success", await dump(procs));
      await assertSingleSuccess(c.store, run.id);
    } finally {
      await c.close();
      await pg.stop();
    }
  },
});

async function tickerDates(store: Store): Promise<number[]> {
  const runs = await store.listRuns("ticker", { limit: 10_000 });
  return runs.map((r) => r.logicalDate.getTime()).sort((a, b) => a - b);
}

function gaps(dates: number[]): number[] {
  return dates.slice(1).map((d, i) => d - dates[i]).filter((g) => g !== 1000);
}

const TICK = 1000;

/** The ticks of the every-second schedule from `from` to `to`, both included. */
const ticksBetween = (from: number, to: number) =>
  Array.from({ length: (to - from) / TICK + 1 }, (_, i) => from + i * TICK);

Deno.test({
  name: "distributed: a killed scheduler restarts without duplicates; missed ticks follow catchup",
  ...opts,
  async fn() {
    for (const catchup of [true, false]) {
      const c = await cluster();
      const env = { TICKER_CATCHUP: catchup ? "1" : "0", TICKER_START: new Date().toISOString() };
      try {
        const s1 = c.spawn("scheduler-1", FAST_SCHEDULER, env);
        await eventually(
          "first runs",
          async () => (await tickerDates(c.store)).length >= 2 ? true : undefined,
        );
        await s1.kill("SIGKILL");
        // The expectations below are computed from the last logical date the killed scheduler
        // recorded: the intervals starting at before + 1 s and before + 2 s end while no scheduler
        // runs (the restart waits until the one starting at before + 3 s has ended too), however
        // long anything takes.
        const before = (await tickerDates(c.store)).at(-1)!;
        const missed = [before + TICK, before + 2 * TICK];
        await eventually(
          "the interval starting 3 ticks after the last run to end",
          () => Promise.resolve(Date.now() >= before + 4 * TICK ? true : undefined),
        );
        const s2 = c.spawn("scheduler-2", FAST_SCHEDULER, env);
        await eventually(
          "runs after the restart",
          async () => ((await tickerDates(c.store)).at(-1)! >= before + 6 * TICK
            ? true
            : undefined),
        );
        await s2.kill("SIGTERM");
        const dates = await tickerDates(c.store);
        assert.equal(new Set(dates).size, dates.length, "no duplicate logical dates");
        const after = dates.filter((d) => d > before);
        if (catchup) {
          assert.deepEqual(
            dates,
            ticksBetween(dates[0], dates.at(-1)!),
            `catchup fills the missed ticks:\n${await dump([s1, s2])}`,
          );
          assert.deepEqual(after.slice(0, 2), missed, "the ticks missed while down are there");
        } else {
          assert.deepEqual(
            dates.filter((d) => missed.includes(d)),
            [],
            `without catchup the missed ticks stay missed: ${dates.map((d) => d - before)}`,
          );
          assert.ok(after[0] >= before + 3 * TICK, `${after[0] - before} ms after the last run`);
        }
      } finally {
        await c.close();
      }
    }
  },
});

Deno.test({
  name: "distributed: two schedulers at once make exactly one run per tick; the standby takes over",
  ...opts,
  async fn() {
    const c = await cluster();
    const env = { TICKER_CATCHUP: "1", TICKER_START: new Date().toISOString() };
    try {
      const a = c.spawn("scheduler-a", FAST_SCHEDULER, env);
      const b = c.spawn("scheduler-b", FAST_SCHEDULER, env);
      await eventually(
        "several ticks",
        async () => (await tickerDates(c.store)).length >= 4 ? true : undefined,
      );
      const logs = [await a.output(), await b.output()];
      const leaders = logs.filter((l) => l.includes("scheduler: leading"));
      assert.equal(leaders.length, 1, `exactly one leads:\n${logs.join("\n")}`);
      const leader = logs[0].includes("scheduler: leading") ? a : b;
      await leader.kill("SIGKILL");
      const last = (await tickerDates(c.store)).at(-1)!;
      await eventually(
        "the standby to take over",
        async () => ((await tickerDates(c.store)).at(-1)! > last + 2000 ? true : undefined),
      );
      const dates = await tickerDates(c.store);
      assert.equal(new Set(dates).size, dates.length);
      assert.deepEqual(gaps(dates), [], "one run per tick, none missed (catchup)");
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name: "distributed: a pool's slots hold across workers",
  ...opts,
  async fn() {
    const c = await cluster();
    await c.store.setPool("one", 1);
    const procs = [
      c.spawn("scheduler", FAST_SCHEDULER),
      c.spawn("w1", FAST_WORKER),
      c.spawn("w2", FAST_WORKER),
    ];
    try {
      const run = await startRun(c.store, "pooled");
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "success", await dump(procs));
      const tries = (await c.store.tries(run.id)).filter((t) => t.mapIndex >= 0)
        .sort((a, b) => a.startDate.getTime() - b.startDate.getTime());
      assert.equal(tries.length, 6);
      for (let i = 1; i < tries.length; i++) {
        assert.ok(
          tries[i].startDate >= tries[i - 1].endDate!,
          `try ${i} started before try ${i - 1} ended`,
        );
      }
    } finally {
      await c.close();
    }
  },
});

Deno.test({
  name:
    "distributed: SIGTERM lets a worker finish within its grace, then releases the try to another",
  ...opts,
  async fn() {
    const c = await cluster();
    const graceful = [...FAST_WORKER, "--grace-s", "1"];
    const procs = [
      c.spawn("scheduler", FAST_SCHEDULER),
      c.spawn("w1", graceful),
      c.spawn("w2", graceful),
    ];
    try {
      const run = await startRun(c.store, "long", { sleepMs: 4000 });
      await eventually("slow to be running", async () => {
        const ti = (await c.store.taskInstances(run.id)).find((t) => t.taskId === "slow");
        return ti?.state === "running" ? ti : undefined;
      });
      const [{ worker_id }] = await c.store.db.query<{ worker_id: string }>(
        "select worker_id from task_instances where run_id = $1 and task_id = 'slow'",
        [run.id],
      );
      const victim = procs.find((p) => p.child.pid === Number(worker_id.split(":")[1]))!;
      await victim.kill("SIGTERM");
      // The slow try, and perhaps a tick of the ticker DAG that the same worker holds.
      assert.match(await victim.output(), /stopping: [12] tr(y|ies) running/);
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "success", await dump(procs));
      const tries = await c.store.tries(run.id, "slow");
      assert.deepEqual(tries.map((t) => [t.tryNumber, t.state]), [[1, "up_for_retry"], [
        2,
        "success",
      ]]);
      assert.match(tries[0].error!, /released to another worker/);
      const ti = (await c.store.taskInstances(run.id)).find((t) => t.taskId === "slow")!;
      assert.equal(ti.maxTries, 3, "the released try did not use up one of the 2 retries");
    } finally {
      await c.close();
    }
  },
});
