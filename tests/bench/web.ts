/**
 * `deno task bench web`: the web app as it is deployed — `deno task serve` on PostgreSQL with
 * 10,000 runs in the history and a champion model — loaded on loopback with autocannon: single-row
 * `POST /api/v1/predict` and `GET /api/v1/dags/history/runs`, each for a fixed time; then the
 * median time to fetch the DAG grid page with 10,000 runs (rendered on the server).
 *
 * Figures: web.predict_rps, web.predict_p99_ms, web.runs_api_rps, web.runs_api_p99_ms,
 * web.runs_page_ms_10k.
 *
 * @example
 * ```sh
 * deno task bench web [--seconds 10] [--connections 16]
 * ```
 */
import autocannon from "autocannon";
import { parseArgs } from "node:util";
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { dag } from "../../runner/dag.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { openStore } from "../../runner/store/open.ts";
import { fakeFlights } from "../dags/helpers.ts";
import { freshDatabase } from "../runner/helpers.ts";
import { seedRuns } from "../web/seed.ts";
import { freePort, waitForHttp } from "../net.ts";
import { printFigures } from "./report.ts";

const FEATURES = ["day_of_week", "hour", "distance", "origin", "destination"];
const TOKEN = "bench-token";

async function load(
  opts: autocannon.Options,
): Promise<{ rps: number; p99: number; errors: number }> {
  const r = await autocannon(opts);
  return { rps: r.requests.average, p99: r.latency.p99, errors: r.errors + r.non2xx };
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seconds: { type: "string", default: "10" },
      connections: { type: "string", default: "16" },
    },
  });
  const seconds = Number(values.seconds), connections = Number(values.connections);
  const db = await freshDatabase();
  const home = await Deno.makeTempDir({ prefix: "driftflow-bench-web-" });
  const dagsDir = `${home}/dags`;
  await Deno.mkdir(dagsDir);
  const history = dag({ id: "history", description: "10,000 runs" })
    .task("extract", { run: () => 1 })
    .task("transform", { deps: ["extract"], run: () => 2 })
    .task("load", { deps: ["transform"], run: () => 3 });
  console.error("seeding 10,000 runs and a champion model…");
  const store = await openStore({ databaseUrl: db.url });
  await seedRuns(store, history, 10_000);
  const data = fakeFlights(5000, 1);
  const table = Object.fromEntries([...FEATURES, "late"].map((c) => [c, data[c]]));
  const { model } = trainModel(table, { target: "late", seed: 1, params: { nEstimators: 100 } });
  const registry = await ModelRegistry.open(store.db);
  const artifacts = openArtifactStore(home, () => undefined);
  const v = await registerModel({ registry, artifacts }, model, {
    name: "flights_delay",
    fingerprint: await fingerprintTable(table),
  });
  await registry.setAlias("flights_delay", "champion", v.version, { reason: "bench" });
  await store.close();
  // the DAG file the server loads (its id must match the seeded runs)
  await Deno.writeTextFile(
    `${dagsDir}/history.ts`,
    `import { dag } from "${new URL("../../runner/mod.ts", import.meta.url).href}";
export default dag({ id: "history", description: "10,000 runs" })
  .task("extract", { run: () => 1 })
  .task("transform", { deps: ["extract"], run: () => 2 })
  .task("load", { deps: ["transform"], run: () => 3 });
`,
  );
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "web/main.ts", "--port", String(port)],
    env: {
      DATABASE_URL: db.url,
      DRIFTFLOW_HOME: home,
      DRIFTFLOW_DAGS: dagsDir,
      DRIFTFLOW_TOKEN: TOKEN,
      DRIFTFLOW_SERVE_MODEL: "flights_delay",
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForHttp(`${base}/health`, async (res) => Boolean((await res.json()).model));
    const row = { day_of_week: 4, hour: 17, distance: 1200, origin: "ORD", destination: "SEA" };
    const predictBody = JSON.stringify({ rows: [row] });
    const headers = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
    // warm up the JIT, the session cache and the connection pool
    await load({
      url: `${base}/api/v1/predict`,
      method: "POST",
      headers,
      body: predictBody,
      connections,
      duration: 2,
    });
    console.error(`POST /api/v1/predict (1 row), ${connections} connections, ${seconds} s…`);
    const predict = await load({
      url: `${base}/api/v1/predict`,
      method: "POST",
      headers,
      body: predictBody,
      connections,
      duration: seconds,
    });
    console.error(`GET /api/v1/dags/history/runs, ${connections} connections, ${seconds} s…`);
    const runs = await load({
      url: `${base}/api/v1/dags/history/runs?limit=25`,
      connections,
      duration: seconds,
    });
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const res = await fetch(`${base}/dags/history`);
      await res.text();
      if (i >= 5) times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    const pageMs = times[Math.floor(times.length / 2)];
    console.log(
      `\nweb on PostgreSQL, 10,000 runs in the history, loopback, ${connections} connections, ${seconds} s each`,
    );
    console.log(
      `  POST /api/v1/predict (1 row)   ${
        Math.round(predict.rps).toLocaleString("en")
      } req/s, p99 ${predict.p99} ms, errors ${predict.errors}   (target ≥ 2,000 req/s, p99 < 20 ms)`,
    );
    console.log(
      `  GET  /api/v1/dags/history/runs  ${
        Math.round(runs.rps).toLocaleString("en")
      } req/s, p99 ${runs.p99} ms, errors ${runs.errors}`,
    );
    console.log(
      `  GET  /dags/history (grid page) median ${pageMs.toFixed(1)} ms   (target < 50 ms)\n`,
    );
    printFigures([
      { metric: "web.predict_rps", value: predict.rps, unit: "req/s" },
      { metric: "web.predict_p99_ms", value: predict.p99, unit: "ms" },
      { metric: "web.runs_api_rps", value: runs.rps, unit: "req/s" },
      { metric: "web.runs_api_p99_ms", value: runs.p99, unit: "ms" },
      { metric: "web.runs_page_ms_10k", value: pageMs, unit: "ms" },
    ]);
  } finally {
    server.kill("SIGTERM");
    await server.status;
    await db.drop();
  }
}
