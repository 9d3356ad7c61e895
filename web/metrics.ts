/**
 * GET /metrics in Prometheus text format: runs by DAG and state, task instances by state, task
 * durations (sum and count by DAG), so an existing Grafana can chart Driftflow.
 *
 * Label sets are bounded: no label takes a task id, run id or batch number, so the number of series
 * grows with the DAGs, streams and columns there are, never with the work done (15,000 task ids
 * once made 2.1 MB of series). Per-task figures are in the UI and the API.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../runner/artifacts/local.ts";
 * import { dag } from "../runner/dag.ts";
 * import { Executor } from "../runner/executor.ts";
 * import { createDagRun } from "../runner/runs.ts";
 * import { openStore } from "../runner/store/open.ts";
 * import { prometheusText } from "./metrics.ts";
 * const etl = dag({ id: "etl" }).task("extract", { run: () => 1 });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const run = await createDagRun(store, etl);
 *   await new Executor({ store, artifacts: new LocalArtifactStore(dir) }).runToEnd(etl, run.id);
 *   const text = await prometheusText(store);
 *   assert.match(text, /^# TYPE driftflow_runs gauge$/m);
 *   assert.match(text, /^driftflow_runs\{dag="etl",state="success"\} 1$/m);
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { Store } from "../runner/store/store.ts";
import { monitoringCounts } from "./services/monitoring_data.ts";

/** Escapes a label value per the exposition format. */
export function labelValue(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

export async function prometheusText(store: Store): Promise<string> {
  const [runs, tis, durations] = await Promise.all([
    store.countRunsByDag(),
    store.countTaskInstancesByState(),
    store.tryDurationsByDag(),
  ]);
  // "none": an instance not scheduled yet; by label, as the series always came
  const tiLines = tis.map((t) => ({ state: t.state ?? "none", n: t.n }))
    .sort((a, b) => a.state < b.state ? -1 : a.state > b.state ? 1 : 0);
  const out: string[] = [
    "# HELP driftflow_runs DAG runs by DAG and state.",
    "# TYPE driftflow_runs gauge",
    ...runs.map((r) => `driftflow_runs{dag="${labelValue(r.dagId)}",state="${r.state}"} ${r.n}`),
    "# HELP driftflow_task_instances Task instances by state.",
    "# TYPE driftflow_task_instances gauge",
    ...tiLines.map((r) => `driftflow_task_instances{state="${r.state}"} ${r.n}`),
    "# HELP driftflow_task_duration_seconds Durations of finished task tries, by DAG.",
    "# TYPE driftflow_task_duration_seconds summary",
  ];
  for (const r of durations) {
    const labels = `dag="${labelValue(r.dagId)}"`;
    out.push(`driftflow_task_duration_seconds_sum{${labels}} ${r.totalMs / 1000}`);
    out.push(`driftflow_task_duration_seconds_count{${labels}} ${r.n}`);
  }
  const m = await monitoringCounts(store.db);
  const SEVERITY_RANK: Record<string, number> = {
    none: 0,
    minor: 1,
    moderate: 2,
    major: 3,
    prior: 4,
    concept: 5,
  };
  out.push(
    "# HELP driftflow_drift_score A column's drift statistic in the latest monitored batch of a stream.",
    "# TYPE driftflow_drift_score gauge",
  );
  for (const l of m.latest) {
    for (const [column, c] of Object.entries(l.columns)) {
      out.push(
        `driftflow_drift_score{stream="${labelValue(l.stream)}",column="${
          labelValue(column)
        }",test="${labelValue(c.test)}"} ${c.statistic}`,
      );
    }
  }
  out.push(
    "# HELP driftflow_drift_batch The number of the latest monitored batch of a stream.",
    "# TYPE driftflow_drift_batch gauge",
    ...m.latest.map((l) => `driftflow_drift_batch{stream="${labelValue(l.stream)}"} ${l.batch}`),
  );
  out.push(
    "# HELP driftflow_drifted_share Share of drifted columns in the latest batch of a stream.",
    "# TYPE driftflow_drifted_share gauge",
    ...m.latest.map((l) =>
      `driftflow_drifted_share{stream="${labelValue(l.stream)}"} ${l.driftedShare ?? 0}`
    ),
    "# HELP driftflow_severity Severity of the latest batch (0 none, 1 minor, 2 moderate, 3 major, 4 prior, 5 concept).",
    "# TYPE driftflow_severity gauge",
    ...m.latest.map((l) =>
      `driftflow_severity{stream="${labelValue(l.stream)}"} ${
        SEVERITY_RANK[l.severity ?? "none"] ?? 0
      }`
    ),
    "# HELP driftflow_roc_auc The champion's realized ROC AUC on the latest labelled batch of a stream.",
    "# TYPE driftflow_roc_auc gauge",
    ...m.latest.filter((l) => l.rocAuc !== null).map((l) =>
      `driftflow_roc_auc{stream="${labelValue(l.stream)}"} ${l.rocAuc}`
    ),
    "# HELP driftflow_alerts_total Alerts sent, by level.",
    "# TYPE driftflow_alerts_total counter",
    ...m.alerts.map((a) => `driftflow_alerts_total{level="${labelValue(a.level)}"} ${a.n}`),
    "# HELP driftflow_predictions_total Predictions served, by model.",
    "# TYPE driftflow_predictions_total counter",
    ...m.predictions.map((p) =>
      `driftflow_predictions_total{model="${labelValue(p.model)}"} ${p.n}`
    ),
  );
  return out.join("\n") + "\n";
}
