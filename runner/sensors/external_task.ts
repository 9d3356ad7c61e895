/**
 * A ready-made poke for another DAG's task (Airflow's ExternalTaskSensor): the run of `dagId` at
 * the same logical date as this run (or shifted by `delta`, Airflow's execution_delta) — its task
 * `taskId`, or the whole run without one — must reach one of `allowedStates` (default success).
 * A state in `failedStates` fails the sensor at once. Its value is `{ runId, state }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "../dag.ts";
 * import { createDagRun } from "../runs.ts";
 * import { openStore } from "../store/open.ts";
 * import { externalTask } from "./external_task.ts";
 * const etlDone = externalTask({ dagId: "etl", taskId: "load" });
 * dag({ id: "report", schedule: "@daily" }) // how a DAG uses it
 *   .sensor("etl_done", { poke: etlDone, mode: "reschedule" });
 * const store = await openStore({ memory: true });
 * try {
 *   const logicalDate = new Date("2026-01-02T00:00:00Z");
 *   const etl = dag({ id: "etl", schedule: "@daily" }).task("load", { run: () => 1 });
 *   const run = await createDagRun(store, etl, { logicalDate });
 *   assert.equal(await etlDone({ db: store.db, logicalDate }), false); // "load" has not run yet
 *   await store.setTaskState({ runId: run.id, taskId: "load", mapIndex: -1 }, "success");
 *   const found = await etlDone({ db: store.db, logicalDate });
 *   assert.deepEqual(found, { runId: run.id, state: "success" });
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { AnyContext } from "../dag.ts";
import { type Duration, parseDuration } from "../duration.ts";

/** What to wait for. */
export interface ExternalTaskOptions {
  dagId: string;
  /** A task of that DAG; without one, the run's own state. */
  taskId?: string;
  /** Default ["success"]. */
  allowedStates?: readonly string[];
  /** States that fail the sensor at once (default ["failed", "upstream_failed"]). */
  failedStates?: readonly string[];
  /** The other run's logical date is this run's minus `delta` (default 0). */
  delta?: Duration;
}

/** Pokes another DAG's task or run; see the module doc. */
export function externalTask(
  o: ExternalTaskOptions,
): (
  ctx: Pick<AnyContext, "db" | "logicalDate">,
) => Promise<{ runId: number; state: string } | false> {
  const allowed = o.allowedStates ?? ["success"];
  const failed = o.failedStates ?? ["failed", "upstream_failed"];
  return async (ctx) => {
    const at = new Date(ctx.logicalDate.getTime() - (o.delta ? parseDuration(o.delta) : 0));
    const rows = o.taskId
      ? await ctx.db.query<{ id: number; state: string | null }>(
        `select r.id, ti.state from dag_runs r join task_instances ti on ti.run_id = r.id
         where r.dag_id = $1 and r.logical_date = $2::timestamptz and ti.task_id = $3
           and ti.map_index = -1`,
        [o.dagId, at.toISOString(), o.taskId],
      )
      : await ctx.db.query<{ id: number; state: string | null }>(
        "select id, state from dag_runs where dag_id = $1 and logical_date = $2::timestamptz",
        [o.dagId, at.toISOString()],
      );
    const row = rows[0];
    if (!row || row.state === null) return false;
    const what = `${
      o.taskId ? `task "${o.taskId}" of ` : ""
    }dag "${o.dagId}" at ${at.toISOString()}`;
    if (failed.includes(row.state)) throw new Error(`${what} is ${row.state}`);
    return allowed.includes(row.state) ? { runId: Number(row.id), state: row.state } : false;
  };
}
