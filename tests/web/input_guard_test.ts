// Issue 12 item 11, the web parts: the sign-in redirect stays on this site; ids beyond PostgreSQL's
// int and absurd page numbers are 400 on every route that takes them (pages and API), never 500;
// text PostgreSQL cannot store is refused at the door; /metrics has no series per task id.
import assert from "node:assert/strict";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { dag } from "../../runner/dag.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import type { Store } from "../../runner/store/store.ts";
import { createApp } from "../../web/app.tsx";
import { intId, pageNumber } from "../../web/services/input_guard.ts";
import { sameSitePath } from "../../web/security.ts";
import { storeSuite } from "../runner/helpers.ts";
import { seedRuns } from "./seed.ts";

const TOKEN = "test-token";
const ORIGIN = "http://localhost";
const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };

// 300 task ids: /metrics must not grow with them
const wide = Array.from({ length: 300 }, (_, i) => `t${i}`).reduce(
  (d, id) => d.task(id, { run: () => 1 }),
  dag({ id: "wide", description: "many tasks" }),
);

async function setup(store: Store) {
  const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
  let registry: Promise<ModelRegistry> | undefined;
  return createApp({
    store,
    registry: () => (registry ??= ModelRegistry.open(store.db)),
    dags: () => new Map([[wide.id, wide]]),
    token: TOKEN,
    artifacts,
  });
}

Deno.test("sameSitePath keeps paths on this site and nothing else", () => {
  for (
    const evil of [
      "/\\evil.example",
      "//evil.example",
      "/\\/evil.example",
      "/\t/evil.example",
      "/\n/evil.example",
      "/.//evil.example",
      "https://evil.example/",
      "\\\\evil.example",
      "javascript:alert(1)",
      " /x",
      "",
    ]
  ) {
    assert.equal(sameSitePath(evil), "/", JSON.stringify(evil));
  }
  assert.equal(sameSitePath(undefined), "/");
  assert.equal(sameSitePath("/dags/x?page=2#top"), "/dags/x?page=2#top");
  assert.equal(sameSitePath("/runs/3"), "/runs/3");
});

Deno.test("intId and pageNumber take only what PostgreSQL's int can hold", () => {
  assert.equal(intId("42"), 42);
  assert.equal(intId("2147483647"), 2147483647);
  for (const bad of ["2147483648", "99999999999", "1e3", "0", "-1", "1.5", " 1", ""]) {
    assert.equal(intId(bad), null, bad);
  }
  assert.equal(pageNumber(undefined), 0);
  assert.equal(pageNumber("3"), 3);
  for (const bad of ["1e308", "-1", "1.5", "Infinity", "NaN", "99999999"]) {
    assert.equal(pageNumber(bad), null, bad);
  }
});

storeSuite("web input guard", {
  "the sign-in redirect never leaves the site": async (store) => {
    const app = await setup(store);
    for (const next of ["/\\evil.example", "//evil.example", "/\t/evil.example"]) {
      const page = await (await app.request(`/login?next=${encodeURIComponent(next)}`)).text();
      assert.doesNotMatch(page, /evil\.example/, next);
      const res = await app.request("/login", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
        body: new URLSearchParams({ token: TOKEN, next }).toString(),
      });
      assert.equal(res.status, 303);
      assert.equal(res.headers.get("location"), "/", next);
    }
    const ok = await app.request("/login", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ token: TOKEN, next: "/dags/wide" }).toString(),
    });
    assert.equal(ok.headers.get("location"), "/dags/wide");
  },

  "ids over 2³¹ and page=1e308 are 400 on pages and API": async (store) => {
    const app = await setup(store);
    await seedRuns(store, wide, 2);
    const big = "2147483648", huge = "99999999999999999999";
    const gets = [
      `/runs/${big}`,
      `/runs/${huge}`,
      `/runs/1e3`,
      `/runs/${big}/events`,
      `/runs/${big}/tasks/t1/logs`,
      `/runs/1/tasks/t1/logs?try=${big}`,
      `/dags/wide?page=1e308`,
      `/dags/wide?page=-1`,
      `/dags/wide?page=${big}`,
      `/api/v1/runs/${big}`,
      `/api/v1/runs/${big}/tasks`,
      `/api/v1/runs/${big}/xcom`,
      `/api/v1/runs/${big}/tasks/t1/logs`,
      `/api/v1/runs/1/tasks/t1/logs?try=${big}`,
      `/api/v1/dags/wide/runs?offset=1e308`,
      `/api/v1/dags/wide/runs?offset=${huge}`,
      `/api/v1/dags/wide/runs?limit=1e308`,
      `/api/v1/alerts?offset=1e308`,
      `/api/v1/drift/${big}/report`,
    ];
    for (const path of gets) {
      const res = await app.request(path, { headers: auth });
      assert.equal(res.status, 400, `${path}: ${await res.text()}`);
    }
    const posts: [string, string, Record<string, string>][] = [
      [`/runs/${big}/clear`, "task=t1", {
        "content-type": "application/x-www-form-urlencoded",
        origin: ORIGIN,
      }],
      [`/api/v1/runs/${big}/clear`, "{}", {}],
    ];
    for (const [path, body, headers] of posts) {
      const res = await app.request(path, {
        method: "POST",
        body,
        headers: { ...auth, ...headers },
      });
      assert.equal(res.status, 400, `${path}: ${await res.text()}`);
    }
    // the good ones still work
    assert.equal((await app.request("/dags/wide?page=0")).status, 200);
    assert.equal((await app.request("/dags/wide?page=1000000")).status, 200);
    assert.equal((await app.request("/api/v1/dags/wide/runs?offset=5")).status, 200);
    assert.equal((await app.request("/runs/2147483647")).status, 404);
    assert.equal((await app.request("/api/v1/runs/2147483647")).status, 404);
    const doc = await (await app.request("/api/v1/openapi.json")).json();
    for (const path of ["/runs/{runId}", "/dags/{dagId}/runs", "/alerts", "/drift/{id}/report"]) {
      assert.ok(doc.paths[path].get.responses["400"], `openapi documents the 400 of ${path}`);
    }
  },

  "text PostgreSQL cannot store is refused: 400 in the URL, 422 in a body": async (store) => {
    const app = await setup(store);
    const runsBefore = (await store.listRuns("wide", { limit: 100, offset: 0 })).length;
    for (const path of ["/dags/wi%00de", "/api/v1/dags/wi%00de/runs", "/drift?stream=%00"]) {
      assert.equal((await app.request(path)).status, 400, path);
    }
    const res = await app.request("/api/v1/dags/wide/runs", {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ conf: { note: "a\u0000b" } }),
    });
    assert.equal(res.status, 422);
    assert.deepEqual((await res.json()).fields.map((f: { field: string }) => f.field), [
      "conf.note",
    ]);
    const form = await app.request("/dags/wide/trigger", {
      method: "POST",
      headers: { ...auth, "content-type": "application/x-www-form-urlencoded", origin: ORIGIN },
      body: new URLSearchParams({ conf: '{"x":"\\u0000"}' }).toString(),
    });
    assert.equal(form.status, 422);
    assert.match(await form.text(), /NUL/);
    assert.equal((await store.listRuns("wide", { limit: 100, offset: 0 })).length, runsBefore);
  },

  "/metrics has bounded label sets: no series per task id": async (store) => {
    const app = await setup(store); // the 2 runs of 300 tasks seeded above
    const text = await (await app.request("/metrics")).text();
    assert.doesNotMatch(text, /task="/);
    assert.match(text, /driftflow_task_duration_seconds_count\{dag="wide"\} 600/);
    const series = text.split("\n").filter((l) => l && !l.startsWith("#"));
    assert.ok(series.length < 20, `${series.length} series for one DAG of 300 tasks`);
  },
});
