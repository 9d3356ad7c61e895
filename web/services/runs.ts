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
import { tasksToClear, UnknownTaskError } from "../../runner/clear.ts";
import { ParamsError, parseParams } from "../../runner/params.ts";
import { createDagRun } from "../../runner/runs.ts";
import { RunExistsError } from "../../runner/store/store.ts";
import type { DagRun, XcomRecord } from "../../runner/store/types.ts";
import type { WebDeps } from "./deps.ts";
import { INT4_MAX, unstorableText } from "./input_guard.ts";

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

/**
 * What the DAG's params schema says about `params`, without creating a run: one issue per problem
 * (none when they are valid, or when there is no such DAG). The form uses it when one of its JSON
 * fields did not parse, so the other fields' problems show at the same time.
 */
export function paramIssues(
  deps: Pick<WebDeps, "dags">,
  dagId: string,
  params: Record<string, unknown>,
): FieldIssue[] {
  const dag = deps.dags().get(dagId);
  if (!dag) return [];
  try {
    parseParams(dag, params);
    return [];
  } catch (e) {
    if (e instanceof ParamsError) return e.issues.map((i) => ({ in: "params", ...i }));
    throw e;
  }
}

/** What on a run page really is a link: the run ids and artifact keys that exist. */
export interface RunLinks {
  /** Ids of runs that exist, named by the run (triggered by, a trigger task's run, a `runId`). */
  runs: ReadonlySet<number>;
  /** Keys of artifacts that are in the store, found in the params, conf and XComs. */
  artifacts: ReadonlySet<string>;
}

const ARTIFACT_KEY = /^sha256:[0-9a-f]{64}$/;
const RUN_ID_KEY = /^(run_?id|triggered_?run(_?id)?|parent_?run(_?id)?)$/i;

/** True when a JSON property of this name holds a run id (`runId`, `run_id`, `triggeredRunId`…). */
export function isRunIdKey(name: string): boolean {
  return RUN_ID_KEY.test(name);
}
/** At most this many candidates are looked up per page (a huge XCom cannot make it slow). */
const MAX_CANDIDATES = 200;

/** Artifact-key strings and run-id numbers (under a key such as `runId`) inside a JSON value. */
function candidates(value: unknown, keys: Set<string>, ids: Set<number>, depth = 0): void {
  if (depth > 20 || keys.size + ids.size >= MAX_CANDIDATES) return;
  if (typeof value === "string") {
    if (ARTIFACT_KEY.test(value)) keys.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) candidates(v, keys, ids, depth + 1);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (
        RUN_ID_KEY.test(k) && Number.isInteger(v) && (v as number) > 0 && (v as number) <= INT4_MAX
      ) {
        ids.add(v as number);
      } else candidates(v, keys, ids, depth + 1);
    }
  }
}

/**
 * The run ids and artifact keys a run page can link: every `sha256:` key in its params, conf and
 * XComs (and each XCom kept as an artifact) that the artifact store has, and every run id it names
 * (the run that triggered it, a number under `runId` such as a trigger task's target run) that
 * exists. Anything else stays text.
 */
export async function runLinks(
  deps: Pick<WebDeps, "store" | "artifacts">,
  run: DagRun,
  xcoms: readonly XcomRecord[],
): Promise<RunLinks> {
  const keys = new Set<string>(), ids = new Set<number>();
  if (run.triggeredBy) ids.add(run.triggeredBy.runId);
  for (const x of xcoms) if (x.artifact && ARTIFACT_KEY.test(x.artifact)) keys.add(x.artifact);
  candidates(run.params, keys, ids);
  candidates(run.conf, keys, ids);
  for (const x of xcoms) candidates(x.value, keys, ids);
  ids.delete(run.id);
  const [runs, artifacts] = await Promise.all([
    Promise.all([...ids].map(async (id) => (await deps.store.getRun(id)) ? [id] : [])),
    Promise.all(
      [...keys].map(async (key) => (await deps.artifacts.has(key).catch(() => false)) ? [key] : []),
    ),
  ]);
  return { runs: new Set([...runs.flat(), run.id]), artifacts: new Set(artifacts.flat()) };
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
    // a task the run does not have (the message names them all); anything else is a real failure
    if (!(e instanceof UnknownTaskError)) throw e;
    return { ok: false, reason: "unknown_task", message: e.message };
  }
  await store.clear(runId, ids);
  await deps.onRunCreated?.(runId);
  return { ok: true, runId, cleared: ids };
}
