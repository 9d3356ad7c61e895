/**
 * The Hono app: server-rendered pages (DAGs, grid, run, trigger form, logs), the JSON API under
 * /api/v1 with its OpenAPI document, /health and /metrics — behind secure headers, a body limit,
 * CSRF protection for forms and a token for every change.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.tsx";
 * import type { WebDeps } from "./services/deps.ts";
 *
 * // deps: the store, the loaded DAGs, the token… (web/server.ts builds them)
 * const serve = (deps: WebDeps) =>
 *   Deno.serve({ hostname: "127.0.0.1", port: 8080 }, createApp(deps).fetch);
 * ```
 */
import { type Context, Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { bodyLimit } from "hono/body-limit";
import { setCookie } from "hono/cookie";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { streamSSE } from "hono/streaming";
import { paramsJsonSchema } from "../runner/params.ts";
import { parseSchedule } from "../runner/schedule.ts";
import { apiRoutes, OPENAPI_CONFIG } from "./api/routes.ts";
import { ApiDocument, ApiReferencePage } from "./pages/api_reference.tsx";
import { NO_SERVE_MODEL, type WebDeps } from "./services/deps.ts";
import { servedModel } from "./services/served_model.ts";
import { prometheusText } from "./metrics.ts";
import { alertRows, driftRows, driftStreams } from "./services/monitoring_data.ts";
import { experimentsWithRuns, summaryCsv } from "./services/experiments.ts";
import { DriftPage } from "./pages/drift.tsx";
import { ExperimentsPage } from "./pages/experiments.tsx";
import { servingFor } from "./services/serving.ts";
import { isUnavailable } from "../models/serving/transient.ts";
import { DagsPage } from "./pages/dags.tsx";
import { ModelsPage } from "./pages/models.tsx";
import { GridPage } from "./pages/grid.tsx";
import { LogsPage, RunPage } from "./pages/run.tsx";
import { LivenessBanner } from "./pages/liveness.tsx";
import { liveness } from "../runner/liveness.ts";
import { formParams, LoginPage, ResubmitPage, TriggerPage } from "./pages/trigger.tsx";
import {
  isAuthorized,
  keptFromJson,
  requireAuth,
  safeEqual,
  sameSitePath,
  SESSION_COOKIE,
  sessionValue,
} from "./security.ts";
import { INT4_MAX, intId, MAX_PAGE, pageNumber, storableUrl } from "./services/input_guard.ts";
import { clearTasks, type FieldIssue, paramIssues, runLinks, triggerRun } from "./services/runs.ts";

export function createApp(deps: WebDeps): Hono {
  const { store } = deps;
  const app = new Hono();
  app.use(secureHeaders());
  // A page's policy, unless the route set a stricter one (artifacts are sandboxed).
  app.use(async (c, next) => {
    await next();
    if (!c.res.headers.has("content-security-policy")) {
      c.res.headers.set(
        "content-security-policy",
        "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; img-src 'self' data:",
      );
    }
  });
  app.use(bodyLimit({
    maxSize: deps.maxBodyBytes ?? 1024 * 1024,
    onError: (c) =>
      c.json({ error: `request body over ${deps.maxBodyBytes ?? 1024 * 1024} bytes` }, 413),
  }));
  app.use(csrf());
  app.use(storableUrl());
  app.onError((e, c) => {
    if (e instanceof HTTPException) return e.getResponse();
    if (isUnavailable(e)) {
      console.error(`web: ${c.req.method} ${c.req.path}: database unavailable: ${e.message}`);
      return c.json(
        { error: `the database is unavailable (${e.message}); retry shortly` },
        503,
        { "retry-after": "1" },
      );
    }
    console.error(`web: ${c.req.method} ${c.req.path}: ${e.stack ?? e}`);
    return c.json({ error: "internal error" }, 500);
  });

  const serving = deps.serving ?? servingFor(deps);
  app.get("/health", async (c) => {
    try {
      await store.db.query("select 1");
    } catch (e) {
      return c.json(
        {
          status: "unavailable",
          store: "unreachable",
          error: (e as Error).message,
          predictionLog: serving.logHealth() ?? null,
        },
        503,
      );
    }
    const name = await servedModel(deps.serveModel, await deps.registry());
    if (!name) {
      return c.json({
        status: "ok",
        store: store.db.kind,
        model: null,
        note: `no model configured: ${NO_SERVE_MODEL}`,
      });
    }
    const registry = await deps.registry();
    if ((await registry.versions(name)).length === 0) {
      return c.json({
        status: "ok",
        store: store.db.kind,
        model: null,
        note: `no model "${name}" registered yet`,
      });
    }
    try {
      const { service, log } = await serving();
      const { version } = await service.resolve(`${name}@champion`);
      await service.model(name, version);
      const predictionLog = log.health();
      // a prediction answers only after its row is committed: a log that cannot commit means
      // predictions fail (503 after a wait), so the server is not healthy
      return c.json({
        status: predictionLog.state === "ok" ? "ok" : "degraded",
        store: store.db.kind,
        model: `${name}@${version}`,
        predictionLog,
      }, predictionLog.state === "ok" ? 200 : 503);
    } catch (e) {
      return c.json({
        status: "unavailable",
        store: store.db.kind,
        model: name,
        error: (e as Error).message,
      }, 503);
    }
  });
  app.get(
    "/metrics",
    async (c) =>
      c.text(await prometheusText(store), 200, { "content-type": "text/plain; version=0.0.4" }),
  );

  app.get("/login", (c) => c.html(<LoginPage next={sameSitePath(c.req.query("next"))} />));
  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const next = sameSitePath(typeof form.next === "string" ? form.next : undefined);
    // a form that was sent without a session, kept through signing in (see requireAuth)
    const kept = keptFromJson(form.carried);
    if (typeof form.token !== "string" || !safeEqual(form.token, deps.token)) {
      return c.html(<LoginPage next={next} carry={kept} error="That is not the token." />, 401);
    }
    setCookie(c, SESSION_COOKIE, await sessionValue(deps.token), {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
    });
    // the kept form goes back where it was going (a path on this site), when the user sends it
    if (kept.length) return c.html(<ResubmitPage action={next} fields={kept} />);
    return c.redirect(next, 303);
  });

  app.use(
    "*",
    requireAuth(deps.token, (c, next, fields) =>
      c.html(
        <LoginPage
          next={next}
          carry={fields}
          error="Sign in to send this form: what you typed is kept."
        />,
        401,
      )),
  );
  // Every page says whether a scheduler and workers are alive, and what picks queued runs up.
  app.use("*", async (c, next) => {
    await next();
    if (c.req.path.startsWith("/api/") || c.req.path.startsWith("/artifacts/")) return;
    if (!(c.res.headers.get("content-type") ?? "").startsWith("text/html")) return;
    const html = await c.res.text();
    const [live, queued] = await Promise.all([liveness(store.db), store.countQueuedRuns()]);
    const banner = await (
      <LivenessBanner live={live} queued={queued} store={store.db.kind} />
    ).toString();
    const { status } = c.res;
    const headers = new Headers(c.res.headers);
    headers.delete("content-length");
    c.res = undefined;
    c.res = new Response(html.replace("<main>", `<main>${banner}`), { status, headers });
  });
  const api = apiRoutes(deps, serving);
  app.route("/api/v1", api);
  // the readable reference, rendered from the same document /api/v1/openapi.json serves
  app.get("/api", (c) =>
    c.html(
      <ApiReferencePage
        doc={ApiDocument.parse(
          JSON.parse(JSON.stringify(api.getOpenAPI31Document(OPENAPI_CONFIG))),
        )}
        docUrl="/api/v1/openapi.json"
      />,
    ));

  app.get("/", async (c) => {
    const loaded = deps.dags();
    const dags = (await store.listDags()).filter((d) => loaded.has(d.dagId));
    const recent = new Map<string, Awaited<ReturnType<typeof store.recentRuns>>>();
    for (const r of await store.recentRuns(10)) {
      recent.set(r.dagId, [...(recent.get(r.dagId) ?? []), r]);
    }
    const next = new Map(dags.map((d) => {
      try {
        return [
          d.dagId,
          d.schedule ? parseSchedule(d.schedule, d.timezone).next(new Date()) : null,
        ];
      } catch {
        return [d.dagId, null];
      }
    }));
    return c.html(<DagsPage dags={dags} recent={recent} next={next} />);
  });

  app.post("/dags/:dagId/pause", async (c) => {
    const form = await c.req.parseBody();
    await store.setPaused(c.req.param("dagId"), form.paused === "true");
    return c.redirect("/", 303);
  });

  app.get("/dags/:dagId", async (c) => {
    const dagId = c.req.param("dagId");
    const page = pageNumber(c.req.query("page"));
    if (page === null) {
      return c.text(`page is a whole number from 0 to ${MAX_PAGE}`, 400);
    }
    const pageSize = 25;
    const runs = await store.listRuns(dagId, { limit: pageSize, offset: page * pageSize });
    const tis = await store.taskInstancesOfRuns(runs.map((r) => r.id));
    const dag = deps.dags().get(dagId);
    const taskIds = dag ? dag.tasks.map((t) => t.id) : [...new Set(tis.map((t) => t.taskId))];
    if (!dag && runs.length === 0) return c.notFound();
    return c.html(
      <GridPage
        dagId={dagId}
        runs={runs}
        tis={tis}
        taskIds={taskIds}
        page={page}
        pageSize={pageSize}
      />,
    );
  });

  const triggerPage = (dagId: string) => {
    const dag = deps.dags().get(dagId);
    return dag ? { dag, schema: paramsJsonSchema(dag) } : null;
  };
  app.get("/dags/:dagId/trigger", (c) => {
    const t = triggerPage(c.req.param("dagId"));
    if (!t) return c.notFound();
    return c.html(
      <TriggerPage dagId={t.dag.id} schema={t.schema} values={{}} conf="{}" errors={{}} />,
    );
  });
  app.post("/dags/:dagId/trigger", async (c) => {
    const t = triggerPage(c.req.param("dagId"));
    if (!t) return c.notFound();
    const form = await c.req.parseBody();
    const read = formParams(t.schema, form);
    const confText = typeof form.conf === "string" && form.conf.trim() ? form.conf : "{}";
    // each problem beside its field: a param by its name, conf in one place, the rest on top
    const errors: Record<string, string> = { ...read.errors };
    const show = (issues: readonly FieldIssue[]) => {
      for (const issue of issues) {
        const [key, rest] = issue.in === "conf"
          ? ["conf", issue.path]
          : [String(issue.path[0] ?? ""), issue.path.slice(1)];
        errors[key] ??= rest.length ? `${rest.join(".")}: ${issue.message}` : issue.message;
      }
    };
    let conf: Record<string, unknown> | null = null;
    try {
      const parsed: unknown = JSON.parse(confText);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new Error("not an object");
      }
      conf = parsed as Record<string, unknown>;
    } catch (e) {
      errors.conf = `conf must be a JSON object such as {"key": 1} (${(e as Error).message})`;
    }
    if (Object.keys(read.errors).length || !conf) {
      // a JSON field or conf that did not parse: no run; the params' problems show all the same
      show(
        paramIssues(deps, t.dag.id, read.params)
          .filter((i) => !(String(i.path[0] ?? "") in read.errors)),
      );
    } else if (conf) {
      const result = await triggerRun(deps, t.dag.id, { conf, params: read.params });
      if (result.ok) return c.redirect(`/runs/${result.run.id}`, 303);
      if (result.reason === "no_dag") return c.notFound();
      if (result.reason === "exists") errors[""] = result.message;
      else show(result.issues);
    }
    return c.html(
      <TriggerPage
        dagId={t.dag.id}
        schema={t.schema}
        values={read.typed}
        conf={confText}
        errors={errors}
      />,
      422,
    );
  });

  // a run id that is not a PostgreSQL int (over 2³¹, "1e3") is a bad request, not a lookup
  const badRunId = (c: Context) => c.text(`a run id is a whole number from 1 to ${INT4_MAX}`, 400);
  const runId = intId;
  app.get("/runs/:runId", async (c) => {
    const id = runId(c.req.param("runId"));
    if (id === null) return badRunId(c);
    const run = await store.getRun(id);
    if (!run) return c.notFound();
    const [tis, tries, xcoms, structure] = await Promise.all([
      store.taskInstances(run.id),
      store.tries(run.id),
      store.xcoms(run.id),
      store.structure(run.structureHash),
    ]);
    const links = await runLinks(deps, run, xcoms);
    return c.html(
      <RunPage
        run={run}
        structure={structure}
        tis={tis}
        tries={tries}
        xcoms={xcoms}
        links={links}
      />,
    );
  });

  app.get("/runs/:runId/events", (c) => {
    const id = runId(c.req.param("runId"));
    if (id === null) return badRunId(c);
    return streamSSE(c, async (stream) => {
      for (let i = 0; i < 3600 && !stream.aborted; i++) {
        const tis = await store.taskInstances(id);
        const run = await store.getRun(id);
        await stream.writeSSE({
          data: JSON.stringify([
            run?.state,
            tis.map((t) => `${t.taskId}:${t.mapIndex}:${t.state}`),
          ]),
        });
        if (run?.state === "success" || run?.state === "failed") break;
        await stream.sleep(1000);
      }
    });
  });

  app.post("/runs/:runId/clear", async (c) => {
    const id = runId(c.req.param("runId"));
    if (id === null) return badRunId(c);
    const form = await c.req.parseBody();
    const result = await clearTasks(deps, id, {
      taskIds: typeof form.task === "string" ? [form.task] : undefined,
      downstream: true,
      onlyFailed: form.failed === "true",
    });
    if (result.ok) return c.redirect(`/runs/${id}`, 303);
    if (result.reason === "no_run") return c.notFound();
    return c.text(result.message, 422);
  });

  app.get("/runs/:runId/tasks/:taskId/logs", async (c) => {
    const id = runId(c.req.param("runId"));
    if (id === null) return badRunId(c);
    const t = c.req.query("try");
    const tryNumber = t === undefined || t === "" ? undefined : intId(t);
    if (tryNumber === null) return c.text(`try is a whole number from 1 to ${INT4_MAX}`, 400);
    const [lines, tries] = await Promise.all([
      store.logs(id, c.req.param("taskId"), tryNumber),
      store.tries(id, c.req.param("taskId")),
    ]);
    return c.html(
      <LogsPage
        runId={id}
        taskId={c.req.param("taskId")}
        tryNumber={tryNumber ?? null}
        tries={tries}
        lines={lines}
      />,
    );
  });

  const modelsPage = async (notice: { ok: boolean; text: string } | null = null) => {
    const registry = await deps.registry();
    const models = await registry.models();
    const history = new Map(
      await Promise.all(
        models.map(async (m) => [m.name, await registry.aliasHistory(m.name)] as const),
      ),
    );
    return <ModelsPage models={models} history={history} notice={notice} />;
  };
  app.get("/models", async (c) => {
    // after a move (Post/Redirect/Get): say what moved, from the alias history, not from the URL
    const moved = c.req.query("moved");
    const last = moved ? (await (await deps.registry()).aliasHistory(moved))[0] : undefined;
    return c.html(
      await modelsPage(
        last
          ? {
            ok: true,
            text: `${last.name}@${last.alias} → ${
              last.toVersion === null ? "removed" : `v${last.toVersion}`
            }${
              last.fromVersion === null ? "" : ` (was v${last.fromVersion})`
            } by ${last.actor}: ${last.reason}`,
          }
          : null,
      ),
    );
  });
  // The Models page's promote / roll-back buttons: the same checks as the API's alias route.
  app.post("/models/:name/aliases", async (c) => {
    const name = c.req.param("name");
    const form = await c.req.parseBody();
    const alias = typeof form.alias === "string" ? form.alias : "";
    const reason = typeof form.reason === "string" ? form.reason.trim() : "";
    const version = Number(form.version);
    const registry = await deps.registry();
    const versions = await registry.versions(name);
    const fail = async (text: string, status: 404 | 422) =>
      c.html(await modelsPage({ ok: false, text }), status);
    if (versions.length === 0) return await fail(`no model "${name}" is registered`, 404);
    if (!/^[A-Za-z][A-Za-z0-9_.-]*$/.test(alias)) return await fail(`bad alias "${alias}"`, 422);
    if (!versions.some((v) => v.version === version)) {
      return await fail(`model "${name}" has no version ${form.version}`, 404);
    }
    if (!reason) return await fail("say why the alias moves (the reason is recorded)", 422);
    await registry.setAlias(name, alias, version, { reason, actor: "web UI" });
    return c.redirect(`/models?moved=${encodeURIComponent(name)}`, 303);
  });

  app.get("/drift", async (c) => {
    const streams = await driftStreams(store.db);
    const stream = c.req.query("stream") ?? streams[0] ?? null;
    const [rows, alerts] = await Promise.all([
      stream ? driftRows(store.db, { stream, limit: 200 }) : Promise.resolve([]),
      alertRows(store.db, 50),
    ]);
    return c.html(<DriftPage streams={streams} stream={stream} rows={rows} alerts={alerts} />);
  });

  app.get(
    "/experiments",
    async (c) => c.html(<ExperimentsPage experiments={await experimentsWithRuns(deps)} />),
  );
  app.get("/experiments/:runId/summary.csv", async (c) => {
    const id = runId(c.req.param("runId"));
    const csv = id === null ? null : await summaryCsv(deps, id);
    if (!csv || (!csv.ok && csv.reason === "not_an_experiment_run")) return c.notFound();
    if (!csv.ok) return c.json({ error: csv.message }, 404);
    return c.body(csv.text, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${csv.filename}"`,
    });
  });

  app.get("/session", async (c) => c.json({ authorized: await isAuthorized(c, deps.token) }));

  // Artifacts by content key only: no path reaches the file system, so nothing outside the store
  // can be read. Served sandboxed, so an HTML report cannot run script on this origin.
  app.get("/artifacts/:key", async (c) => {
    const key = c.req.param("key");
    if (!/^sha256:[0-9a-f]{64}$/.test(key)) {
      return c.json({ error: "an artifact key is sha256: and 64 hex digits" }, 400);
    }
    let bytes: Uint8Array;
    try {
      bytes = await deps.artifacts.get(key);
    } catch {
      return c.json({ error: `no artifact ${key}` }, 404);
    }
    const type = c.req.query("type") === "html"
      ? "text/html; charset=utf-8"
      : c.req.query("type") === "json"
      ? "application/json"
      : "application/octet-stream";
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": type,
      "content-security-policy":
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    });
  });
  return app;
}
