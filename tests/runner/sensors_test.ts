// Sensors (issue 15): poke and reschedule modes, timeouts, and the ready-made pokes.
import assert from "node:assert/strict";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { FakeClock } from "../../runner/clock.ts";
import { dag, type DagDefinition } from "../../runner/dag.ts";
import { Executor, type ExecutorOptions } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { externalTask, pathExists, s3PrefixExists } from "../../runner/sensors/mod.ts";
import type { Store } from "../../runner/store/store.ts";
import { storeSuite } from "./helpers.ts";
import { startS3 } from "./moto.ts";

const artifacts = new LocalArtifactStore(await Deno.makeTempDir({ prefix: "driftflow-sensor-" }));
let seq = 0;
const id = (name: string) => `${name}_${++seq}`;

async function runDag(
  store: Store,
  d: DagDefinition,
  opts: Partial<ExecutorOptions> & { logicalDate?: Date } = {},
) {
  const ex = new Executor({ store, artifacts, ...opts });
  const run = await createDagRun(store, d, { logicalDate: opts.logicalDate });
  const result = await ex.runToEnd(d, run.id);
  const states = Object.fromEntries(result.taskInstances.map((t) => [t.taskId, t.state]));
  const tries = await store.tries(run.id);
  return { ...result, states, tries };
}

storeSuite("sensors", {
  "poke mode: one try pokes every interval until a value, which is the XCom": async (store) => {
    const clock = new FakeClock();
    let pokes = 0;
    const d = dag({ id: id("poke") })
      .sensor("wait", { poke: () => ++pokes >= 3 && { pokes }, interval: "30s", timeout: "1h" })
      .task("use", { deps: ["wait"], run: (ctx) => ctx.xcom("wait").pokes });
    const r = await runDag(store, d, { clock });
    assert.equal(r.state, "success");
    assert.equal(pokes, 3);
    assert.deepEqual(clock.sleeps.filter((s) => s === 30_000).length, 2);
    assert.deepEqual(r.tries.filter((t) => t.taskId === "wait").map((t) => t.state), ["success"]);
    assert.deepEqual((await store.xcoms(r.run.id, ["use"]))[0].value, 3);
  },

  "a sensor that times out fails without retries, or is skipped with softFail": async (store) => {
    const clock = new FakeClock();
    const d = dag({ id: id("timeout"), defaults: { retries: 3 } })
      .sensor("never", { poke: () => false, interval: "1m", timeout: "10m" })
      .sensor("soft", { poke: () => null, interval: "1m", timeout: "5m", softFail: true })
      .task("after", { deps: ["soft"], run: () => 1 });
    const r = await runDag(store, d, { clock });
    assert.equal(r.state, "failed");
    assert.deepEqual(r.states, { after: "skipped", never: "failed", soft: "skipped" });
    const never = r.tries.filter((t) => t.taskId === "never");
    assert.equal(never.length, 1, "a sensor timeout is not retried");
    assert.match(never[0].error!, /sensor timed out: the condition did not hold within 600 s/);
  },

  "reschedule mode frees the pool slot between pokes; poke mode holds it": async (store) => {
    const pool = id("one_slot");
    await store.setPool(pool, 1);
    const build = (mode: "poke" | "reschedule") => {
      let flag = false;
      return dag({ id: id(mode) })
        .sensor("a_wait", { pool, mode, poke: () => flag, interval: "50ms", timeout: "1500ms" })
        .task("b_other", { pool, run: () => void (flag = true) });
    };
    const r = await runDag(store, build("reschedule"));
    assert.equal(r.state, "success", JSON.stringify(r.states));
    const wait = r.tries.filter((t) => t.taskId === "a_wait");
    assert.ok(wait.length >= 2, "more than one poke");
    assert.deepEqual(
      wait.slice(0, -1).map((t) => t.state),
      wait.slice(0, -1).map(() => "up_for_reschedule"),
    );
    assert.equal(wait.at(-1)!.state, "success");
    const ti = r.taskInstances.find((t) => t.taskId === "a_wait")!;
    assert.equal(ti.tryNumber, wait.length, "the pokes are tries of their own");

    // In poke mode the sensor holds the only slot, so "other" cannot run: the sensor times out.
    const p = await runDag(store, build("poke"));
    assert.equal(p.states.a_wait, "failed");
    assert.equal(p.states.b_other, "success");
    const otherStart = p.tries.find((t) => t.taskId === "b_other")!.startDate;
    assert.ok(otherStart >= p.tries.find((t) => t.taskId === "a_wait")!.endDate!);
  },

  "reschedule mode times out from the first poke": async (store) => {
    const d = dag({ id: id("resched_timeout") })
      .sensor("never", {
        mode: "reschedule",
        poke: () => false,
        interval: "50ms",
        timeout: "200ms",
      });
    const r = await runDag(store, d);
    assert.equal(r.state, "failed");
    const tries = r.tries.filter((t) => t.taskId === "never");
    assert.ok(tries.length >= 2 && tries.length <= 6, `${tries.length} pokes`);
    assert.equal(tries.at(-1)!.state, "failed");
    assert.match(tries.at(-1)!.error!, /sensor timed out/);
  },

  "a reschedule-mode sensor's backoff counts failures, not pokes": async (store) => {
    const clock = new FakeClock();
    const pokedAt: number[] = [];
    const d = dag({ id: id("resched_backoff") }).sensor("s", {
      mode: "reschedule",
      retries: 1,
      retryDelay: "1s",
      retryBackoff: "exponential",
      interval: "1s",
      timeout: "1d",
      poke: () => {
        pokedAt.push(clock.now());
        if (pokedAt.length === 13) throw new Error("the source answered 503");
        return pokedAt.length > 13 && "ready";
      },
    });
    const r = await runDag(store, d, { clock });
    assert.equal(r.state, "success", JSON.stringify(r.tries));
    assert.deepEqual(
      r.tries.map((t) => t.state),
      [...Array(12).fill("up_for_reschedule"), "up_for_retry", "success"],
    );
    // The first failure waits the first retry's delay, 1 s (jittered into [1 s, 2 s)), not the
    // 13th try's 2^12 s.
    const wait = pokedAt[13] - r.tries[12].endDate!.getTime();
    assert.ok(wait >= 1000 && wait < 2000, `waited ${wait} ms after the first failure`);
  },

  "a failed poke does not restart a reschedule-mode sensor's timeout; a clear does": async (
    store,
  ) => {
    const clock = new FakeClock();
    let pokes = 0, flaky = true;
    const d = dag({ id: id("resched_window") }).sensor("s", {
      mode: "reschedule",
      retries: 3,
      retryDelay: "1m",
      interval: "1m",
      timeout: "10m",
      poke: () => {
        if (++pokes % 3 === 0 && flaky) throw new Error("flaky source");
        return false;
      },
    });
    const r = await runDag(store, d, { clock });
    assert.equal(r.state, "failed");
    const span = (tries: typeof r.tries) =>
      tries.at(-1)!.startDate.getTime() - tries[0].startDate.getTime();
    assert.ok(r.tries.some((t) => t.state === "up_for_retry"), "some pokes failed");
    assert.match(r.tries.at(-1)!.error!, /sensor timed out/);
    assert.ok(
      span(r.tries) <= 10 * 60_000,
      `the last poke came ${span(r.tries)} ms after the first`,
    );

    // cleared: a new window of 10 minutes from its next try
    flaky = false;
    await store.clear(r.run.id, ["s"]);
    const again = await new Executor({ store, artifacts, clock }).runToEnd(d, r.run.id);
    assert.equal(again.state, "failed");
    const after = (await store.tries(r.run.id, "s")).slice(r.tries.length);
    assert.ok(after.length > 5, `${after.length} tries after the clear`);
    assert.match(after.at(-1)!.error!, /sensor timed out/);
    assert.ok(span(after) >= 9 * 60_000 && span(after) <= 10 * 60_000, `${span(after)} ms`);
  },

  "externalTask waits for another DAG's task at the same logical date": async (store) => {
    const at = new Date("2026-04-01T00:00:00Z");
    const etl = dag({ id: id("etl") }).task("load", { run: () => 1 });
    const report = dag({ id: id("report") }).sensor("etl_done", {
      poke: externalTask({ dagId: etl.id, taskId: "load" }),
      interval: "1m",
      timeout: "5m",
    });
    const clock = new FakeClock();
    const before = await runDag(store, report, { clock, logicalDate: at });
    assert.equal(before.states.etl_done, "failed", "no etl run at that date: times out");
    await runDag(store, etl, { logicalDate: at });
    // a second DAG with the same sensor, at the same date (a run of "report" exists there)
    const report2 = dag({ id: id("report") }).sensor("etl_done", {
      poke: externalTask({ dagId: etl.id, taskId: "load" }),
      interval: "1m",
      timeout: "5m",
    });
    const ok = await runDag(store, report2, { clock, logicalDate: at });
    assert.equal(ok.states.etl_done, "success");
    const x = (await store.xcoms(ok.run.id, ["etl_done"]))[0].value as { state: string };
    assert.equal(x.state, "success");
  },
});

Deno.test("pathExists: a file, or a directory with an entry matching the glob", async () => {
  const dir = await Deno.makeTempDir({ prefix: "driftflow-path-" });
  try {
    const poke = pathExists(dir, { glob: "*.eml" });
    assert.equal(await poke(), false);
    await Deno.writeTextFile(`${dir}/note.txt`, "x");
    assert.equal(await poke(), false);
    await Deno.writeTextFile(`${dir}/b.eml`, "x");
    await Deno.writeTextFile(`${dir}/a.eml`, "x");
    assert.deepEqual(await poke(), [`${dir}/a.eml`, `${dir}/b.eml`]);
    assert.equal(await pathExists(`${dir}/missing`)(), false);
    assert.deepEqual(await pathExists(`${dir}/note.txt`)(), [`${dir}/note.txt`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "s3PrefixExists on a real S3-protocol server (moto_server)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startS3("sensor-bucket");
    try {
      const credentials = { accessKeyId: "test", secretAccessKey: "test" };
      const poke = s3PrefixExists({
        bucket: s3.bucket,
        prefix: "inbox/",
        endpoint: s3.endpoint,
        credentials,
      });
      assert.equal(await poke(), false);
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials,
      });
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: "other/x", Body: "x" }));
      assert.equal(await poke(), false);
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: "inbox/1.eml", Body: "x" }));
      assert.deepEqual(await poke(), ["inbox/1.eml"]);
      const newer = s3PrefixExists({
        bucket: s3.bucket,
        prefix: "inbox/",
        endpoint: s3.endpoint,
        credentials,
        newerThan: new Date(Date.now() + 60_000),
      });
      assert.equal(await newer(), false);
    } finally {
      await s3.stop();
    }
  },
});
