/**
 * Seeds a store with many finished runs of one DAG in a few statements, for page-speed tests and
 * the web benchmark.
 */
import type { DagDefinition } from "../../runner/dag.ts";
import { syncDag } from "../../runner/cli/common.ts";
import type { Store } from "../../runner/store/store.ts";
import { dagStructure, structureHash } from "../../runner/structure.ts";

export async function seedRuns(store: Store, dag: DagDefinition, runs: number): Promise<void> {
  await syncDag(store, dag);
  const hash = await structureHash(dagStructure(dag));
  await store.db.query(
    `insert into dag_runs (dag_id, logical_date, data_interval_start, data_interval_end, run_type, state, structure_hash,
       start_date, end_date)
     select $1, t, t, t + interval '1 hour', 'scheduled', case when i % 17 = 0 then 'failed' else 'success' end, $2,
       t, t + interval '3 seconds'
     from generate_series(1, $3::int) i, lateral (select timestamptz '2025-01-01' + i * interval '1 hour' as t) x`,
    [dag.id, hash, runs],
  );
  await store.db.query(
    `insert into task_instances (run_id, task_id, map_index, state, try_number, start_date, end_date, duration_ms)
     select r.id, t.id, -1, case when r.state = 'failed' and t.n = $3::int then 'failed' else 'success' end, 1,
       r.start_date, r.end_date, 1000
     from dag_runs r, unnest($2::text[]) with ordinality as t(id, n) where r.dag_id = $1`,
    [dag.id, dag.tasks.map((t) => t.id), dag.tasks.length],
  );
  await store.db.query(
    `insert into task_tries (run_id, task_id, map_index, try_number, state, start_date, end_date, duration_ms)
     select run_id, task_id, map_index, 1, state, start_date, end_date, duration_ms from task_instances
     where run_id in (select id from dag_runs where dag_id = $1)`,
    [dag.id],
  );
}
