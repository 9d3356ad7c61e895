// Route tests through app.request: pages, the API, and the security rules.
import assert from "node:assert/strict";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { dag, type DagDefinition } from "../../runner/dag.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { syncDag } from "../../runner/cli/common.ts";
import { z } from "zod";
import { createApp } from "../../web/app.tsx";
import { formatDuration } from "../../runner/duration.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { storeSuite } from "../runner/helpers.ts";
import { Heartbeat } from "../../runner/liveness.ts";
import type { Store } from "../../runner/store/store.ts";

const TOKEN = "test-token";
const XSS = "<script>alert(1)</script>";
const ORIGIN = "http://localhost";

const demo = dag({
  id: "web_demo",
  description: "for the web tests",
  params: z.object({ note: z.string().default("hi"), n: z.number().int().min(1).default(2) }),
})
  .task("extract", { run: (ctx) => ({ note: ctx.params.note }) })
  .task("shout", { deps: ["extract"], run: (ctx) => ctx.log(`note: ${ctx.xcom("extract").note}`) });

/** The app over `demo` and `more` DAGs; `serveModel` as DRIFTFLOW_SERVE_MODEL would set it. */
async function setup(
  store: Store,
  { more = [], serveModel }: { more?: DagDefinition[]; serveModel?: string } = {},
) {
  await syncDag(store, demo);
  for (const d of more) await syncDag(store, d);
  const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
  const created: number[] = [];
  let registry: Promise<ModelRegistry> | undefined;
  const app = createApp({
    store,
    registry: () => (registry ??= ModelRegistry.open(store.db)),
    dags: () => new Map([demo, ...more].map((d) => [d.id, d])),
    token: TOKEN,
    artifacts,
    onRunCreated: (id) => void created.push(id),
    serveModel,
  });
  return { app, artifacts, created };
}

const auth = { authorization: `Bearer ${TOKEN}` };
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const formHeaders = { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN };

storeSuite("web", {
  "pages render the DAGs, the grid, a run with its graph, and logs": async (store) => {
    const { app, artifacts } = await setup(store);
    const run = await createDagRun(store, demo, { params: { note: XSS } });
    await new Executor({ store, artifacts }).runToEnd(demo, run.id);
    const home = await (await app.request("/")).text();
    assert.match(home, /web_demo/);
    assert.match(home, new RegExp(`href="/runs/${run.id}"`));
    const grid = await (await app.request("/dags/web_demo")).text();
    assert.match(grid, /<table class="grid">/);
    assert.match(grid, /aria-label="state colours".*up_for_retry/s, "the grid has a legend");
    const page = await (await app.request(`/runs/${run.id}`)).text();
    assert.match(page, /<svg[^>]*aria-label="task graph"/);
    assert.match(page, /extract/);
    const logs = await (await app.request(`/runs/${run.id}/tasks/shout/logs`)).text();
    assert.match(logs, /note: &lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    for (const html of [page, logs]) {
      assert.ok(!html.includes(XSS), "user text never appears unescaped");
    }
    assert.equal((await app.request("/runs/999999")).status, 404);
    assert.equal((await app.request("/dags/nope")).status, 404);
  },

  "the grid draws duration bars and a summary; the log view has a tab per try": async (store) => {
    let calls = 0;
    const flaky = dag({ id: "web_flaky", defaults: { retries: 1, retryDelay: "0s" } })
      .task("quick", { run: () => 1 })
      .task("slow", {
        deps: ["quick"],
        run: async (ctx) => {
          calls++;
          ctx.log(`attempt ${ctx.tryNumber}`);
          await new Promise((r) => setTimeout(r, 60));
          if (ctx.tryNumber === 1) throw new Error("first try fails");
          return 2;
        },
      });
    await syncDag(store, flaky);
    const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
    const app = createApp({
      store,
      registry: () => ModelRegistry.open(store.db),
      dags: () => new Map([[flaky.id, flaky]]),
      token: TOKEN,
      artifacts,
    });
    const run = await createDagRun(store, flaky, {});
    await new Executor({ store, artifacts }).runToEnd(flaky, run.id);
    assert.equal(calls, 2, "slow ran twice");
    const tis = await store.taskInstances(run.id);
    const slow = tis.find((t) => t.taskId === "slow")!;
    const quick = tis.find((t) => t.taskId === "quick")!;
    assert.ok(slow.durationMs! > quick.durationMs!);

    const grid = await (await app.request("/dags/web_flaky")).text();
    const widths = [
      ...grid.matchAll(/class="bar" title="(\w+): ([^"]+)" style="[^"]*;width:(\d+)px/g),
    ]
      .map((m) => ({ task: m[1], took: m[2], width: Number(m[3]) }));
    assert.equal(widths.length, 2, "a bar per task instance");
    const bar = (task: string) => widths.find((w) => w.task === task)!;
    assert.equal(bar("slow").width, 32, "the longest task fills the cell");
    assert.ok(bar("quick").width < bar("slow").width, "a shorter task has a shorter bar");
    assert.equal(
      bar("slow").took,
      formatDuration(slow.durationMs!),
      "the tooltip has the duration",
    );
    const run1 = (await store.getRun(run.id))!;
    const median = formatDuration(run1.endDate!.getTime() - run1.startDate!.getTime());
    assert.match(
      grid,
      new RegExp(`1 run shown · 1 success · 0 failed · 0 running · median duration ${median}`),
    );
    assert.match(grid, /aria-label="state colours"/, "the legend stays");
    assert.match(grid, /<time datetime="[^"]+" title="[^"]+">(just now|\d+ min ago)<\/time>/);
    assert.match(grid, /<th>duration<\/th>/);

    const latest = await (await app.request(`/runs/${run.id}/tasks/slow/logs`)).text();
    const tabs = [...latest.matchAll(/<a class="(tab[^"]*)" href="([^"]+)"/g)];
    assert.deepEqual(tabs.map((t) => t[2]), [
      `/runs/${run.id}/tasks/slow/logs?try=1`,
      `/runs/${run.id}/tasks/slow/logs?try=2`,
    ]);
    assert.deepEqual(tabs.map((t) => t[1]), ["tab", "tab selected"], "the latest try is selected");
    const host = slow.hostname!;
    assert.ok(host.length > 0);
    assert.match(latest, new RegExp(`try 2 · host <strong class="host">${host}</strong>`));
    assert.match(latest, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z attempt 2/);
    assert.doesNotMatch(latest, /attempt 1/);
    const first = await (await app.request(`/runs/${run.id}/tasks/slow/logs?try=1`)).text();
    assert.match(first, /<a class="tab selected" href="[^"]+\?try=1" aria-current="page"/);
    assert.match(first, /try 1 · host/);
    assert.match(first, /Z attempt 1/);
    assert.doesNotMatch(first, /attempt 2/);
    const none = await (await app.request(`/runs/${run.id}/tasks/slow/logs?try=5`)).text();
    assert.match(none, /No log lines for try 5/);
  },

  "user text stays inert in params, XCom, logs and errors": async (store) => {
    const { app, artifacts } = await setup(store);
    const evil = dag({ id: "evil" }).task("t", {
      run: (ctx) => {
        ctx.log(XSS);
        throw new Error(XSS);
      },
    });
    await syncDag(store, evil);
    const run = await createDagRun(store, evil, { conf: { x: XSS } });
    await new Executor({ store, artifacts }).runToEnd(evil, run.id);
    const ok = await createDagRun(store, demo, { params: { note: XSS } });
    await new Executor({ store, artifacts }).runToEnd(demo, ok.id);
    for (const path of [`/runs/${run.id}`, `/runs/${run.id}/tasks/t/logs`, `/runs/${ok.id}`, "/"]) {
      const html = await (await app.request(path)).text();
      assert.ok(!html.includes(XSS), `${path} has raw user script`);
    }
    assert.match(await (await app.request(`/runs/${ok.id}`)).text(), /&lt;script&gt;/);
  },

  "changes need the token or a session; forms need a same-origin Origin": async (store) => {
    const { app } = await setup(store);
    const anon = await app.request("/dags/web_demo/pause", {
      method: "POST",
      headers: formHeaders,
      body: form({ paused: "true" }),
    });
    assert.equal(anon.status, 401);
    const api = await app.request("/api/v1/dags/web_demo", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(api.status, 401);
    const wrong = await app.request("/login", {
      method: "POST",
      headers: formHeaders,
      body: form({ token: "nope", next: "/" }),
    });
    assert.equal(wrong.status, 401);
    const login = await app.request("/login", {
      method: "POST",
      headers: formHeaders,
      body: form({ token: TOKEN, next: "/" }),
    });
    assert.equal(login.status, 303);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    assert.ok(!cookie.includes(TOKEN), "the cookie does not carry the token");
    const paused = await app.request("/dags/web_demo/pause", {
      method: "POST",
      headers: { ...formHeaders, cookie },
      body: form({ paused: "true" }),
    });
    assert.equal(paused.status, 303);
    assert.equal((await store.listDags()).find((d) => d.dagId === "web_demo")?.isPaused, true);
    const foreign = await app.request("/dags/web_demo/pause", {
      method: "POST",
      headers: { ...formHeaders, origin: "http://evil.example", cookie },
      body: form({ paused: "false" }),
    });
    assert.equal(foreign.status, 403, "cross-site form posts are refused");
  },

  "the API triggers runs with params validated, one message per bad field": async (store) => {
    const { app, created } = await setup(store);
    const bad = await app.request("/api/v1/dags/web_demo/runs", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ params: { n: 0, note: 5 } }),
    });
    assert.equal(bad.status, 422);
    const body = await bad.json();
    assert.equal(body.error, 'invalid params for dag "web_demo"');
    // each field with its message and what would be right
    assert.deepEqual(
      [...body.fields].sort((a: { field: string }, b: { field: string }) =>
        a.field.localeCompare(b.field)
      ),
      [
        { field: "params.n", message: "Too small: expected number to be >=1", expected: ">= 1" },
        {
          field: "params.note",
          message: "Invalid input: expected string, received number",
          expected: "string",
        },
      ],
    );
    const good = await app.request("/api/v1/dags/web_demo/runs", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ params: { n: 3 }, conf: { why: "api" } }),
    });
    assert.equal(good.status, 201);
    const run = await good.json();
    assert.equal(run.state, "queued");
    assert.deepEqual(run.params, { note: "hi", n: 3 });
    assert.deepEqual(created, [run.id]);
    assert.equal((await store.getRun(run.id))?.executor, "distributed");
    const got = await (await app.request(`/api/v1/runs/${run.id}`)).json();
    assert.equal(got.tasks.length, 2);
    assert.deepEqual(got.structure.tasks.map((t: { id: string }) => t.id), ["extract", "shout"]);
    const list = await (await app.request("/api/v1/dags/web_demo/runs?limit=5")).json();
    assert.equal(list.runs[0].id, run.id);
    const badQuery = await app.request("/api/v1/dags/web_demo/runs?limit=0");
    assert.equal(badQuery.status, 400); // a bad query string is a malformed request
    const cleared = await app.request(`/api/v1/runs/${run.id}/clear`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ taskIds: ["nope"] }),
    });
    assert.equal(cleared.status, 422);
  },

  "the form and the API trigger and clear through one service, with the same outcomes": async (
    store,
  ) => {
    const broken = dag({ id: "web_clear" })
      .task("a", {
        run: () => {
          throw new Error("boom");
        },
      })
      .task("b", { deps: ["a"], run: () => 1 })
      .task("c", { run: () => 2 });
    const refined = dag({
      id: "web_refined",
      params: z.object({ lo: z.number().default(1), hi: z.number().default(2) })
        .refine((v) => v.lo < v.hi, "lo must be below hi"),
    }).task("t", { run: () => 1 });
    const { app, artifacts, created } = await setup(store, { more: [broken, refined] });
    const run = await createDagRun(store, broken);
    await new Executor({ store, artifacts }).runToEnd(broken, run.id);
    const states = async () =>
      Object.fromEntries((await store.taskInstances(run.id)).map((t) => [t.taskId, t.state]));
    assert.deepEqual(await states(), { a: "failed", b: "upstream_failed", c: "success" });
    // the form's "clear failed": the failed tasks and what is downstream of them, nothing else
    const html = await app.request(`/runs/${run.id}/clear`, {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ failed: "true" }),
    });
    assert.equal(html.status, 303);
    assert.deepEqual(await states(), { a: null, b: null, c: "success" });
    assert.deepEqual(created, [run.id]);
    // the API's onlyFailed: nothing failed now, so nothing is cleared and the scheduler is not woken
    const api = (body: unknown, id = run.id) =>
      app.request(`/api/v1/runs/${id}/clear`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    assert.deepEqual(await (await api({ onlyFailed: true })).json(), { cleared: [] });
    assert.deepEqual(created, [run.id]);
    assert.deepEqual(await (await api({ taskIds: ["c"] })).json(), { cleared: ["c"] });
    assert.deepEqual(await (await api({ taskIds: ["a"], downstream: true })).json(), {
      cleared: ["a", "b"],
    });
    // an unknown task: both surfaces say which tasks the run has
    const unknownApi = await api({ taskIds: ["nope"] });
    assert.equal(unknownApi.status, 422);
    assert.deepEqual((await unknownApi.json()).fields, [{
      field: "taskIds",
      message: 'the run has no task "nope"; its tasks: a, b, c',
    }]);
    const unknownHtml = await app.request(`/runs/${run.id}/clear`, {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ task: "nope" }),
    });
    assert.equal(unknownHtml.status, 422);
    assert.equal(await unknownHtml.text(), 'the run has no task "nope"; its tasks: a, b, c');
    // no such run
    assert.equal((await api({}, 999_999)).status, 404);
    const missing = await app.request("/runs/999999/clear", {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ failed: "true" }),
    });
    assert.equal(missing.status, 404);
    // a second run at the same logical date: 409 from the API, an error on top of the form
    const at = "2026-01-05T00:00:00.000Z";
    const trigger = () =>
      app.request("/api/v1/dags/web_clear/runs", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ logicalDate: at }),
      });
    assert.equal((await trigger()).status, 201);
    const again = await trigger();
    assert.equal(again.status, 409);
    assert.match((await again.json()).error, /already exists/);
    assert.equal(
      (await app.request("/api/v1/dags/nope/runs", {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: "{}",
      })).status,
      404,
    );
    // a problem with the params as a whole: the API names the root, the form shows it on top
    const rootApi = await app.request("/api/v1/dags/web_refined/runs", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ params: { lo: 3, hi: 2 } }),
    });
    assert.equal(rootApi.status, 422);
    assert.deepEqual((await rootApi.json()).fields, [
      { field: "params.(root)", message: "lo must be below hi" },
    ]);
    const rootHtml = await app.request("/dags/web_refined/trigger", {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ "param.lo": "3", "param.hi": "2", conf: "{}" }),
    });
    assert.equal(rootHtml.status, 422);
    assert.match(await rootHtml.text(), /<p class="error">lo must be below hi<\/p>/);
  },

  "the trigger form is made from the params schema and shows each field's error": async (store) => {
    const { app } = await setup(store);
    const page = await (await app.request("/dags/web_demo/trigger")).text();
    assert.match(page, /name="param\.note"[^>]*value="hi"/);
    assert.match(page, /name="param\.n"[^>]*type="number"/);
    const bad = await app.request("/dags/web_demo/trigger", {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ "param.n": "0", "param.note": "x", conf: "{}" }),
    });
    assert.equal(bad.status, 422);
    assert.match(
      await bad.text(),
      /<div class="error"[^>]*>Too small: expected number to be &gt;=1<\/div>/,
    );
    const badConf = await app.request("/dags/web_demo/trigger", {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ "param.n": "2", conf: "[1]" }),
    });
    assert.match(await badConf.text(), /conf must be a JSON object/);
    const ok = await app.request("/dags/web_demo/trigger", {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ "param.n": "4", "param.note": "from the form", conf: '{"a":1}' }),
    });
    assert.equal(ok.status, 303);
    const runId = Number(ok.headers.get("location")!.split("/").at(-1));
    assert.deepEqual((await store.getRun(runId))?.params, { note: "from the form", n: 4 });
  },

  "artifacts are served by key only, sandboxed; bodies are limited; headers are secure": async (
    store,
  ) => {
    const { app, artifacts } = await setup(store);
    const key = await artifacts.put(new TextEncoder().encode("<html>report</html>"));
    const res = await app.request(`/artifacts/${key}?type=html`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-security-policy") ?? "", /^sandbox; default-src 'none'/);
    for (
      const bad of ["..%2F..%2Fetc%2Fpasswd", "sha256:..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd"]
    ) {
      assert.equal((await app.request(`/artifacts/${bad}`)).status, 400, bad);
    }
    assert.equal((await app.request(`/artifacts/sha256:${"0".repeat(64)}`)).status, 404);
    const big = await app.request("/api/v1/dags/web_demo/runs", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ conf: { blob: "x".repeat(1_100_000) } }),
    });
    assert.equal(big.status, 413);
    const home = await app.request("/");
    assert.equal(home.headers.get("x-content-type-options"), "nosniff");
    assert.equal(home.headers.get("x-frame-options"), "SAMEORIGIN");
    assert.match(home.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  },

  "the models page and API show versions, aliases and their moves": async (store) => {
    const { app } = await setup(store);
    const registry = await ModelRegistry.open(store.db);
    await registry.register({
      name: "delays",
      algo: "gbdt",
      task: "classification",
      params: {},
      metrics: { roc_auc: 0.7 },
      columns: [],
      fingerprint: { rows: 10, sha256: "c".repeat(64) },
      artifacts: { onnx: `sha256:${"d".repeat(64)}` },
      lineage: null,
      description: XSS,
    });
    await registry.setAlias("delays", "champion", 1, { reason: XSS });
    const html = await (await app.request("/models")).text();
    assert.match(html, /<h2>delays<\/h2>/);
    // one column per metric, so versions compare down a column
    assert.match(html, /<th[^>]*class="metric">roc_auc<\/th>/);
    assert.match(html, /<td[^>]*class="metric"[^>]*>0\.7000<\/td>/);
    assert.ok(!html.includes(XSS));
    const api = await (await app.request("/api/v1/models")).json();
    assert.deepEqual(api.models[0].versions[0].aliases, ["champion"]);
    assert.equal(api.models[0].aliasHistory[0].toVersion, 1);
  },

  "aliases move through the API and the Models page's buttons, recorded with who and why": async (
    store,
  ) => {
    const { app } = await setup(store);
    const registry = await ModelRegistry.open(store.db);
    for (const auc of [0.7, 0.72]) {
      await registry.register({
        name: "late",
        algo: "gbdt",
        task: "classification",
        params: {},
        metrics: { roc_auc: auc },
        columns: [],
        fingerprint: { rows: 10, sha256: "c".repeat(64) },
        artifacts: { onnx: `sha256:${"d".repeat(64)}` },
        lineage: null,
      });
    }
    const post = (body: unknown, headers: Record<string, string> = auth) =>
      app.request("/api/v1/models/late/aliases", {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    assert.equal((await post({ alias: "champion", version: 1, reason: "x" }, {})).status, 401);
    const bad = await post({ alias: "champion", version: 1, reason: "" });
    assert.equal(bad.status, 422);
    assert.equal((await bad.json()).fields[0].field, "reason");
    assert.equal((await post({ alias: "champion", version: 9, reason: "x" })).status, 404);
    const noModel = await app.request("/api/v1/models/nope/aliases", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ alias: "champion", version: 1, reason: "x" }),
    });
    assert.equal(noModel.status, 404);
    const first = await post({ alias: "champion", version: 1, reason: "first", by: "ana" });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), {
      name: "late",
      alias: "champion",
      fromVersion: null,
      toVersion: 1,
      reason: "first",
      actor: "ana",
    });
    assert.equal((await post({ alias: "champion", version: 2, reason: "better" })).status, 200);
    assert.equal((await registry.resolve("late@champion")).version, 2);
    // the page offers a roll-back to v1 and a promote button for v1
    const page = await (await app.request("/models")).text();
    assert.match(page, /Roll back champion to v1/);
    assert.match(page, /Promote v1 to champion/);
    assert.match(page, /action="\/models\/late\/aliases"/);
    // the form needs a session (or token) and a same-origin Origin, and a reason
    const noAuth = await app.request("/models/late/aliases", {
      method: "POST",
      headers: { ...formHeaders, accept: "text/html" },
      body: form({ alias: "champion", version: "1", reason: "rollback" }),
    });
    // a browser is asked to sign in, and what it typed is kept (not dropped by a redirect)
    assert.equal(noAuth.status, 401);
    const signIn = await noAuth.text();
    assert.match(signIn, /action="\/login"/);
    assert.match(signIn, /name="next" value="\/models\/late\/aliases"/);
    assert.match(signIn, /name="carried" value="[^"]*reason&quot;,&quot;rollback/);
    const noReason = await app.request("/models/late/aliases", {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ alias: "champion", version: "1", reason: " " }),
    });
    assert.equal(noReason.status, 422);
    assert.match(await noReason.text(), /say why/);
    const rolled = await app.request("/models/late/aliases", {
      method: "POST",
      headers: { ...formHeaders, ...auth },
      body: form({ alias: "champion", version: "1", reason: "rollback: v2 regressed" }),
    });
    assert.equal(rolled.status, 303);
    assert.equal(rolled.headers.get("location"), "/models?moved=late");
    assert.match(
      await (await app.request("/models?moved=late")).text(),
      /late@champion → v1 \(was v2\) by web UI: rollback: v2 regressed/,
    );
    assert.equal((await registry.resolve("late@champion")).version, 1);
    const history = await registry.aliasHistory("late");
    assert.deepEqual(
      history.map((h) => [h.fromVersion, h.toVersion, h.actor, h.reason]),
      [[2, 1, "web UI", "rollback: v2 regressed"], [1, 2, "api", "better"], [
        null,
        1,
        "ana",
        "first",
      ]],
    );
    const api = await (await app.request("/api/v1/models")).json();
    const late = api.models.find((m: { name: string }) => m.name === "late");
    assert.equal(late.aliasHistory[0].actor, "web UI");
  },

  "every page says whether a scheduler and workers are alive and what picks queued runs up": async (
    store,
  ) => {
    const { app } = await setup(store);
    const run = await createDagRun(store, demo, { executor: "distributed" });
    const queued = Number(
      (await store.db.query<{ n: number }>(
        "select count(*) as n from dag_runs where state = 'queued'",
      ))[0].n,
    );
    assert.ok(queued >= 1);
    for (const path of ["/", "/dags/web_demo", `/runs/${run.id}`, "/models", "/drift"]) {
      const html = await (await app.request(path)).text();
      assert.match(html, /<main><div id="liveness" role="alert"/, path);
      assert.match(html, /No scheduler is running/, path);
      assert.match(
        html,
        store.db.kind === "pglite"
          ? /restart this server with `deno task serve --scheduler`/
          : /start `deno task scheduler` and `deno task worker`/,
        path,
      );
      assert.match(html, new RegExp(`${queued} queued runs? will stay queued`), path);
    }
    const scheduler = new Heartbeat(store.db, "scheduler", "s1", "host-a");
    await scheduler.beat("leading");
    assert.match(
      await (await app.request("/")).text(),
      /A scheduler is running but no worker: tasks wait for `deno task worker`/,
    );
    const worker = new Heartbeat(store.db, "worker", "w1", "host-b");
    await worker.beat("idle");
    const ok = await (await app.request("/")).text();
    assert.match(
      ok,
      /role="status"[^>]*>● Scheduler leading on host-a \(pid \d+\) · 1 worker alive/,
    );
    assert.doesNotMatch(ok, /No scheduler is running/);
    await scheduler.stop();
    await worker.stop();
    // the JSON API is left as it is
    assert.doesNotMatch(await (await app.request("/api/v1/dags")).text(), /liveness/);
  },

  "the experiments page lists the runs of DAGs that declare an experiment, with report and CSV":
    async (store) => {
      const csvText =
        'kind,shift,n,detector,runs,rate\npower,"distance +0.5σ, ""far""",200,ks,2,1.0000\n';
      // found by its declaration: neither the DAG id nor the task id is one the web app knows
      const experiment = dag({
        id: "ablation",
        description: "which detector wins",
        experiment: { summaryTask: "tally", title: "Ablation study" },
      })
        .task("tally", {
          run: async (ctx) => ({
            artifact: await ctx.putArtifact("<html>heatmaps</html>"),
            csvArtifact: await ctx.putArtifact(csvText),
            cells: 2,
            csv: "/somewhere/summary.csv",
          }),
        });
      // the same task id and summary shape, but no declaration: not an experiment
      const undeclared = dag({ id: "not_an_experiment" })
        .task("tally", {
          run: async (ctx) => ({ csvArtifact: await ctx.putArtifact(csvText), cells: 1 }),
        });
      const { app, artifacts } = await setup(store, { more: [experiment, undeclared] });
      const empty = await (await app.request("/experiments")).text();
      assert.match(empty, /<h1>Ablation study<\/h1>/);
      assert.match(empty, /which detector wins/);
      assert.match(empty, /No experiment yet: <code>deno task run ablation<\/code>/);
      const run = await createDagRun(store, experiment);
      await new Executor({ store, artifacts }).runToEnd(experiment, run.id);
      const other = await createDagRun(store, undeclared);
      await new Executor({ store, artifacts }).runToEnd(undeclared, other.id);
      const page = await (await app.request("/experiments")).text();
      assert.match(page, new RegExp(`href="/experiments/${run.id}/summary.csv"`));
      assert.match(page, /href="\/artifacts\/sha256:[0-9a-f]{64}\?type=html">report \(HTML\)/);
      assert.match(page, new RegExp(`<h2>Latest: run ${run.id}</h2>`));
      assert.doesNotMatch(page, new RegExp(`href="/runs/${other.id}"`));
      const csv = await app.request(`/experiments/${run.id}/summary.csv`);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
      assert.equal(
        csv.headers.get("content-disposition"),
        `attachment; filename="ablation-${run.id}-summary.csv"`,
      );
      assert.equal(await csv.text(), csvText);
      assert.equal((await app.request(`/experiments/${other.id}/summary.csv`)).status, 404);
      const plain = await createDagRun(store, demo);
      assert.equal((await app.request(`/experiments/${plain.id}/summary.csv`)).status, 404);
      // a declared experiment's run whose summary is not there yet
      const pending = await createDagRun(store, experiment);
      const none = await app.request(`/experiments/${pending.id}/summary.csv`);
      assert.equal(none.status, 404);
      assert.deepEqual(await none.json(), { error: `run ${pending.id} has no summary yet` });
      // without any declaration the page says how to declare one
      const bare = (await setup(store)).app;
      assert.match(
        await (await bare.request("/experiments")).text(),
        /No DAG declares an experiment/,
      );
    },

  "a run page lists task instances in run order and shows params as formatted JSON": async (
    store,
  ) => {
    const { app, artifacts } = await setup(store);
    const ordered = dag({
      id: "ordered",
      params: z.object({ nested: z.object({ k: z.number() }).default({ k: 1 }) }),
    })
      .task("z_first", { run: () => 1 })
      .task("m_second", { deps: ["z_first"], run: () => 2 })
      .task("a_third", { deps: ["m_second"], run: () => 3 });
    await syncDag(store, ordered);
    const run = await createDagRun(store, ordered);
    await new Executor({ store, artifacts }).runToEnd(ordered, run.id);
    const page = await (await app.request(`/runs/${run.id}`)).text();
    const rows = [...page.matchAll(/<tr id="task-(\w+)"/g)].map((m) => m[1]);
    assert.deepEqual(rows, ["z_first", "m_second", "a_third"]);
    assert.match(page, /<pre class="json">\{\n {2}&quot;nested&quot;: \{\n {4}&quot;k&quot;: 1/);
  },

  "health, metrics and the OpenAPI document": async (store) => {
    const { app, artifacts } = await setup(store);
    const run = await createDagRun(store, demo);
    await new Executor({ store, artifacts }).runToEnd(demo, run.id);
    // no serving model configured (DRIFTFLOW_SERVE_MODEL unset): /health says so, and what to do
    const unset = await app.request("/health");
    assert.equal(unset.status, 200);
    const unsetBody = await unset.json();
    assert.equal(unsetBody.model, null);
    assert.match(unsetBody.note, /^no model configured: set DRIFTFLOW_SERVE_MODEL to the model/);
    const configured = (await setup(store, { serveModel: "not_registered" })).app;
    assert.deepEqual(await (await configured.request("/health")).json(), {
      status: "ok",
      store: store.db.kind,
      model: null,
      note: 'no model "not_registered" registered yet',
    });
    // a prediction or an evaluation that names no model, with none configured, says what is missing
    const predict = await app.request("/api/v1/predict", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ rows: [{ x: 1 }] }),
    });
    assert.equal(predict.status, 422);
    const predictBody = await predict.json();
    assert.equal(predictBody.fields[0].field, "model");
    assert.match(predictBody.fields[0].message, /no model named and no default configured/);
    const evaluation = await app.request("/api/v1/evaluation");
    assert.equal(evaluation.status, 400);
    assert.match((await evaluation.json()).fields[0].message, /DRIFTFLOW_SERVE_MODEL/);
    const metrics = await (await app.request("/metrics")).text();
    assert.match(metrics, /driftflow_runs\{dag="web_demo",state="success"\} \d+/);
    assert.match(
      metrics,
      /driftflow_task_duration_seconds_count\{dag="web_demo"\} \d+/,
    );
    const doc = await (await app.request("/api/v1/openapi.json")).json();
    assert.equal(doc.openapi, "3.1.0");
    for (
      const path of [
        "/dags",
        "/dags/{dagId}/runs",
        "/runs/{runId}",
        "/runs/{runId}/clear",
        "/runs/{runId}/tasks/{taskId}/logs",
        "/runs/{runId}/xcom",
      ]
    ) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
  },
});
