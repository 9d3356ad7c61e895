/**
 * Triggering a run and clearing tasks, once for both surfaces: the HTML routes (web/app.tsx) and
 * the JSON API (web/api/routes.ts) call these and render the typed outcome each its own way (a
 * redirect or a form with errors beside its fields; a JSON document with a status).
 *
 * @example
 * ```ts
 * import { clearTasks, issueField, triggerRun } from "./runs.ts";
 * import type { WebDeps } from "./deps.ts";
 *
 * async function rerunFailed(deps: WebDeps, runId: number): Promise<string[]> {
 *   const cleared = await clearTasks(deps, runId, { onlyFailed: true });
 *   if (!cleared.ok) throw new Error(cleared.message); // no such run, or an unknown task
 *   return cleared.cleared; // the failed tasks and everything downstream of them
 * }
 *
 * async function trigger(deps: WebDeps): Promise<number | string[]> {
 *   const t = await triggerRun(deps, "example", { params: { batchSize: 10 } });
 *   if (t.ok) return t.run.id;
 *   // "params.batchSize: Too small: expected number to be >0"
 *   return t.reason === "invalid" ? t.issues.map((i) => `${issueField(i)}: ${i.message}`) : [];
 * }
 * ```
 */
import { tasksToClear } from "../../runner/clear.ts";
import { ParamsError } from "../../runner/params.ts";
import { createDagRun } from "../../runner/runs.ts";
import { RunExistsError } from "../../runner/store/store.ts";
import type { DagRun } from "../../runner/store/types.ts";
import type { WebDeps } from "./deps.ts";
import { unstorableText } from "./input_guard.ts";

/** What a run is triggered with. */
export interface TriggerRequest {
  params?: Record<string, unknown>;
  conf?: Record<string, unknown>;
  /** Default: now. */
  logicalDate?: Date;
}

/**
 * One problem with a trigger request: where (in params or conf, and the path there), what was
 * wrong, and what would be right.
 */
export interface FieldIssue {
  in: "params" | "conf";
  /** The path inside `in`; `[]` for the whole of it. */
  path: readonly (string | number)[];
  message: string;
  /** What would be right, in a few words, when known. */
  expected?: string;
}

/** The field an issue names, for the API: `params.batchSize`, `conf.note`, `params.(root)`. */
export function issueField(issue: Pick<FieldIssue, "in" | "path">): string {
  return `${issue.in}.${issue.path.join(".") || "(root)"}`;
}

export type TriggerResult =
  | { ok: true; run: DagRun }
  | { ok: false; reason: "no_dag"; message: string }
  | { ok: false; reason: "invalid"; message: string; issues: FieldIssue[] }
  | { ok: false; reason: "exists"; message: string };

/**
 * Creates a queued run of `dagId` for the scheduler and workers, and tells the scheduler. Refuses
 * an unknown DAG, params the DAG's schema rejects, text the database cannot store, and a second run
 * at the same logical date.
 */
export async function triggerRun(
  deps: Pick<WebDeps, "store" | "dags" | "onRunCreated">,
  dagId: string,
  request: TriggerRequest,
): Promise<TriggerResult> {
  const dag = deps.dags().get(dagId);
  if (!dag) return { ok: false, reason: "no_dag", message: `no DAG "${dagId}"` };
  const params = request.params ?? {}, conf = request.conf ?? {};
  const unstorable = (["params", "conf"] as const).flatMap((where) => {
    const hit = unstorableText(where === "params" ? params : conf);
    return hit ? [{ in: where, path: hit.path, message: hit.message }] : [];
  });
  if (unstorable.length) {
    return { ok: false, reason: "invalid", message: "invalid request", issues: unstorable };
  }
  try {
    const run = await createDagRun(deps.store, dag, {
      conf,
      params,
      logicalDate: request.logicalDate,
      executor: "distributed",
    });
    await deps.onRunCreated?.(run.id);
    return { ok: true, run };
  } catch (e) {
    if (e instanceof ParamsError) {
      return {
        ok: false,
        reason: "invalid",
        message: `invalid params for dag "${dagId}"`,
        issues: e.issues.map((i) => ({ in: "params", ...i })),
      };
    }
    if (e instanceof RunExistsError) return { ok: false, reason: "exists", message: e.message };
    throw e;
  }
}

/** Which tasks of a run to clear. */
export interface ClearRequest {
  /** The tasks to clear; all when none are named. */
  taskIds?: readonly string[];
  /** Also every task downstream of them. */
  downstream?: boolean;
  /** Instead of `taskIds`: the failed and upstream-failed tasks, and what is downstream of them. */
  onlyFailed?: boolean;
}

export type ClearResult =
  | { ok: true; runId: number; cleared: string[] }
  | { ok: false; reason: "no_run"; message: string }
  | { ok: false; reason: "unknown_task"; message: string };

/**
 * Resets tasks of a run so they run again, and tells the scheduler. With `onlyFailed` and nothing
 * failed, clears nothing.
 */
export async function clearTasks(
  deps: Pick<WebDeps, "store" | "onRunCreated">,
  runId: number,
  request: ClearRequest,
): Promise<ClearResult> {
  const { store } = deps;
  const run = await store.getRun(runId);
  const structure = run && await store.structure(run.structureHash);
  if (!run || !structure) return { ok: false, reason: "no_run", message: "no such run" };
  let named = request.taskIds;
  if (request.onlyFailed) {
    named = [
      ...new Set(
        (await store.taskInstances(runId))
          .filter((t) => t.state === "failed" || t.state === "upstream_failed")
          .map((t) => t.taskId),
      ),
    ];
    if (named.length === 0) return { ok: true, runId, cleared: [] };
  }
  let ids: string[];
  try {
    ids = tasksToClear(structure, named, Boolean(request.downstream || request.onlyFailed));
  } catch (e) {
    // the one thing tasksToClear refuses: a task the run does not have (the message names them all)
    return { ok: false, reason: "unknown_task", message: (e as Error).message };
  }
  await store.clear(runId, ids);
  await deps.onRunCreated?.(runId);
  return { ok: true, runId, cleared: ids };
}
