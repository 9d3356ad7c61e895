/**
 * GET /metrics in Prometheus text format: runs by DAG and state, task instances by state, task
 * durations (sum and count by DAG and task), so an existing Grafana can chart Driftflow.
 *
 * @example
 * ```ts
 * const text = await prometheusText(store); // "# TYPE driftflow_runs gauge\n…"
 * ```
 */
import type { Store } from "../runner/store/store.ts";

/** Escapes a label value per the exposition format. */
export function labelValue(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

type Row = Record<string, unknown>;

export async function prometheusText(store: Store): Promise<string> {
  const [runs, tis, durations] = await Promise.all([
    store.db.query<Row>(
      "select dag_id, state, count(*)::int as n from dag_runs group by dag_id, state order by 1, 2",
    ),
    store.db.query<Row>(
      "select coalesce(state, 'none') as state, count(*)::int as n from task_instances group by 1 order by 1",
    ),
    store.db.query<Row>(
      `select r.dag_id, t.task_id, count(*)::int as n, coalesce(sum(t.duration_ms), 0)::float8 as ms
       from task_tries t join dag_runs r on r.id = t.run_id where t.duration_ms is not null
       group by 1, 2 order by 1, 2`,
    ),
  ]);
  const out: string[] = [
    "# HELP driftflow_runs DAG runs by DAG and state.",
    "# TYPE driftflow_runs gauge",
    ...runs.map((r) =>
      `driftflow_runs{dag="${labelValue(String(r.dag_id))}",state="${r.state}"} ${r.n}`
    ),
    "# HELP driftflow_task_instances Task instances by state.",
    "# TYPE driftflow_task_instances gauge",
    ...tis.map((r) => `driftflow_task_instances{state="${r.state}"} ${r.n}`),
    "# HELP driftflow_task_duration_seconds Durations of finished task tries.",
    "# TYPE driftflow_task_duration_seconds summary",
  ];
  for (const r of durations) {
    const labels = `dag="${labelValue(String(r.dag_id))}",task="${labelValue(String(r.task_id))}"`;
    out.push(`driftflow_task_duration_seconds_sum{${labels}} ${Number(r.ms) / 1000}`);
    out.push(`driftflow_task_duration_seconds_count{${labels}} ${r.n}`);
  }
  return out.join("\n") + "\n";
}
