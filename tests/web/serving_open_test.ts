/**
 * A failed first open of the prediction service or the registry is not kept: `deno task serve` on
 * a PostgreSQL server of the test's own (tests/pg_server.ts), the database down at the first
 * prediction, then up — the next prediction is answered (it used to fail until a restart).
 */
import assert from "node:assert/strict";
import { startPostgres } from "../pg_server.ts";
import { eventually } from "../runner/processes.ts";
import { AUTH, ROW, serveHome, startServe } from "./serve_process.ts";

Deno.test({
  name: "serve: the database down at the first prediction, then up: predictions are answered",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pg = await startPostgres();
    const home = await serveHome({ databaseUrl: pg.url });
    const server = startServe(home);
    const predict = () =>
      fetch(`${server.base}/api/v1/predict`, {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify({ rows: [ROW] }),
        signal: AbortSignal.timeout(30_000),
      });
    let ok = false;
    try {
      // listening, and nothing has opened the registry or the prediction log yet (no /health)
      await eventually(
        "the server to listen",
        async () => (await server.output()).includes("driftflow web on") ? true : undefined,
        60_000,
      );
      await pg.down("fast");
      const first = await predict();
      await first.body?.cancel();
      assert.notEqual(first.status, 200, "the database is down");
      await pg.up();
      const second = await eventually("a prediction once the database is back", async () => {
        const res = await predict();
        if (res.status === 200) return await res.json();
        await res.body?.cancel();
        return undefined;
      }, 20_000);
      assert.equal(second.results.length, 1);
      const health = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(10_000) });
      assert.equal(health.status, 200, await health.text());
      ok = true;
    } finally {
      if (!ok) console.error(`deno task serve said:\n${await server.output()}`);
      await server.kill("SIGKILL");
      await home.remove();
      await pg.stop();
    }
  },
});
