/**
 * Issue 12 item 1: one failed write must not stop prediction logging. Real processes: `deno task
 * serve` on a PostgreSQL server this test starts itself (tests/pg_server.ts, its own port), which
 * the test restarts under load; text PostgreSQL cannot store is refused with 422 before it reaches
 * the log; a log that cannot commit shows as degraded on /health and recovers by itself.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { startPostgres } from "../pg_server.ts";
import { eventually } from "../runner/processes.ts";
import {
  AUTH,
  missingPredictions,
  predictions,
  ROW,
  type ServeHome,
  serveHome,
  type ServeProcess,
  startServe,
} from "./serve_process.ts";

async function post(server: ServeProcess, path: string, body: unknown): Promise<Response> {
  return await fetch(`${server.base}${path}`, {
    method: "POST",
    headers: AUTH,
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
}

async function health(
  server: ServeProcess,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json() };
}

/** Predictions, feedback and evaluation all work, and every acknowledged id is stored. */
async function stillServing(server: ServeProcess, home: ServeHome, label: string): Promise<void> {
  const after = await predictions(server, 40, 4);
  assert.equal(after.acknowledged.length, 40, `${label}: statuses ${[...after.statuses]}`);
  const fb = await post(server, "/api/v1/feedback", {
    predictionId: after.acknowledged[0],
    label: "yes",
  });
  assert.equal(fb.status, 201, `${label}: feedback ${await fb.text()}`);
  const ev = await fetch(`${server.base}/api/v1/evaluation`, {
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(ev.status, 200, `${label}: evaluation`);
  assert.ok((await ev.json()).rows >= 1);
  const store = await home.openStore();
  try {
    assert.deepEqual(await missingPredictions(store, after.acknowledged), [], label);
  } finally {
    await store.close();
  }
}

Deno.test({
  name: "prediction log survives a PostgreSQL restart, refuses unstorable text, reports degraded",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const pg = await startPostgres();
    const home = await serveHome({ databaseUrl: pg.url });
    const server = startServe(home);
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    let failed = false;
    try {
      await server.ready();
      assert.equal((await predictions(server, 20, 4)).acknowledged.length, 20);

      for (const mode of ["fast", "immediate"] as const) {
        failed ||= !await t.step(
          `a PostgreSQL restart (${mode}) under load: nothing acknowledged is lost`,
          async () => {
            const before = (await server.output()).split("a commit failed").length;
            let restarted: Promise<void> | undefined;
            const load = await predictions(server, 600, 8, {
              onAck: (n) => {
                if (n === 100) restarted = pg.restart({ mode, downMs: 300 });
              },
            });
            await restarted;
            assert.ok(restarted, "the restart happened during the load");
            const output = await server.output();
            assert.ok(output.split("a commit failed").length > before, "a commit failed");
            assert.match(output, /prediction log: writing again/);
            const store = await home.openStore();
            try {
              assert.deepEqual(await missingPredictions(store, load.acknowledged), []);
            } finally {
              await store.close();
            }
            // answers during the outage are 200 (committed on a retry) or 503 (not acknowledged)
            for (const status of load.statuses.keys()) {
              assert.ok([200, 503].includes(status), `${status}`);
            }
            await stillServing(server, home, `after the ${mode} restart`);
            assert.equal((await health(server)).body.status, "ok");
          },
        );
      }

      failed ||= !await t.step(
        "PostgreSQL down: /health shows the queued row; written once it is back",
        async () => {
          type LogHealth = { queued: number; state: string; written: number };
          const logOf = (h: { body: Record<string, unknown> }) => h.body.predictionLog as LogHealth;
          const writtenBefore = logOf(await health(server)).written;
          await pg.down("fast");
          const pending = post(server, "/api/v1/predict", { rows: [ROW] });
          try {
            await eventually("/health to show the queued prediction, degraded", async () => {
              const h = await health(server);
              const log = logOf(h);
              return h.status === 503 && log?.queued === 1 && log.state === "degraded"
                ? log
                : undefined;
            }, 10_000);
          } finally {
            await pg.up();
          }
          // Answered 200 when its commit landed within the acknowledgement wait (10 s), else 503
          // "not acknowledged; it stays queued" (a commit on a connection the dying server held can
          // hang until its own bound): either way the row is written once the server is back.
          const res = await pending;
          assert.ok(res.status === 200 || res.status === 503, `status ${res.status}`);
          if (res.status === 200) {
            const id = (await res.json()).results[0].id;
            const store = await home.openStore();
            try {
              assert.deepEqual(await missingPredictions(store, [id]), []);
            } finally {
              await store.close();
            }
          } else {
            assert.match((await res.json()).error, /not acknowledged/);
          }
          // the log says it is writing again, nothing stays queued, and the row was written
          await eventually("/health to be ok again with nothing queued", async () => {
            const h = await health(server);
            const log = logOf(h);
            return h.status === 200 && h.body.status === "ok" && log.queued === 0 &&
                log.written >= writtenBefore + 1
              ? h
              : undefined;
          }, 30_000);
          await stillServing(server, home, "after PostgreSQL came back");
        },
      );

      failed ||= !await t.step(
        "text PostgreSQL cannot store is refused with 422, logging goes on",
        async () => {
          const cases: [string, unknown][] = [
            ["NUL in a value", { rows: [{ ...ROW, origin: "O\u0000RD" }] }],
            ["lone surrogate", { rows: [{ ...ROW, destination: "SEA\ud800" }] }],
            ["NUL in a key", { rows: [{ ...ROW, ["x\u0000"]: 1 }] }],
          ];
          for (const [what, body] of cases) {
            const res = await post(server, "/api/v1/predict", body);
            assert.equal(res.status, 422, what);
            const json = await res.json();
            assert.match(JSON.stringify(json.fields), /NUL|surrogate/, what);
          }
          const fb = await post(server, "/api/v1/feedback", {
            predictionId: "a",
            label: "y\u0000",
          });
          assert.equal(fb.status, 422);
          const path = await fetch(`${server.base}/api/v1/dags/a%00b/runs`);
          assert.equal(path.status, 400);
          await path.body?.cancel();
          await stillServing(server, home, "after unstorable text");
        },
      );

      failed ||= !await t.step(
        "a log that cannot commit is degraded on /health, retried, then ok",
        async () => {
          await admin`alter table predictions rename to predictions_away`;
          const pending = post(server, "/api/v1/predict", { rows: [ROW] });
          const degraded = await eventually("/health degraded", async () => {
            const h = await health(server);
            return h.status === 503 ? h.body : undefined;
          }, 10_000);
          assert.equal(degraded.status, "degraded");
          const log = degraded.predictionLog as {
            state: string;
            queued: number;
            lastError: string;
          };
          assert.equal(log.state, "degraded");
          assert.equal(log.queued, 1);
          assert.match(log.lastError, /predictions/);
          await admin`alter table predictions_away rename to predictions`;
          const res = await pending; // the queued row was retried, committed, then answered
          assert.equal(res.status, 200);
          const id = (await res.json()).results[0].id;
          const h = await health(server);
          assert.equal(h.status, 200);
          assert.equal((h.body.predictionLog as { state: string }).state, "ok");
          const store = await home.openStore();
          try {
            assert.deepEqual(await missingPredictions(store, [id]), []);
          } finally {
            await store.close();
          }
          await stillServing(server, home, "after the degraded spell");
        },
      );
    } catch (e) {
      failed = true;
      throw e;
    } finally {
      if (failed) console.error(`deno task serve said:\n${await server.output()}`);
      await admin.end();
      await server.kill("SIGKILL");
      await home.remove();
      await pg.stop();
    }
  },
});
