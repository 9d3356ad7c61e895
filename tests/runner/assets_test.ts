// Data-aware scheduling (issue 15): outlets, asset-scheduled DAGs, watchers, the CLI and the API.
import assert from "node:assert/strict";
import { runCli } from "./processes.ts";
import { pathToFileURL } from "node:url";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { assetEvents, createAssetTriggeredRun, recordAssetEvent } from "../../runner/assets.ts";
import { watchAssetFolders } from "../../runner/assets_watch.ts";
import { dag } from "../../runner/dag.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { Scheduler } from "../../runner/scheduler.ts";
import { validateDag } from "../../runner/validate.ts";
import { apiRoutes } from "../../web/api/routes.ts";
import textMonitoring, { INBOX_ASSET } from "../../dags/text_monitoring.ts";
import { storeSuite } from "./helpers.ts";

const artifacts = new LocalArtifactStore(await Deno.makeTempDir({ prefix: "driftflow-assets-" }));
let seq = 0;
const id = (name: string) => `${name}_${++seq}`;

storeSuite("assets", {
  "a task's outlets record events; a DAG on two assets runs once both are updated": async (
    store,
  ) => {
    const a = `s3://bucket/${id("a")}/`, b = `file:///data/${id("b")}/`;
    const consumer = dag({ id: id("consumer"), onAssets: [a, b] })
      .task("read", { run: (ctx) => ctx.conf.assetEvents });
    // events from before the consumer existed do not count
    await recordAssetEvent(store.db, { uri: a, source: "cli" });
    await recordAssetEvent(store.db, { uri: b, source: "cli" });
    assert.equal(await createAssetTriggeredRun(store, consumer), null);

    const producer = dag({ id: id("producer") })
      .task("write", { outlets: [a], run: () => 1 })
      .task("broken", { outlets: [b], run: () => Promise.reject(new Error("no")) });
    const p = await createDagRun(store, producer);
    await new Executor({ store, artifacts }).runToEnd(producer, p.id);
    const events = await assetEvents(store.db, { uri: a });
    assert.equal(events[0].source, "task");
    assert.equal(events[0].sourceDagId, producer.id);
    assert.equal(events[0].sourceTaskId, "write");
    assert.equal(
      (await assetEvents(store.db, { uri: b })).length,
      1,
      "a failed task updates nothing",
    );
    assert.equal(await createAssetTriggeredRun(store, consumer), null, "b not updated yet");

    const eb = await recordAssetEvent(store.db, { uri: b, source: "api", extra: { files: 2 } });
    const run = (await createAssetTriggeredRun(store, consumer))!;
    assert.equal(run.runType, "asset_triggered");
    assert.equal(run.logicalDate.getTime(), eb.createdAt.getTime());
    assert.equal(run.dataIntervalEnd.getTime(), eb.createdAt.getTime());
    const consumed = run.conf.assetEvents as { uri: string; source: string }[];
    assert.deepEqual(consumed.map((e) => [e.uri, e.source]), [[a, "task"], [b, "api"]]);
    assert.equal(await createAssetTriggeredRun(store, consumer), null, "consumed once");

    // the next batch: both again
    await recordAssetEvent(store.db, { uri: b, source: "cli" });
    await recordAssetEvent(store.db, { uri: a, source: "cli" });
    const next = (await createAssetTriggeredRun(store, consumer))!;
    assert.equal(next.dataIntervalStart.getTime(), run.dataIntervalEnd.getTime());
  },

  "the scheduler watches a folder asset and runs the DAG when files land": async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-inbox-" });
    try {
      const uri = `${pathToFileURL(dir).href}/`;
      await Deno.writeTextFile(`${dir}/old.csv`, "x");
      const d = dag({ id: id("watcher"), onAssets: [uri], watchAssets: true })
        .task("files", { run: (ctx) => ctx.conf.assetEvents });
      const scheduler = new Scheduler({
        store,
        dags: new Map([[d.id, d]]),
        artifacts,
        log: () => {},
      });
      await scheduler.tick(); // the folder's first look: what is there does not count
      assert.deepEqual(await store.listRuns(d.id), []);
      await scheduler.tick();
      assert.deepEqual(await store.listRuns(d.id), [], "nothing new");
      const later = new Date(Date.now() + 2000);
      await Deno.writeTextFile(`${dir}/new.csv`, "x");
      await Deno.utime(`${dir}/new.csv`, later, later);
      await scheduler.tick();
      const runs = await store.listRuns(d.id);
      assert.equal(runs.length, 1);
      const events = runs[0].conf.assetEvents as { source: string; extra: { files: string[] } }[];
      assert.deepEqual(events.map((e) => [e.source, e.extra.files]), [["watcher", ["new.csv"]]]);
      assert.equal(await watchAssetFolders(store.db, [d]), 0, "seen once");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },

  "POST /api/v1/assets/events records an event; a bad URI is a 422": async (store) => {
    const api = apiRoutes({
      store,
      dags: () => new Map(),
      token: "t",
      artifacts,
      registry: () => Promise.reject(new Error("unused")),
    });
    const post = (body: unknown) =>
      api.request("/assets/events", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const uri = `s3://bucket/${id("api")}/`;
    const ok = await post({ uri, extra: { files: 1 } });
    assert.equal(ok.status, 201);
    const body = await ok.json() as { uri: string; source: string };
    assert.deepEqual([body.uri, body.source], [uri, "api"]);
    assert.equal((await assetEvents(store.db, { uri }))[0].source, "api");
    const bad = await post({ uri: "not a uri" });
    assert.equal(bad.status, 422);
    assert.match(JSON.stringify(await bad.json()), /an asset is a URI/);
  },
});

Deno.test("validation: asset URIs, and a cron schedule and assets together", () => {
  const both = dag({ id: "both", schedule: "@daily", onAssets: ["s3://b/x/"] })
    .task("t", { outlets: ["nope"], run: () => 1 });
  const problems = validateDag(both, "dags/both.ts");
  assert.ok(problems.some((p) => /both a schedule and onAssets/.test(p)), problems.join("\n"));
  assert.ok(problems.some((p) => /task "t": outlets.0: an asset is a URI/.test(p)));
  const airflowStyle = dag({ id: "list", schedule: ["s3://b/x/"] as unknown as string })
    .task("t", { run: () => 1 });
  assert.ok(
    validateDag(airflowStyle, "dags/list.ts").some((p) =>
      /schedule is a list; .* write onAssets: \["s3:\/\/b\/x\/"\]/.test(p)
    ),
  );
});

Deno.test("text_monitoring runs when mail files land in its inbox, not on the hour", () => {
  assert.equal(textMonitoring.options.schedule, undefined);
  assert.deepEqual(textMonitoring.options.onAssets, [INBOX_ASSET]);
  assert.equal(textMonitoring.options.watchAssets, true);
  assert.match(INBOX_ASSET, /^file:\/\/\/.*\/text\/inbox\/$/);
  assert.deepEqual(validateDag(textMonitoring, "dags/text_monitoring.ts"), []);
});

Deno.test({
  name: "cli: assets touch records an event, assets lists it with the DAGs it schedules",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "driftflow-assets-cli-" });
    const cli = (args: string[]) =>
      runCli(args, { DRIFTFLOW_HOME: home, DRIFTFLOW_DAGS: "tests/fixtures/dags_semantics" });
    try {
      const touch = await cli(["assets", "touch", "s3://bucket/inbox/", "--extra", '{"n":1}']);
      assert.equal(touch.code, 0, touch.stderr);
      assert.match(touch.stdout, /asset event \d+: s3:\/\/bucket\/inbox\//);
      const list = await cli(["assets"]);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /s3:\/\/bucket\/inbox\/\s+1\s+\S+ \S+\s+on_inbox/);
      const dags = await cli(["dags"]);
      assert.match(dags.stdout, /on_inbox\s+on s3:\/\/bucket\/inbox\//);
      const bad = await cli(["assets", "touch", "inbox"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /is not an asset URI/);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
