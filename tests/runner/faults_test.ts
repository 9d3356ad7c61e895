// The engine under faults, with real processes: PostgreSQL down while a try ends (on a server the
// test starts itself, never the shared one), a retry's claim and the stale-claim sweep, runners
// killed with kill -9 while their commands run, and functions that ignore their timeout.
import assert from "node:assert/strict";
import { loadDags } from "../../runner/loader.ts";
import { createDagRun } from "../../runner/runs.ts";
import { TaskQueue } from "../../runner/store/queue.ts";
import { Store } from "../../runner/store/store.ts";
import { openPostgres } from "../../runner/store/postgres.ts";
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
import { BACKENDS } from "./helpers.ts";

const DIR = "tests/fixtures/dags_faults";
const { dags } = await loadDags(DIR);
const opts = { sanitizeResources: false, sanitizeOps: false };

/**
 * These tests take their own PostgreSQL server down on purpose. The test's own observer connection
 * (postgres.js, LISTEN included) then reports its failed reconnects as uncaught errors; those, and
 * only those (connection refused/reset on the loopback), are expected here — what the test checks is
 * the worker processes' behaviour, read back once the server is up.
 */
function ignoreObserverOutage(e: ErrorEvent | PromiseRejectionEvent) {
  const err = ("reason" in e ? e.reason : e.error ?? e.message) as
    | { code?: string; message?: string }
    | string
    | undefined;
  // by code and, where a wrapper dropped the code, by the text it kept (seen once under load)
  const text = typeof err === "string" ? err : `${err?.code ?? ""} ${err?.message ?? ""}`;
  if (/\b(ECONNREFUSED|ECONNRESET)\b/.test(text)) e.preventDefault();
}
globalThis.addEventListener("unhandledrejection", ignoreObserverOutage);
globalThis.addEventListener("error", ignoreObserverOutage);

const startRun = (store: Store, dagId: string, params: Record<string, unknown> = {}) =>
  startDistributedRun(store, dags.get(dagId)!, params);

async function lines(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path).catch(() => "")).split("\n").filter((l) => l !== "");
}

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
const alive = (pid: number) => {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
};

/**
 * Waits for the `work` task to run, then takes PostgreSQL down and lets the command finish. The
 * test's own store is closed first: its observer holds no connection through the outage (a pooled
 * connection that died with the server would fail the test's first read afterwards, not the
 * processes under test); a new one reads the result once the server is back.
 */
async function releaseDuringOutage(
  c: Awaited<ReturnType<typeof cluster>>,
  pg: Awaited<ReturnType<typeof startPostgres>>,
  runId: number,
  dir: string,
): Promise<void> {
  await eventually("work to be running", async () => {
    const ti = (await c.store.taskInstances(runId)).find((t) => t.taskId === "work");
    return ti?.state === "running" ? true : undefined;
  });
  await c.store.close();
  await pg.down("fast");
  await Deno.writeTextFile(`${dir}/go`, "");
}

Deno.test({
  name: "faults: a try that ends while PostgreSQL is down is recorded once it is back (retries 0)",
  ...opts,
  async fn() {
    const pg = await startPostgres();
    const c = await cluster(DIR, pg.url);
    const dir = await Deno.makeTempDir({ prefix: "driftflow-outage-" });
    const procs = [c.spawn("scheduler", FAST_SCHEDULER), c.spawn("w1", FAST_WORKER)];
    let observer: Store | null = null;
    try {
      const run = await startRun(c.store, "outage", { dir });
      await releaseDuringOutage(c, pg, run.id, dir);
      await eventually(
        "the command to finish",
        async () => await exists(`${dir}/done`) || undefined,
      );
      // Longer than the zombie timeout (2 s): the worker must hold the outcome, not forget it.
      await new Promise((r) => setTimeout(r, 3000));
      await pg.up();
      observer = new Store(await openPostgres(c.url, 2));
      const done = await finished(observer, run.id);
      assert.equal(done.state, "success", await dump(procs));
      const tries = await observer.tries(run.id, "work");
      assert.deepEqual(
        tries.map((t) => [t.tryNumber, t.state]),
        [[1, "success"]],
        await dump(procs),
      );
      const ran = (await Deno.readTextFile(`${dir}/work.log`)).trim().split("\n");
      assert.equal(ran.length, 1, "the command ran once");
      // What it held first depends on timing: its last log lines (written before the outcome) or the
      // success itself; either way it held, and recorded the one success once the server was back.
      assert.match(await procs[1].output(), /holding (the success|\d+ log lines) of work\[-1\]/);
    } finally {
      await observer?.close();
      await c.close();
      await pg.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "faults: a worker killed while it holds an outcome (database down) leaves it in the outbox",
  ...opts,
  async fn() {
    const pg = await startPostgres();
    const c = await cluster(DIR, pg.url);
    const dir = await Deno.makeTempDir({ prefix: "driftflow-outbox-" });
    const scheduler = ["scheduler", "--tick-ms", "100", "--zombie-after-s", "10"];
    const procs = [c.spawn("scheduler", scheduler), c.spawn("w1", FAST_WORKER)];
    let observer: Store | null = null;
    try {
      const run = await startRun(c.store, "outage", { dir });
      await releaseDuringOutage(c, pg, run.id, dir);
      await eventually(
        "w1 to hold the outcome",
        async () => /holding the success of work/.test(await procs[1].output()) || undefined,
      );
      await procs[1].kill("SIGKILL");
      await pg.up();
      observer = new Store(await openPostgres(c.url, 2));
      procs.push(c.spawn("w2", FAST_WORKER));
      const done = await finished(observer, run.id);
      assert.equal(done.state, "success", await dump(procs));
      const tries = await observer.tries(run.id, "work");
      assert.deepEqual(
        tries.map((t) => [t.tryNumber, t.state]),
        [[1, "success"]],
        await dump(procs),
      );
      assert.equal((await lines(`${dir}/work.log`)).length, 1, "the command ran once");
      assert.match(await procs[2].output(), /outbox: recorded the success of work\[-1\]/);
    } finally {
      await observer?.close();
      await c.close();
      await pg.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "faults: a worker killed as its command succeeds: the next worker records the success",
  ...opts,
  async fn() {
    const c = await cluster(DIR);
    const dir = await Deno.makeTempDir({ prefix: "driftflow-killer-" });
    const scheduler = ["scheduler", "--tick-ms", "100", "--zombie-after-s", "10"];
    const procs = [c.spawn("scheduler", scheduler), c.spawn("w1", FAST_WORKER)];
    try {
      const run = await startRun(c.store, "runner_killer", { dir });
      await procs[1].child.status;
      procs.push(c.spawn("w2", FAST_WORKER));
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "success", await dump(procs));
      const tries = await c.store.tries(run.id, "work");
      assert.deepEqual(
        tries.map((t) => [t.tryNumber, t.state]),
        [[1, "success"]],
        await dump(procs),
      );
      assert.deepEqual(await lines(`${dir}/work.log`), ["run 1"], "the command ran once");
      const [x] = await c.store.xcoms(run.id);
      assert.equal((x.value as { exitCode: number }).exitCode, 0);
      assert.match(await procs[2].output(), /outbox: recorded the success of work\[-1\]/);
    } finally {
      await c.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "faults: a claimed retry is not put back by the stale-claim sweep (its heartbeat is reset)",
  ...opts,
  async fn() {
    const { store, close } = await BACKENDS.find((b) => b.name === "postgres")!.open();
    try {
      const run = await createDagRun(store, dags.get("orphan")!, {
        params: { dir: "/nonexistent" },
        executor: "distributed",
      });
      await store.setRunState(run.id, "running", new Date());
      const key = { runId: run.id, taskId: "long", mapIndex: -1 };
      const queue = new TaskQueue(store.db);
      const t0 = new Date(Date.now() - 60_000);
      // Try 1 ran a minute ago on w0 and failed; its retry is due now.
      await store.setTaskState(key, "scheduled");
      assert.equal(
        (await queue.claim({ workerId: "w0", hostname: "h", limit: 1, pools: null, now: t0 }))
          .length,
        1,
      );
      assert.ok(await store.startTry(key, 1, t0, "h", "w0"));
      await store.finishTry(key, 1, {
        state: "up_for_retry",
        at: t0,
        durationMs: 1,
        error: "exit 1",
        nextRetryAt: t0,
      });
      const now = new Date();
      const claimed = await queue.claim({
        workerId: "w1",
        hostname: "h",
        limit: 1,
        pools: null,
        now,
      });
      assert.equal(claimed.length, 1);
      // The scheduler's sweep with a 30 s timeout: the claim is fresh and must stay.
      assert.equal(await queue.requeueStale(new Date(now.getTime() - 30_000)), 0);
      const again = await queue.claim({
        workerId: "w2",
        hostname: "h",
        limit: 1,
        pools: null,
        now,
      });
      assert.equal(again.length, 0, "a second worker claimed the same retry");
      assert.ok(await store.startTry(key, 2, now, "h", "w1"));
      // A worker whose claim was taken back may not start the try.
      assert.equal(await store.startTry(key, 2, now, "h", "w2"), false);
    } finally {
      await close();
    }
  },
});

Deno.test({
  name: "faults: kill -9 of a worker ends its command; the retry never overlaps it",
  ...opts,
  async fn() {
    const c = await cluster(DIR);
    const dir = await Deno.makeTempDir({ prefix: "driftflow-orphan-" });
    const procs = [c.spawn("scheduler", FAST_SCHEDULER), c.spawn("w1", FAST_WORKER)];
    try {
      const run = await startRun(c.store, "orphan", { dir, sleepS: 8 });
      const [first] = await eventually(
        "the command to start",
        async () =>
          (await lines(`${dir}/started`)).length ? await lines(`${dir}/started`) : undefined,
      );
      const pid = Number(first.split(" ")[0]);
      assert.ok(alive(pid));
      await procs[1].kill("SIGKILL");
      await eventually(
        "the command to end with its worker",
        () => Promise.resolve(alive(pid) ? undefined : true),
        5000,
      );
      procs.push(c.spawn("w2", FAST_WORKER));
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "success", await dump(procs));
      assert.deepEqual(
        (await lines(`${dir}/ended`)).map((l) => l.split(" ")[1]),
        ["2"],
        "only try 2 ended: try 1 was ended with its worker",
      );
      const tries = await c.store.tries(run.id, "long");
      assert.deepEqual(tries.map((t) => [t.tryNumber, t.state]), [[1, "up_for_retry"], [
        2,
        "success",
      ]]);
    } finally {
      await c.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "faults: kill -9 of `deno task run` leaves no command running; --resume finishes the run",
  ...opts,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "driftflow-home-" });
    const dir = await Deno.makeTempDir({ prefix: "driftflow-orphan-" });
    const env = { DRIFTFLOW_HOME: home, DRIFTFLOW_DAGS: DIR, NO_COLOR: "1" };
    const args = ["task", "run", "orphan", "--param", `dir=${dir}`, "--param", "sleepS=6"];
    const task = new Deno.Command(Deno.execPath(), {
      args,
      env,
      stdout: "null",
      stderr: "null",
    }).spawn();
    let inner = 0;
    try {
      const [first] = await eventually(
        "the command to start",
        async () =>
          (await lines(`${dir}/started`)).length ? await lines(`${dir}/started`) : undefined,
      );
      const pid = Number(first.split(" ")[0]);
      // The driftflow process that `deno task` started (it outlives a kill -9 of deno task).
      const children = await Deno.readTextFile(`/proc/${task.pid}/task/${task.pid}/children`);
      inner = Number(children.trim().split(" ")[0]);
      assert.ok(inner > 0 && alive(pid));
      task.kill("SIGKILL");
      await task.status;
      await eventually(
        "the run's process to stop",
        () => Promise.resolve(alive(inner) ? undefined : true),
        5000,
      );
      await eventually(
        "its command to end",
        () => Promise.resolve(alive(pid) ? undefined : true),
        5000,
      );
      const resume = await new Deno.Command(Deno.execPath(), {
        args: ["task", "run", "--resume", "1"],
        env,
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const out = new TextDecoder().decode(resume.stderr);
      assert.equal(resume.code, 0, out);
      assert.deepEqual((await lines(`${dir}/ended`)).map((l) => l.split(" ")[1]), ["2"], out);
    } finally {
      try {
        task.kill("SIGKILL");
      } catch { /* ended */ }
      await task.status;
      if (inner && alive(inner)) Deno.kill(inner, "SIGKILL");
      await Deno.remove(home, { recursive: true }).catch(() => {});
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "faults: a timed-out function that ignores its signal is stopped (isolated per try)",
  ...opts,
  async fn() {
    const c = await cluster(DIR);
    const dir = await Deno.makeTempDir({ prefix: "driftflow-stubborn-" });
    const procs = [c.spawn("scheduler", FAST_SCHEDULER), c.spawn("w1", FAST_WORKER)];
    try {
      const run = await startRun(c.store, "stubborn", { dir });
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "failed", await dump(procs));
      const [ti] = await c.store.taskInstances(run.id);
      assert.match(ti.error ?? "", /timed out after 300ms/);
      // The body would write its file 1.5 s after it started; give it well past that.
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(await exists(`${dir}/late`), false, "the timed-out body went on running");
      assert.match(await procs[1].output(), /function tasks with a timeout isolated per try/);
    } finally {
      await c.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "faults: isolated function tasks read upstream XComs, log, and use ctx.db",
  ...opts,
  async fn() {
    const c = await cluster(DIR);
    const procs = [
      c.spawn("scheduler", FAST_SCHEDULER),
      c.spawn("w1", FAST_WORKER, { DRIFTFLOW_ISOLATION: "always" }),
    ];
    try {
      const run = await startRun(c.store, "isolated");
      const done = await finished(c.store, run.id);
      assert.equal(done.state, "success", await dump(procs));
      const xcoms = new Map((await c.store.xcoms(run.id)).map((x) => [x.taskId, x.value]));
      assert.deepEqual(xcoms.get("sum"), { total: 6, runs: 1 });
      assert.deepEqual(xcoms.get("pick"), ["yes"]);
      assert.deepEqual((await c.store.logs(run.id, "sum")).map((l) => l.line), ["adding 1,2,3"]);
      const tries = await c.store.tries(run.id);
      assert.ok(tries.every((t) => t.state === "success" || t.state === "skipped"));
      assert.match(await procs[1].output(), /function tasks isolated per try/);
    } finally {
      await c.close();
    }
  },
});
