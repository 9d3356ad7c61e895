/**
 * API routes for monitoring and serving: drift batches and reports, alerts, predictions, feedback
 * and the champion's evaluation on feedback. Registered on the /api/v1 app, so they are in its
 * OpenAPI document.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ModelRegistry } from "../../models/registry/registry.ts";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { servingFor } from "../services/serving.ts";
 * import { apiRoutes } from "./routes.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * const deps = {
 *   store,
 *   dags: () => new Map(),
 *   token: "s3cret",
 *   artifacts: new LocalArtifactStore(dir),
 *   registry: () => ModelRegistry.open(store.db),
 * };
 * const serving = servingFor(deps);
 * try {
 *   const api = apiRoutes(deps, serving); // the /api/v1 app: these routes are registered on it
 *   const row = { hour: 17, distance: 900, origin: "SEA", destination: "SFO", day_of_week: 5 };
 *   const res = await api.request("/predict", {
 *     method: "POST",
 *     headers: { "content-type": "application/json" },
 *     body: JSON.stringify({ rows: [row] }),
 *   });
 *   assert.equal(res.status, 404); // no flights_delay@champion registered in this empty store
 *   assert.match((await res.json()).error, /flights_delay/);
 *   assert.deepEqual(await (await api.request("/alerts")).json(), { alerts: [] });
 * } finally {
 *   await serving.close();
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { InputError } from "../../models/serving/service.ts";
import {
  PredictionLogUnavailable,
  PredictionRejected,
} from "../../models/serving/prediction_log.ts";
import { ModelNotFoundError } from "../../models/registry/registry.ts";
import type { PredictionLog } from "../../models/serving/prediction_log.ts";
import type { PredictionService } from "../../models/serving/service.ts";
import type { WebDeps } from "../services/deps.ts";
import { alertRows, driftReportKey, driftRows } from "../services/monitoring_data.ts";
import { ID, OFFSET } from "../services/input_guard.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});
const ErrorBody = z.object({ error: z.string() });
const FieldErrors = z.object({
  error: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })),
});

const badRequest = {
  400: json(FieldErrors, "A bad path or query: an id over 2³¹ − 1, a number out of range"),
};

const PredictRequest = z.object({
  model: z.string().regex(/^[A-Za-z0-9_.-]+(@[A-Za-z0-9_.-]+)?$/).optional().openapi({
    example: "flights_delay@champion",
  }),
  rows: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))).min(
    1,
  ).max(10_000),
}).openapi("PredictRequest");

const PredictResponse = z.object({
  model: z.string(),
  version: z.number().int(),
  results: z.array(z.object({
    id: z.string(),
    label: z.string().optional(),
    probabilities: z.record(z.string(), z.number()).optional(),
    predictions: z.record(z.string(), z.number()).optional(),
  })),
}).openapi("PredictResponse");

const FeedbackRequest = z.object({
  predictionId: z.string().min(1),
  label: z.string().min(1),
}).openapi("FeedbackRequest");

/** Adds the routes to the API app. */
export function monitoringRoutes(
  api: OpenAPIHono,
  deps: WebDeps,
  serving: () => Promise<{ service: PredictionService; log: PredictionLog }>,
): void {
  const defaultModel = () => `${deps.serveModel ?? "flights_delay"}@champion`;

  api.openapi(
    createRoute({
      method: "post",
      path: "/predict",
      summary: "Predict rows with a model version or alias",
      tags: ["Monitoring"],
      security: [{ bearer: [] }],
      request: { body: { content: { "application/json": { schema: PredictRequest } } } },
      responses: {
        200: json(PredictResponse, "One result (with an id for feedback) per row"),
        404: json(ErrorBody, "No such model or alias"),
        422: json(FieldErrors, "One message per bad field"),
        503: json(
          ErrorBody,
          "The prediction could not be stored in time (not acknowledged; retry later)",
        ),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { service } = await serving();
      try {
        return c.json(await service.predict(body.model ?? defaultModel(), body.rows), 200);
      } catch (e) {
        if (e instanceof InputError) {
          return c.json({ error: "invalid rows", fields: e.fields }, 422);
        }
        if (e instanceof ModelNotFoundError) return c.json({ error: e.message }, 404);
        if (e instanceof PredictionRejected) {
          return c.json(
            { error: "invalid rows", fields: [{ field: "rows", message: e.message }] },
            422,
          );
        }
        if (e instanceof PredictionLogUnavailable) {
          return c.json({ error: e.message }, 503, { "retry-after": "1" });
        }
        throw e;
      }
    },
  );

  api.openapi(
    createRoute({
      method: "post",
      path: "/feedback",
      summary: "Record the true label of a served prediction",
      tags: ["Monitoring"],
      security: [{ bearer: [] }],
      request: { body: { content: { "application/json": { schema: FeedbackRequest } } } },
      responses: {
        201: json(z.object({ predictionId: z.string(), label: z.string() }), "Stored"),
        404: json(ErrorBody, "No prediction with that id"),
        422: json(FieldErrors, "Invalid body"),
      },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { log } = await serving();
      // The label must be one of the classes of the model that made the prediction.
      const made = await deps.store.db.query<{ model: string; version: number }>(
        "select model, version from predictions where id = $1",
        [body.predictionId],
      );
      const version = made[0] &&
        await (await deps.registry()).version(made[0].model, Number(made[0].version));
      const classes = (version?.columns as { target?: { classes?: string[] } } | null)?.target
        ?.classes;
      if (classes && !classes.includes(body.label)) {
        return c.json({
          error: "invalid request",
          fields: [{
            field: "label",
            message: `"${body.label}" is not a class of ${made[0].model}@${made[0].version}; ` +
              `expected one of ${classes.map((k) => `"${k}"`).join(", ")}`,
          }],
        }, 422);
      }
      if (!await log.feedback(body.predictionId, body.label)) {
        return c.json({ error: `no prediction ${body.predictionId}` }, 404);
      }
      return c.json(body, 201);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/evaluation",
      summary: "Served predictions against their feedback labels",
      tags: ["Monitoring"],
      request: { query: z.object({ model: z.string().optional() }) },
      responses: {
        200: json(
          z.object({
            model: z.string(),
            rows: z.number().int(),
            accuracy: z.number().nullable(),
            confusion: z.record(z.string(), z.record(z.string(), z.number())),
          }),
          "The model's served predictions against their feedback labels",
        ),
        404: json(ErrorBody, "No such model"),
      },
    }),
    async (c) => {
      const { log } = await serving();
      const model = c.req.valid("query").model ?? deps.serveModel ?? "flights_delay";
      if ((await (await deps.registry()).versions(model)).length === 0) {
        return c.json({ error: `no model "${model}" is registered` }, 404);
      }
      return c.json(await log.evaluation(model), 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/alerts",
      summary: "List alerts, newest first",
      tags: ["Monitoring"],
      request: {
        query: z.object({
          limit: z.coerce.number().int().min(1).max(500).default(100),
          offset: OFFSET.default(0),
        }),
      },
      responses: {
        ...badRequest,
        200: json(
          z.object({
            alerts: z.array(z.object({
              id: z.number(),
              at: z.string(),
              level: z.string(),
              key: z.string(),
              title: z.string(),
              message: z.string(),
              dagId: z.string().nullable(),
              runId: z.number().nullable(),
              suppressed: z.boolean(),
            })),
          }),
          "Alerts, newest first",
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json({ alerts: await alertRows(deps.store.db, q.limit, q.offset) }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/drift",
      summary: "List monitored batches with drift statistics",
      tags: ["Monitoring"],
      request: {
        query: z.object({
          stream: z.string().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
        }),
      },
      responses: {
        ...badRequest,
        200: json(
          z.object({ batches: z.array(z.record(z.string(), z.unknown())) }),
          "Monitored batches, oldest first",
        ),
      },
    }),
    async (c) => {
      const q = c.req.valid("query");
      return c.json({
        batches: await driftRows(deps.store.db, { stream: q.stream, limit: q.limit }),
      }, 200);
    },
  );

  api.openapi(
    createRoute({
      method: "get",
      path: "/drift/{id}/report",
      summary: "Get a batch's drift report",
      tags: ["Monitoring"],
      request: {
        params: z.object({
          id: ID.openapi({ param: { name: "id", in: "path" } }),
        }),
      },
      responses: {
        ...badRequest,
        200: json(z.record(z.string(), z.unknown()), "The batch's drift report (DriftReport JSON)"),
        404: json(ErrorBody, "No such batch or report"),
      },
    }),
    async (c) => {
      const id = c.req.valid("param").id;
      const key = await driftReportKey(deps.store.db, id);
      if (!key) return c.json({ error: `no drift report for batch row ${id}` }, 404);
      const bytes = await deps.artifacts.get(key);
      return c.json(JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>, 200);
    },
  );
}
