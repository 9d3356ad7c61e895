// The trigger form's JSON editors for nested params, signing in without losing a submitted form,
// and the run page's links to runs and artifacts — end to end through app.request.
import assert from "node:assert/strict";
import { z } from "zod";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { syncDag } from "../../runner/cli/common.ts";
import { dag, type DagDefinition } from "../../runner/dag.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import type { Store } from "../../runner/store/store.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { createApp } from "../../web/app.tsx";
import { storeSuite } from "../runner/helpers.ts";

const TOKEN = "form-token";
const ORIGIN = "http://localhost";
const browser = {
  "content-type": "application/x-www-form-urlencoded",
  origin: ORIGIN,
  accept: "text/html,application/xhtml+xml",
};
const auth = { authorization: `Bearer ${TOKEN}` };
const form = (fields: Record<string, string> | [string, string][]) =>
  new URLSearchParams(fields).toString();

const nested = dag({
  id: "web_nested",
  params: z.object({
    note: z.string().default("hi"),
    events: z.array(z.object({ atBatch: z.number().int().min(0), kind: z.string() }))
      .default([{ atBatch: 2, kind: "shift" }])
      .describe("drift injected at a batch"),
    policy: z.object({ alpha: z.number().gt(0).lt(1).default(0.05) }).default({ alpha: 0.05 }),
  }),
}).task("t", { run: (ctx) => ctx.params.events.length });

/** HTML text back to what was typed (the entities hono's JSX writes). */
function unescape(html: string): string {
  return html.replaceAll("&quot;", '"').replaceAll("&#39;", "'").replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

/** The hidden inputs of a page, in order. */
function hiddenFields(html: string): [string, string][] {
  return [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)"/g)]
    .map((m) => [unescape(m[1]), unescape(m[2])]);
}

async function setup(store: Store, more: DagDefinition[] = []) {
  const all = [nested, ...more];
  for (const d of all) await syncDag(store, d);
  const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
  const created: number[] = [];
  let registry: Promise<ModelRegistry> | undefined;
  const app = createApp({
    store,
    registry: () => (registry ??= ModelRegistry.open(store.db)),
    dags: () => new Map(all.map((d) => [d.id, d])),
    token: TOKEN,
    artifacts,
    onRunCreated: (id) => void created.push(id),
  });
  return { app, artifacts, created };
}

storeSuite("trigger form", {
  "nested params are JSON editors with the schema's description; JSON submitted creates the run":
    async (store) => {
      const { app, created } = await setup(store);
      const page = await (await app.request("/dags/web_nested/trigger")).text();
      // a multi-line editor pre-filled with the default as formatted JSON, the description beside
      assert.match(
        page,
        /<textarea id="param-events" name="param\.events"[^>]*>\n\[\n {2}\{\n {4}&quot;atBatch&quot;: 2,/,
      );
      assert.match(page, /<div class="description">drift injected at a batch<\/div>/);
      // the shape to write, from the schema, beside each editor
      assert.match(page, /<div class="muted outline">a list of \{atBatch, kind\}<\/div>/);
      assert.match(page, /<div class="muted outline">an object with alpha\?<\/div>/);
      assert.match(page, /<textarea id="param-policy"[^>]*>\n\{\n {2}&quot;alpha&quot;: 0.05\n\}/);
      assert.match(page, /<input id="param-note" name="param\.note" type="text"/, "a scalar stays");
      const events = [{ atBatch: 1, kind: "mean" }, { atBatch: 4, kind: "prior" }];
      const res = await app.request("/dags/web_nested/trigger", {
        method: "POST",
        headers: { ...browser, ...auth },
        body: form({
          "param.note": "n",
          "param.events": JSON.stringify(events, null, 2),
          "param.policy": '{"alpha": 0.01}',
          conf: "{}",
        }),
      });
      assert.equal(res.status, 303);
      const id = Number(res.headers.get("location")!.split("/").at(-1));
      assert.deepEqual(created, [id]);
      assert.deepEqual((await store.getRun(id))?.params, {
        note: "n",
        events,
        policy: { alpha: 0.01 },
      });
    },

  "invalid JSON or JSON the schema refuses: the field's error, the typed text kept, no run": async (
    store,
  ) => {
    const { app, created } = await setup(store);
    const typed = '[{"atBatch": 1, "kind": "mean"},\n oops]';
    const bad = await app.request("/dags/web_nested/trigger", {
      method: "POST",
      headers: { ...browser, ...auth },
      body: form({ "param.events": typed, "param.policy": '{"alpha": 2}', conf: "{}" }),
    });
    assert.equal(bad.status, 422);
    const html = await bad.text();
    assert.match(html, /<div class="error" id="param-events-error">not valid JSON \(/);
    assert.ok(
      html.includes(
        `name="param.events"`,
      ) && unescape(html).includes(`>\n${typed}</textarea>`),
      "the typed text is shown again as typed",
    );
    // the other field's problem, from the server's issues, at the same time
    assert.match(html, /<div class="error" id="param-policy-error">alpha: Too big/);
    assert.ok(unescape(html).includes('>\n{"alpha": 2}</textarea>'));
    assert.deepEqual(created, [], "no run is made from a form with a broken field");
    // conf that is not an object: its error, and the params' problems at the same time
    const badConf = await app.request("/dags/web_nested/trigger", {
      method: "POST",
      headers: { ...browser, ...auth },
      body: form({ "param.policy": '{"alpha": 2}', conf: "[1]" }),
    });
    assert.equal(badConf.status, 422);
    const badConfHtml = await badConf.text();
    assert.match(badConfHtml, /conf must be a JSON object/);
    assert.match(badConfHtml, /id="param-policy-error">alpha: Too big/);
    assert.deepEqual(created, []);
    // valid JSON of the wrong shape: the server's issue under the field, the text kept
    const shape = await app.request("/dags/web_nested/trigger", {
      method: "POST",
      headers: { ...browser, ...auth },
      body: form({ "param.events": '[{"atBatch": -1, "kind": "x"}]', conf: "{}" }),
    });
    assert.equal(shape.status, 422);
    const shapeHtml = await shape.text();
    assert.match(shapeHtml, /id="param-events-error">0\.atBatch: Too small: expected number/);
    assert.ok(unescape(shapeHtml).includes('>\n[{"atBatch": -1, "kind": "x"}]</textarea>'));
    assert.deepEqual(created, []);
  },

  "a form sent without a session is kept through signing in and then creates the run": async (
    store,
  ) => {
    const { app, created } = await setup(store);
    const typed = {
      "param.note": "typed before signing in",
      "param.events": '[\n  {"atBatch": 7, "kind": "late"}\n]',
      "param.policy": '{"alpha": 0.2}',
      conf: '{"who": "me"}',
    };
    const anon = await app.request("/dags/web_nested/trigger", {
      method: "POST",
      headers: browser,
      body: form(typed),
    });
    assert.equal(anon.status, 401);
    const signIn = await anon.text();
    assert.match(signIn, /<form method="post" action="\/login">/);
    const kept = hiddenFields(signIn);
    assert.deepEqual(kept[0], ["next", "/dags/web_nested/trigger"]);
    assert.equal(kept[1][0], "carried");
    assert.deepEqual(JSON.parse(kept[1][1]), Object.entries(typed));
    assert.deepEqual(created, []);
    // a wrong token: asked again, the form still kept
    const wrong = await app.request("/login", {
      method: "POST",
      headers: browser,
      body: form([...kept, ["token", "nope"]]),
    });
    assert.equal(wrong.status, 401);
    assert.deepEqual(hiddenFields(await wrong.text()), kept);
    // the right token: signed in, and the form is shown with a button that sends it where it went
    const login = await app.request("/login", {
      method: "POST",
      headers: browser,
      body: form([...kept, ["token", TOKEN]]),
    });
    assert.equal(login.status, 200);
    const cookie = login.headers.get("set-cookie")!.split(";")[0];
    const again = await login.text();
    assert.match(again, /<form method="post" action="\/dags\/web_nested\/trigger">/);
    assert.ok(unescape(again).includes("typed before signing in"), "what was typed is shown");
    const resent = hiddenFields(again);
    assert.deepEqual(resent, Object.entries(typed));
    const sent = await app.request("/dags/web_nested/trigger", {
      method: "POST",
      headers: { ...browser, cookie },
      body: form(resent),
    });
    assert.equal(sent.status, 303);
    const id = Number(sent.headers.get("location")!.split("/").at(-1));
    assert.deepEqual(created, [id]);
    const run = await store.getRun(id);
    assert.deepEqual(run?.params, {
      note: "typed before signing in",
      events: [{ atBatch: 7, kind: "late" }],
      policy: { alpha: 0.2 },
    });
    assert.deepEqual(run?.conf, { who: "me" });
    // the kept form only ever goes back to a path on this site
    const away = await app.request("/login", {
      method: "POST",
      headers: browser,
      body: form([["next", "//evil.example/x"], ["carried", '[["a","b"]]'], ["token", TOKEN]]),
    });
    assert.match(await away.text(), /<form method="post" action="\/">/);
  },

  "the run page links run ids and artifact keys that exist, and the link downloads the bytes":
    async (store) => {
      const child = dag({ id: "web_child" }).task("c", { run: () => 1 });
      const bytes = "col,value\na,1\n";
      const gone = `sha256:${"0".repeat(64)}`;
      const parent = dag({
        id: "web_parent",
        params: z.object({ input: z.string().default(gone) }),
      })
        .triggerDag("kick", { dagId: child.id, wait: true })
        .task("report", {
          run: async (ctx) => ({
            artifact: await ctx.putArtifact(bytes),
            html: await ctx.putArtifact("<html>r</html>"),
            missing: gone,
            path: "out/report.html",
            runId: 987_654,
          }),
        });
      const { app, artifacts } = await setup(store, [child, parent]);
      const run = await createDagRun(store, parent, {});
      const dags = new Map([child, parent].map((d) => [d.id, d] as const));
      await new Executor({ store, artifacts, resolveDag: (x) => dags.get(x) })
        .runToEnd(parent, run.id);
      const childRun = (await store.listRuns(child.id))[0];
      assert.ok(childRun, "the trigger task made a run");
      const page = await (await app.request(`/runs/${run.id}`)).text();
      // the trigger task's target run is a link
      assert.match(
        page,
        new RegExp(`&quot;runId&quot;: <a class="run-link" href="/runs/${childRun.id}">`),
      );
      // an artifact key the store has links to its download; an HTML one opens sandboxed
      const xcom = (await store.xcoms(run.id)).find((x) => x.taskId === "report")!;
      const { artifact, html } = xcom.value as { artifact: string; html: string };
      assert.match(page, new RegExp(`<a class="artifact-link" href="/artifacts/${artifact}"`));
      assert.match(
        page,
        new RegExp(`<a class="artifact-link" href="/artifacts/${html}\\?type=html"`),
      );
      // what is not a stored artifact or an existing run stays text
      assert.ok(!page.includes(`href="/artifacts/${gone}"`), "a key not in the store is text");
      assert.match(page, /&quot;input&quot;: &quot;sha256:0{64}&quot;/);
      assert.ok(!page.includes('href="/runs/987654"'), "a run that does not exist is text");
      assert.match(page, /&quot;path&quot;: &quot;out\/report\.html&quot;/);
      // the link downloads the bytes
      const download = await app.request(`/artifacts/${artifact}`);
      assert.equal(download.status, 200);
      assert.equal(await download.text(), bytes);
      // the triggered run links back to the run that triggered it
      const childPage = await (await app.request(`/runs/${childRun.id}`)).text();
      assert.match(
        childPage,
        new RegExp(`triggered by <a class="run-link" href="/runs/${run.id}">run ${run.id}</a>`),
      );
    },
});
