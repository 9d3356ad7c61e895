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

Deno.test({
  name: "a try that ends after its run timed out records neither its success nor asset events",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c = await cluster(DIR);
    const dir = await Deno.makeTempDir({ prefix: "driftflow-run-timeout-" });
    const procs = [
      c.spawn("scheduler", ["scheduler", "--tick-ms", "100", "--zombie-after-s", "30"]),
      c.spawn("w1", ["worker", "--heartbeat-ms", "200", "--poll-ms", "100"]),
    ];
    const start = async (dagId: string, params: Record<string, unknown> = {}) => {
      const run = await createDagRun(c.store, dags.get(dagId)!, {
        params,
        executor: "distributed",
      });
      await new TaskQueue(c.store.db).notify(CHANNEL_SCHEDULER, String(run.id));
      return run;
    };
    try {
      // A first run shows the scheduler and the worker are up (the timeout is short).
      const warm = await start("timed_out_consumer");
      await eventually("a first run to succeed", async () => {
        const r = await c.store.getRun(warm.id);
        return r?.state === "success" ? true : undefined;
      }, 120_000).catch(async (e) => assert.fail(`${(e as Error).message}\n${await dump(procs)}`));
      const run = await start("timed_out", { dir });
      await eventually("work to run on the worker", async () => {
        const [ti] = await c.store.taskInstances(run.id, ["work"]);
        return ti?.state === "running" ? true : undefined;
      });
      const failed = await eventually("the run to time out", async () => {
        const r = await c.store.getRun(run.id);
        return r?.state === "failed" ? r : undefined;
      });
      assert.equal(failed.state, "failed");
      // The command ends after the timeout, and its worker tries to record a success.
      await Deno.writeTextFile(`${dir}/go`, "");
      await eventually(
        "the worker to end the try",
        async () =>
          /work\[-1\] of run \d+ try 1: its success was NOT recorded/.test(
            await procs[1].output(),
          ) || undefined,
        30_000,
      ).catch(async (e) => assert.fail(`${(e as Error).message}\n${await dump(procs)}`));
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
  },
});
