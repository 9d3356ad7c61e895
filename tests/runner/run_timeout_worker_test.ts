// A run that times out while a worker runs one of its tries (distributed mode, real processes): the
// try's late success is not recorded over the skip, and its outlets announce no update.
import assert from "node:assert/strict";
import { assetEvents } from "../../runner/assets.ts";
import { loadDags } from "../../runner/loader.ts";
import { createDagRun } from "../../runner/runs.ts";
import { CHANNEL_SCHEDULER, TaskQueue } from "../../runner/store/queue.ts";
import { cluster, eventually, type Proc } from "./processes.ts";

const DIR = "tests/fixtures/dags_run_timeout";
const { dags } = await loadDags(DIR);
const URI = "file:///driftflow-test/timed_out/";

async function dump(procs: Proc[]): Promise<string> {
  return (await Promise.all(
    procs.map(async (p) => `--- ${p.name}\n${(await p.output().catch(() => "")).slice(-3000)}`),
  )).join("\n");
}

const alive = (pid: number) => {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
};

/**
 * Starts a scheduler and a worker (heartbeat every `heartbeatMs`), shows both are up with a first
 * run, then starts a run of `timed_out` and waits until it timed out while `work` ran on the worker.
 */
async function timedOutWhileRunning(
  heartbeatMs: number,
  then: (
    c: Awaited<ReturnType<typeof cluster>>,
    runId: number,
    dir: string,
    procs: Proc[],
  ) => Promise<void>,
) {
  const c = await cluster(DIR);
  const dir = await Deno.makeTempDir({ prefix: "driftflow-run-timeout-" });
  const procs = [
    c.spawn("scheduler", ["scheduler", "--tick-ms", "100", "--zombie-after-s", "600"]),
    c.spawn("w1", ["worker", "--heartbeat-ms", String(heartbeatMs), "--poll-ms", "100"]),
  ];
  const start = async (dagId: string, params: Record<string, unknown> = {}) => {
    const run = await createDagRun(c.store, dags.get(dagId)!, { params, executor: "distributed" });
    await new TaskQueue(c.store.db).notify(CHANNEL_SCHEDULER, String(run.id));
    return run;
  };
  const failWith = async (e: unknown) =>
    assert.fail(`${(e as Error).message}\n${await dump(procs)}`);
  try {
    // A first run shows the scheduler and the worker are up (the run's timeout is short).
    const warm = await start("timed_out_consumer");
    await eventually("a first run to succeed", async () => {
      const r = await c.store.getRun(warm.id);
      return r?.state === "success" ? true : undefined;
    }, 120_000).catch(failWith);
    const run = await start("timed_out", { dir });
    await eventually("work to run on the worker", async () => {
      const [ti] = await c.store.taskInstances(run.id, ["work"]);
      return ti?.state === "running" ? true : undefined;
    }).catch(failWith);
    await eventually("the run to time out", async () => {
      const r = await c.store.getRun(run.id);
      return r?.state === "failed" ? r : undefined;
    }).catch(failWith);
    await then(c, run.id, dir, procs);
    const [ti] = await c.store.taskInstances(run.id, ["work"]);
    assert.equal(ti.state, "skipped", await dump(procs));
    assert.match(ti.error ?? "", /dagrunTimeout/);
    assert.deepEqual(await c.store.xcoms(run.id), [], "no XCom");
    assert.deepEqual(await assetEvents(c.store.db, { uri: URI }), [], "no asset event");
    assert.equal((await c.store.getRun(run.id))!.state, "failed");
    assert.deepEqual(
      (await c.store.listRuns("timed_out_consumer", { limit: 10 })).map((r) => r.runType),
      ["manual"],
      "no asset-triggered run",
    );
  } finally {
    await c.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "a try that ends after its run timed out records neither its success nor asset events",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // Heartbeats far apart: the try ends before its worker learns that the run timed out.
    await timedOutWhileRunning(600_000, async (_c, runId, dir, procs) => {
      await Deno.writeTextFile(`${dir}/go`, "");
      await eventually(
        "the worker to end the try",
        async () =>
          new RegExp(`work\\[-1\\] of run ${runId} try 1: its success was NOT recorded`).test(
            await procs[1].output(),
          ) || undefined,
        30_000,
      ).catch(async (e) => assert.fail(`${(e as Error).message}\n${await dump(procs)}`));
      assert.ok(await Deno.stat(`${dir}/done`), "the command did finish");
    });
  },
});

Deno.test({
  name: "a worker stops a try whose run timed out at its next heartbeat",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await timedOutWhileRunning(200, async (_c, runId, dir, procs) => {
      const pid = await eventually("the command's pid", async () => {
        const text = await Deno.readTextFile(`${dir}/pid`).catch(() => "");
        return text.endsWith("\n") ? Number(text.trim()) : undefined;
      });
      await eventually(
        "the command to be stopped",
        () => Promise.resolve(!alive(pid) || undefined),
        30_000,
      )
        .catch(async (e) => assert.fail(`${(e as Error).message}\n${await dump(procs)}`));
      assert.match(
        await procs[1].output(),
        new RegExp(`stopping work\\[-1\\] of run ${runId}: its task instance is no longer`),
      );
      await eventually(
        "the worker to end the try",
        async () =>
          new RegExp(`work\\[-1\\] of run ${runId} try 1: its \\S+ was NOT recorded`)
            .test(await procs[1].output()) || undefined,
        30_000,
      ).catch(async (e) => assert.fail(`${(e as Error).message}\n${await dump(procs)}`));
    });
  },
});
