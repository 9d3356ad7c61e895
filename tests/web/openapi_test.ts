// The OpenAPI document (every operation summarised, every security reference defined) and the
// readable API reference page at /api rendered from it, offline.
import assert from "node:assert/strict";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { createApp } from "../../web/app.tsx";
import { ApiDocument, typeText } from "../../web/pages/api_reference.tsx";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { storeSuite } from "../runner/helpers.ts";
import type { Store } from "../../runner/store/store.ts";

async function app(store: Store) {
  let registry: Promise<ModelRegistry> | undefined;
  return createApp({
    store,
    registry: () => (registry ??= ModelRegistry.open(store.db)),
    dags: () => new Map(),
    token: "t",
    artifacts: new LocalArtifactStore(await Deno.makeTempDir()),
  });
}

type Doc = {
  paths: Record<string, Record<string, { summary?: string; security?: Record<string, []>[] }>>;
  security?: Record<string, []>[];
  components: { securitySchemes?: Record<string, { type: string; scheme?: string }> };
};

storeSuite("openapi", {
  "every operation has a summary; every security reference names a defined scheme": async (s) => {
    const doc = await (await (await app(s)).request("/api/v1/openapi.json")).json() as Doc;
    const schemes = doc.components.securitySchemes ?? {};
    assert.deepEqual(
      { type: schemes.bearer?.type, scheme: schemes.bearer?.scheme },
      { type: "http", scheme: "bearer" },
    );
    const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => ({ where: `${method} ${path}`, op }))
    );
    assert.ok(ops.length >= 18, `the document lists the API's operations (got ${ops.length})`);
    const refs = [...(doc.security ?? [])];
    for (const { where, op } of ops) {
      assert.ok(op.summary && op.summary.trim().length > 0, `${where} has a summary`);
      refs.push(...(op.security ?? []));
      // a mutating request needs the token (requireAuth), and the document says so
      if (!where.startsWith("get ")) {
        assert.ok(op.security?.some((r) => "bearer" in r), `${where} documents its bearer auth`);
      }
    }
    assert.ok(refs.length > 0, "the document references a security scheme");
    for (const ref of refs) {
      for (const name of Object.keys(ref)) {
        assert.ok(name in schemes, `security reference "${name}" is defined`);
      }
    }
  },

  "the /api page renders the reference from the document, with nothing from other hosts": async (
    s,
  ) => {
    const web = await app(s);
    const res = await web.request("/api");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.match(html, /<title>API · Driftflow<\/title>/);
    assert.match(
      html,
      /id="post-predict"[^]*?>POST<\/span> <code>\/api\/v1\/predict<\/code> <span class="summary">Predict rows with a model version or alias<\/span>/,
    );
    assert.match(html, /href="\/api\/v1\/openapi\.json"/, "links the machine-readable document");
    assert.match(html, /DRIFTFLOW_TOKEN/);
    // request body fields, parameters and responses of an operation
    assert.match(html, /id="post-dags-dagId-runs"[^]*?<code>logicalDate<\/code>/);
    assert.match(html, /<code>limit<\/code><\/td><td>query<\/td>/);
    assert.match(html, /<td>404<\/td><td>No such DAG<\/td>/);
    assert.match(html, /id="schema-PredictRequest"/);
    // every documented operation is on the page
    const doc = ApiDocument.parse(await (await web.request("/api/v1/openapi.json")).json());
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        assert.ok(html.includes(`<code>/api/v1${path}</code>`), `${method} ${path} is listed`);
      }
    }
    // offline: no script, stylesheet, image or frame loaded from anywhere, and no other host named
    assert.doesNotMatch(html, /<script[^>]*\bsrc=/i);
    assert.doesNotMatch(html, /<link[^>]*\bhref=/i);
    assert.doesNotMatch(html, /<(img|iframe)\b/i);
    assert.doesNotMatch(html, /https?:\/\//i, "no absolute URL to any host");
    // the nav's API link opens the page, not raw JSON
    assert.match(await (await web.request("/")).text(), /<a href="\/api">API<\/a>/);
  },

  "a schema reads as one line of types": () => {
    assert.equal(
      typeText({
        type: "object",
        properties: {
          rows: { type: "array", items: { type: "object" } },
          model: { type: "string" },
          version: { type: ["integer", "null"] },
          req: { $ref: "#/components/schemas/PredictRequest" },
        },
        required: ["rows", "version"],
      }),
      "{ rows: object[], model?: string, version: integer | null, req?: PredictRequest }",
    );
    return Promise.resolve();
  },
});
