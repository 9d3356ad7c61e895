// The Grafana dashboard that docker-compose provisions queries only metrics /metrics exports, and
// Prometheus scrapes the web service where it serves them.
import assert from "node:assert/strict";
import { z } from "zod";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { syncDag } from "../../runner/cli/common.ts";
import { dag } from "../../runner/dag.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { Alerter } from "../../tasks/alert/alerter.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
import { createApp } from "../../web/app.tsx";
import { storeTest } from "../runner/helpers.ts";

const Dashboard = z.object({
  uid: z.string(),
  panels: z.array(z.object({
    title: z.string(),
    datasource: z.object({ uid: z.string() }),
    targets: z.array(z.object({ expr: z.string() })).min(1),
  })).min(1),
});

/** The metric names a PromQL expression reads (functions and label names are not metrics). */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.matchAll(/\b(driftflow_[a-z_]+)\b/g)].map((m) => m[1]))];
}

/** The family a sample name belongs to (`x_sum`/`x_count` of a summary are `x`). */
function family(name: string, families: Set<string>): string | null {
  if (families.has(name)) return name;
  const base = name.replace(/_(sum|count|bucket)$/, "");
  return families.has(base) ? base : null;
}

const root = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, root));

storeTest("every metric the Grafana dashboard queries is one /metrics exports", async (store) => {
  const dashboard = Dashboard.parse(
    JSON.parse(await read("deploy/grafana/dashboards/driftflow.json")),
  );
  const datasource = await read("deploy/grafana/provisioning/datasources/prometheus.yml");
  for (const p of dashboard.panels) {
    assert.ok(
      datasource.includes(`uid: ${p.datasource.uid}`),
      `${p.title}: provisioned datasource`,
    );
  }
  // a store with something of everything: runs and tries, a monitored batch, an alert
  const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
  const d = dag({ id: "dash", params: z.object({}) }).task("t", { run: () => 1 });
  await syncDag(store, d);
  const run = await createDagRun(store, d);
  await new Executor({ store, artifacts }).runToEnd(d, run.id);
  await (await MonitoringTable.open(store.db)).insert({
    dagId: "drift_monitoring",
    runId: run.id,
    stream: "flights",
    batch: 0,
    rows: 10,
    driftedShare: 0.5,
    severity: "major",
    action: "log",
    model: "flights_delay",
    championVersion: 1,
    rocAuc: 0.66,
    details: { columns: { distance: { test: "ks", statistic: 0.2, drifted: true } } },
  });
  await (await Alerter.open(store.db, { channels: [] })).send({
    level: "WARNING",
    key: "k",
    title: "t",
    message: "m",
  });
  let registry: Promise<ModelRegistry> | undefined;
  const app = createApp({
    store,
    registry: () => (registry ??= ModelRegistry.open(store.db)),
    dags: () => new Map([[d.id, d]]),
    token: "t",
    artifacts,
  });
  const text = await (await app.request("/metrics")).text();
  const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const sampled = new Set([...text.matchAll(/^([a-z_]+)[{ ]/gm)].map((m) => m[1]));
  const queried = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => metricNames(t.expr)));
  assert.ok(queried.length >= 8, "the dashboard queries the drift, AUC, alert and task metrics");
  for (const name of queried) {
    assert.ok(family(name, families), `${name} is exported by /metrics`);
    if (name !== "driftflow_predictions_total") {
      assert.ok(sampled.has(name), `${name} has a sample on a store with history`);
    }
  }
  assert.match(text, /driftflow_roc_auc\{stream="flights"\} 0\.66/);
  // Prometheus scrapes the compose web service on the port it listens on
  const prometheus = await read("deploy/prometheus/prometheus.yml");
  assert.match(prometheus, /metrics_path: \/metrics/);
  assert.match(prometheus, /targets: \["web:8080"\]/);
  const compose = await read("docker-compose.yml");
  assert.match(compose, /"--port", "8080"/);
  assert.match(compose, /\.\/deploy\/grafana\/dashboards:\/etc\/grafana\/dashboards:ro/);
});

Deno.test("metricNames reads metric names, not functions or labels", () => {
  assert.deepEqual(
    metricNames(
      'sum by (dag) (rate(driftflow_task_duration_seconds_sum[5m])) / driftflow_runs{dag="x"}',
    ),
    ["driftflow_task_duration_seconds_sum", "driftflow_runs"],
  );
});
