/**
 * The JSON API under /api/v1, with its OpenAPI document generated from the zod schemas: DAGs, runs
 * (list, get, trigger with conf, clear), task instances, logs and XCom. Runs and task instances use
 * the same documents as `deno task runs --json`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { ModelRegistry } from "../../models/registry/registry.ts";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { dag } from "../../runner/dag.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { apiRoutes } from "./routes.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const example = dag({ id: "example", params: z.object({ batchSize: z.number().default(1) }) })
 *     .task("extract", { run: (ctx) => ctx.params.batchSize });
 *   const api = apiRoutes({ // the web app mounts it at /api/v1, behind its token check
 *     store,
 *     dags: () => new Map([[example.id, example]]),
 *     token: "s3cret",
 *     artifacts: new LocalArtifactStore(dir),
 *     registry: () => ModelRegistry.open(store.db),
 *   });
 *   const trigger = (params: unknown) =>
 *     api.request("/dags/example/runs", {
 *       method: "POST",
 *       headers: { "content-type": "application/json" },
 *       body: JSON.stringify({ params }),
 *     });
 *   const res = await trigger({ batchSize: 10 });
 *   assert.equal(res.status, 201);
 *   assert.deepEqual((await res.json()).params, { batchSize: 10 });
 *   const bad = await trigger({ batchSize: "ten" });
 *   assert.equal(bad.status, 422);
 *   assert.equal((await bad.json()).fields[0].field, "params.batchSize");
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { RunJson, runsJson, TaskJson } from "../../runner/cli/runs_json.ts";
import { AssetUri, recordAssetEvent } from "../../runner/assets.ts";
import { tasksToClear } from "../../runner/clear.ts";
import { ParamsError } from "../../runner/params.ts";
import { createDagRun } from "../../runner/runs.ts";
import { RunExistsError } from "../../runner/store/store.ts";
import type { PredictionLog } from "../../models/serving/prediction_log.ts";
import type { PredictionService } from "../../models/serving/service.ts";
import type { WebDeps } from "../services/deps.ts";
import { monitoringRoutes } from "./monitoring_routes.ts";
import { ID, OFFSET, storableJson } from "../services/input_guard.ts";

/** A 422 body: one message per bad field. */
export const ValidationError = z.object({
  error: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })),
}).openapi("ValidationError");

const ErrorBody = z.object({ error: z.string() }).openapi("Error");
/** The 400 of a route with ids or offsets in its path or query. */
const badRequest = {
  400: {
    content: { "application/json": { schema: ValidationError } },
    description: "A bad path or query: an id over 2³¹ − 1, an offset or limit out of range",
  },
};

const DagJson = z.object({
  dagId: z.string(),
  description: z.string().nullable(),
  schedule: z.string().nullable(),
  timezone: z.string(),
  isPaused: z.boolean(),
  fileloc: z.string().nullable(),
  lastRunId: z.number().int().nullable(),
  lastRunState: z.string().nullable(),
  paramsSchema: z.unknown(),
}).openapi("Dag");

const RunWithStructure = RunJson.extend({ structure: z.unknown() }).openapi("Run");
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
const runIdParam = z.object({
  runId: ID.openapi({ param: { name: "runId", in: "path" } }),
});
const dagIdParam = z.object({
  dagId: z.string().min(1).openapi({ param: { name: "dagId", in: "path" } }),
});

/** How mutating routes authenticate (GET, HEAD and OPTIONS need no token). */
const BEARER_SCHEME = {
  type: "http" as const,
  scheme: "bearer",
  description: "The server's DRIFTFLOW_TOKEN as `Authorization: Bearer <token>`, or the session " +
    "cookie set by signing in at /login. Needed by every mutating request; reads are open.",
};

/** The document's header; the paths and components come from the routes. */
export const OPENAPI_CONFIG: Parameters<OpenAPIHono["getOpenAPI31Document"]>[0] = {
  openapi: "3.1.0",
  info: {
    title: "Driftflow API",
    version: "1",
    description:
      "DAGs, runs, task instances, logs, XCom, models, drift batches and reports, alerts, predictions and feedback",
  },
  servers: [{ url: "/api/v1" }],
};

/** The API app; mount it at /api/v1. */
export function apiRoutes(
  deps: WebDeps,
  serving?: () => Promise<{ service: PredictionService; log: PredictionLog }>,
): OpenAPIHono {
  const { store } = deps;
  const api = new OpenAPIHono({
    // a bad path or query (an id over 2³¹, page=1e308) is a malformed request: 400; a body
    // that parses but does not validate: 422
    defaultHook: (result, c) => {
      if (result.success) return;
      const where = "target" in result && (result.target === "param" || result.target === "query")
        ? result.target
        : "json";
      return c.json({
        error: where === "json"
          ? "invalid request"
          : `invalid ${where === "param" ? "path" : "query"}`,
        fields: result.error.issues.map((i) => ({
          field: i.path.join(".") || (where === "json" ? "(body)" : `(${where})`),
          message: i.message,
        })),
      }, where === "json" ? 422 : 400);
    },
  });
  api.use("*", storableJson());

  const runDoc = async (runId: number) => {
    const run = await store.getRun(runId);
    if (!run) return null;
    const [tis, tries, structure] = await Promise.all([
      store.taskInstances(runId),
      store.tries(runId),
      store.structure(run.structureHash),
    ]);
    return { ...runsJson(run.dagId, [run], tis, tries).runs[0], structure };
  };

  api.openapi(
    createRoute({
      method: "get",
      path: "/dags",
      summary: "List the loaded DAGs with their last run and params schema",
      tags: ["DAGs"],
      responses: { 200: json(z.object({ dags: z.array(DagJson) }), "The DAGs") },
    }),
    async (c) => {
      const loaded = deps.dags();
      const dags = (await store.listDags()).filter((d) => loaded.has(d.dagId));
      return c.json({ dags: dags.map(({ structureHash: _, ...d }) => d) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "patch",
      path: "/dags/{dagId}",
      summary: "Pause or unpause a DAG",
      tags: ["DAGs"],
      security: [{ bearer: [] }],
      request: {
        params: dagIdParam,
        body: { content: { "application/json": { schema: z.object({ isPaused: z.boolean() }) } } },
      },
      responses: {
        200: json(z.object({ dagId: z.string(), isPaused: z.boolean() }), "Paused or unpaused"),
        404: json(ErrorBody, "No such DAG"),
        422: json(ValidationError, "Invalid"),
      },
    }),
    async (c) => {
      const { dagId } = c.req.valid("param");
      if (!deps.dags().has(dagId)) return c.json({ error: `no DAG "${dagId}"` }, 404);
      const { isPaused } = c.req.valid("json");
      await store.setPaused(dagId, isPaused);
      return c.json({ dagId, isPaused }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/dags/{dagId}/runs",
      summary: "List a DAG's runs, newest first",
      tags: ["Runs"],
      request: {
        params: dagIdParam,
        query: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(25),
          offset: OFFSET.default(0),
        }),
      },
      responses: {
        200: json(z.object({ runs: z.array(RunJson) }), "Runs, newest first"),
        ...badRequest,
      },
    }),
    async (c) => {
      const { dagId } = c.req.valid("param");
      const { limit, offset } = c.req.valid("query");
      const runs = await store.listRuns(dagId, { limit, offset });
      const ids = runs.map((r) => r.id);
      const [tis, tries] = await Promise.all([
        store.taskInstancesOfRuns(ids),
        store.triesOfRuns(ids),
      ]);
      return c.json({ runs: runsJson(dagId, runs, tis, tries).runs }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/dags/{dagId}/runs",
      summary: "Trigger a run with params and conf",
      tags: ["Runs"],
      security: [{ bearer: [] }],
      request: {
        params: dagIdParam,
        body: {
          content: {
            "application/json": {
              schema: z.object({
                conf: z.record(z.string(), z.unknown()).default({}),
                params: z.record(z.string(), z.unknown()).default({}),
                logicalDate: z.string().datetime().optional(),
              }),
            },
          },
        },
      },
      responses: {
        201: json(RunWithStructure, "The new run, queued for the scheduler"),
        404: json(ErrorBody, "No such DAG"),
        409: json(ErrorBody, "A run at that logical date exists"),
        422: json(ValidationError, "Invalid params"),
      },
    }),
    async (c) => {
      const { dagId } = c.req.valid("param");
      const dag = deps.dags().get(dagId);
      if (!dag) return c.json({ error: `no DAG "${dagId}"` }, 404);
      const body = c.req.valid("json");
      try {
        const run = await createDagRun(store, dag, {
          conf: body.conf,
          params: body.params,
          logicalDate: body.logicalDate ? new Date(body.logicalDate) : undefined,
          executor: "distributed",
        });
        await deps.onRunCreated?.(run.id);
        return c.json((await runDoc(run.id))!, 201);
      } catch (e) {
        if (e instanceof ParamsError) {
          return c.json({
            error: `invalid params for dag "${dagId}"`,
            fields: e.lines.map((l) => {
              const [field, ...rest] = l.split(": ");
              return { field, message: rest.join(": ") };
            }),
          }, 422);
        }
        if (e instanceof RunExistsError) return c.json({ error: e.message }, 409);
        throw e;
      }
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/runs/{runId}",
      summary: "Get a run with its task instances, tries and graph",
      tags: ["Runs"],
      request: { params: runIdParam },
      responses: {
        ...badRequest,
        200: json(RunWithStructure, "The run with its task instances, tries and graph"),
        404: json(ErrorBody, "No such run"),
      },
    }),
    async (c) => {
      const doc = await runDoc(c.req.valid("param").runId);
      return doc ? c.json(doc, 200) : c.json({ error: "no such run" }, 404);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/runs/{runId}/tasks",
      summary: "List a run's task instances with their tries",
      tags: ["Runs"],
      request: { params: runIdParam },
      responses: {
        ...badRequest,
        200: json(z.object({ tasks: z.array(TaskJson) }), "Task instances with their tries"),
        404: json(ErrorBody, "No such run"),
      },
    }),
    async (c) => {
      const doc = await runDoc(c.req.valid("param").runId);
      return doc ? c.json({ tasks: doc.tasks }, 200) : c.json({ error: "no such run" }, 404);
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/runs/{runId}/clear",
      summary: "Clear tasks (and optionally downstream or failed ones) to run again",
      tags: ["Runs"],
      security: [{ bearer: [] }],
      request: {
        params: runIdParam,
        body: {
          content: {
            "application/json": {
              schema: z.object({
                taskIds: z.array(z.string()).optional(),
                downstream: z.boolean().default(false),
                onlyFailed: z.boolean().default(false),
              }),
            },
          },
        },
      },
      responses: {
        200: json(z.object({ cleared: z.array(z.string()) }), "Cleared; the run is queued again"),
        ...badRequest,
        404: json(ErrorBody, "No such run"),
        422: json(ValidationError, "Unknown task"),
      },
    }),
    async (c) => {
      const { runId } = c.req.valid("param");
      const body = c.req.valid("json");
      const run = await store.getRun(runId);
      const structure = run && await store.structure(run.structureHash);
      if (!run || !structure) return c.json({ error: "no such run" }, 404);
      let ids: string[];
      try {
        let named = body.taskIds;
        if (body.onlyFailed) {
          named = [
            ...new Set(
              (await store.taskInstances(runId))
                .filter((t) => t.state === "failed" || t.state === "upstream_failed").map((t) =>
                  t.taskId
                ),
            ),
          ];
          if (named.length === 0) return c.json({ cleared: [] }, 200);
        }
        ids = tasksToClear(structure, named, body.downstream || body.onlyFailed);
      } catch (e) {
        return c.json({
          error: "invalid request",
          fields: [{ field: "taskIds", message: (e as Error).message }],
        }, 422);
      }
      await store.clear(runId, ids);
      await deps.onRunCreated?.(runId);
      return c.json({ cleared: ids }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/runs/{runId}/tasks/{taskId}/logs",
      summary: "Read a task try's log",
      tags: ["Runs"],
      request: {
        params: runIdParam.extend({
          taskId: z.string().openapi({ param: { name: "taskId", in: "path" } }),
        }),
        query: z.object({ try: ID.optional() }),
      },
      responses: {
        ...badRequest,
        200: json(
          z.object({
            lines: z.array(
              z.object({
                ts: z.string(),
                stream: z.string(),
                line: z.string(),
                mapIndex: z.number(),
                tryNumber: z.number(),
              }),
            ),
          }),
          "A try's log (the latest by default)",
        ),
      },
    }),
    async (c) => {
      const { runId, taskId } = c.req.valid("param");
      const lines = await store.logs(runId, taskId, c.req.valid("query").try);
      return c.json({ lines: lines.map((l) => ({ ...l, ts: l.ts.toISOString() })) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/runs/{runId}/xcom",
      summary: "List a run's XComs",
      tags: ["Runs"],
      request: { params: runIdParam },
      responses: {
        ...badRequest,
        200: json(
          z.object({
            xcoms: z.array(
              z.object({
                taskId: z.string(),
                mapIndex: z.number(),
                value: z.unknown(),
                artifact: z.string().nullable(),
                sizeBytes: z.number(),
              }),
            ),
          }),
          "The run's XComs (large ones by artifact key)",
        ),
      },
    }),
    async (c) => {
      const xcoms = await store.xcoms(c.req.valid("param").runId);
      return c.json({ xcoms: xcoms.map(({ key: _, ...x }) => x) }, 200);
    },
  );

  const ModelVersionJson = z.object({
    name: z.string(),
    version: z.number().int(),
    algo: z.string(),
    task: z.string(),
    params: z.record(z.string(), z.unknown()),
    metrics: z.record(z.string(), z.number()),
    columns: z.unknown(),
    fingerprint: z.object({ rows: z.number(), sha256: z.string() }),
    artifacts: z.record(z.string(), z.string()),
    lineage: z.object({ runId: z.number(), taskId: z.string() }).nullable(),
    createdAt: z.string(),
    aliases: z.array(z.string()),
  }).openapi("ModelVersion");
  api.openapi(
    createRoute({
      method: "get",
      path: "/models",
      summary: "List registered models, versions, aliases and alias moves",
      tags: ["Models"],
      responses: {
        200: json(
          z.object({
            models: z.array(z.object({
              name: z.string(),
              description: z.string(),
              versions: z.array(ModelVersionJson),
              aliasHistory: z.array(z.object({
                alias: z.string(),
                fromVersion: z.number().nullable(),
                toVersion: z.number().nullable(),
                reason: z.string(),
                runId: z.number().nullable(),
                actor: z.string(),
                at: z.string(),
              })),
            })),
          }),
          "Registered models, versions, aliases and alias moves",
        ),
      },
    }),
    async (c) => {
      const registry = await deps.registry();
      const models = await registry.models();
      return c.json({
        models: await Promise.all(models.map(async (m) => ({
          ...m,
          versions: m.versions.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
          aliasHistory: (await registry.aliasHistory(m.name)).map(({ name: _, ...h }) => ({
            ...h,
            at: h.at.toISOString(),
          })),
        }))),
      }, 200);
    },
  );

  const AliasMoveJson = z.object({
    name: z.string(),
    alias: z.string(),
    fromVersion: z.number().int().nullable(),
    toVersion: z.number().int().nullable(),
    reason: z.string(),
    actor: z.string(),
  }).openapi("AliasMove");
  api.openapi(
    createRoute({
      method: "post",
      path: "/models/{name}/aliases",
      tags: ["Models"],
      security: [{ bearer: [] }],
      summary: "Point an alias at a version (promote, roll back) or remove it",
      request: {
        params: z.object({
          name: z.string().min(1).openapi({ param: { name: "name", in: "path" } }),
        }),
        body: {
          content: {
            "application/json": {
              schema: z.object({
                alias: z.string().regex(
                  /^[A-Za-z][A-Za-z0-9_.-]*$/,
                  "start with a letter; letters, digits, _, - and . only",
                ),
                version: z.number().int().positive().nullable().describe(
                  "the version to point at; null removes the alias",
                ),
                reason: z.string().trim().min(1, "say why the alias moves").max(500),
                by: z.string().trim().min(1).max(100).optional().describe(
                  "who moves it (default: api)",
                ),
              }).strict(),
            },
          },
        },
      },
      responses: {
        200: json(AliasMoveJson, "The alias moved; the move is in the alias history"),
        404: json(ErrorBody, "No such model, or no such version"),
        422: json(ValidationError, "Invalid request"),
      },
    }),
    async (c) => {
      const { name } = c.req.valid("param");
      const body = c.req.valid("json");
      const registry = await deps.registry();
      const versions = await registry.versions(name);
      if (versions.length === 0) return c.json({ error: `no model "${name}" is registered` }, 404);
      if (body.version !== null && !versions.some((v) => v.version === body.version)) {
        return c.json({
          error: `model "${name}" has no version ${body.version}; versions: ${
            versions.map((v) => v.version).join(", ")
          }`,
        }, 404);
      }
      const from = versions.find((v) => v.aliases.includes(body.alias))?.version ?? null;
      if (body.version === null && from === null) {
        return c.json({ error: `model "${name}" has no alias "${body.alias}"` }, 404);
      }
      const actor = body.by ?? "api";
      await registry.setAlias(name, body.alias, body.version, { reason: body.reason, actor });
      return c.json({
        name,
        alias: body.alias,
        fromVersion: from,
        toVersion: body.version,
        reason: body.reason,
        actor,
      }, 200);
    },
  );

  const AssetEventJson = z.object({
    id: z.number().int(),
    uri: z.string(),
    source: z.string(),
    extra: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  }).openapi("AssetEvent");
  api.openapi(
    createRoute({
      method: "post",
      path: "/assets/events",
      summary: "Record an asset event (wakes DAGs scheduled on the asset)",
      tags: ["Assets"],
      security: [{ bearer: [] }],
      request: {
        body: {
          content: {
            "application/json": {
              schema: z.object({
                uri: AssetUri,
                extra: z.record(z.string(), z.unknown()).default({}),
              }),
            },
          },
        },
      },
      responses: {
        201: json(AssetEventJson, "The recorded event; DAGs scheduled on the asset may now run"),
        422: json(ValidationError, "Not an asset URI"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const e = await recordAssetEvent(store.db, {
        uri: body.uri,
        source: "api",
        extra: body.extra,
      });
      return c.json({
        id: e.id,
        uri: e.uri,
        source: e.source,
        extra: e.extra,
        createdAt: e.createdAt.toISOString(),
      }, 201);
    },
  );

  if (serving) monitoringRoutes(api, deps, serving);

  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", BEARER_SCHEME);
  api.doc31("/openapi.json", OPENAPI_CONFIG);
  return api;
}
