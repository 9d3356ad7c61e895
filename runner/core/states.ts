/**
 * The states of runs and task instances, with Airflow's names and meanings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isFinished } from "./states.ts";
 * assert.equal(isFinished("upstream_failed"), true);
 * assert.equal(isFinished("running"), false);
 * ```
 */
import { z } from "zod";

/** A DAG run's state. */
export const RunState = z.enum(["queued", "running", "success", "failed"]);
export type RunState = z.infer<typeof RunState>;

/** A task instance's state; `null` (shown as "none") means not yet considered. */
export const TaskState = z.enum([
  "scheduled",
  "queued",
  "running",
  "success",
  "failed",
  "skipped",
  "upstream_failed",
  "up_for_retry",
  "up_for_reschedule",
]);
export type TaskState = z.infer<typeof TaskState>;

const FINISHED: ReadonlySet<TaskState> = new Set([
  "success",
  "failed",
  "skipped",
  "upstream_failed",
]);

/** True for the states a task instance does not leave by itself. */
export function isFinished(state: TaskState | null): boolean {
  return state !== null && FINISHED.has(state);
}

/** How runs are started. */
export const RunType = z.enum(["manual", "scheduled", "backfill", "triggered", "asset_triggered"]);
export type RunType = z.infer<typeof RunType>;
