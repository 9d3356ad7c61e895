/**
 * Validation of a DAG at load: the options against a zod schema, then the graph — unknown
 * dependencies, duplicate ids, cycles (printed), schedules, and a params schema without defaults on
 * a scheduled DAG. Every problem names the file and the task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "./dag.ts";
 * import { validateDag } from "./validate.ts";
 * const sound = dag({ id: "etl" }).task("extract", { run: () => 1 });
 * assert.deepEqual(validateDag(sound, "dags/etl.ts"), []);
 * const bad = dag({ id: "etl", schedule: "every tuesday" }).task("extract", { run: () => 1 });
 * const [problem] = validateDag(bad, "dags/etl.ts");
 * assert.match(problem, /^dags\/etl\.ts: dag "etl": .*invalid schedule "every tuesday"/);
 * ```
 */
import { z } from "zod";
import type { DagDefinition, TaskDef } from "./dag.ts";
import { DurationSchema } from "./duration.ts";
import { parseSchedule } from "./schedule.ts";
import { TriggerRule } from "./core/trigger_rules.ts";
import { AssetUri } from "./assets.ts";

const fn = z.custom<(...args: never[]) => unknown>(
  (v) => typeof v === "function",
  "expected a function",
);
const isoDate = z.string().refine(
  (s) => !Number.isNaN(Date.parse(s)),
  "expected an ISO date such as 2026-01-01",
);

const TaskSettingsSchema = z.strictObject({
  retries: z.number().int().min(0).optional(),
  retryDelay: DurationSchema.optional(),
  retryBackoff: z.enum(["fixed", "exponential"]).optional(),
  maxRetryDelay: DurationSchema.optional(),
  timeout: DurationSchema.nullable().optional(),
  pool: z.string().min(1).optional(),
  poolSlots: z.number().int().positive().optional(),
  dependsOnPast: z.boolean().optional(),
});

const DagOptionsSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, _, - and . only"),
  description: z.string().optional(),
  schedule: z.string().nullable().optional(),
  timezone: z.string().optional(),
  startDate: isoDate.optional(),
  endDate: isoDate.optional(),
  catchup: z.boolean().optional(),
  maxActiveRuns: z.number().int().positive().optional(),
  maxActiveTasks: z.number().int().positive().optional(),
  dagrunTimeout: DurationSchema.optional(),
  params: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "expected a zod schema").optional(),
  defaults: TaskSettingsSchema.optional(),
  tags: z.array(z.string()).optional(),
  experiment: z.strictObject({
    summaryTask: z.string().min(1),
    title: z.string().min(1).optional(),
  }).optional(),
  onAssets: z.array(AssetUri).min(1).optional(),
  watchAssets: z.boolean().optional(),
  onSuccess: fn.optional(),
  onFailure: fn.optional(),
});

const TaskSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, _, - and . only"),
  deps: z.array(z.string()),
  triggerRule: TriggerRule,
  settings: TaskSettingsSchema,
  outlets: z.array(AssetUri).optional(),
});

/** Problems with `dag`, one line each, each starting with `file` (and the task when there is one). */
export function validateDag(
  dag: DagDefinition,
  file = dag.fileloc ?? "<unknown file>",
): string[] {
  const problems: string[] = [];
  const where = (task?: string) =>
    `${file}: dag "${dag.options.id}"${task ? `, task "${task}"` : ""}`;
  const options = DagOptionsSchema.safeParse(dag.options);
  if (!options.success) {
    for (const issue of options.error.issues) {
      problems.push(`${where()}: option ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    }
  }
  const ids = new Set<string>();
  for (const task of dag.tasks) {
    const parsed = TaskSchema.safeParse(task);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${where(task.id)}: ${issue.path.join(".")}: ${issue.message}`);
      }
    }
    if (ids.has(task.id)) {
      problems.push(`${where(task.id)}: duplicate task id; each task id must be unique`);
    }
    ids.add(task.id);
  }
  for (const task of dag.tasks) {
    for (const dep of task.deps) {
      if (!ids.has(dep)) {
        const others = [...ids].filter((id) => id !== task.id);
        problems.push(
          `${where(task.id)}: unknown dependency "${dep}"; known tasks: ${
            others.length > 20
              ? `${others.slice(0, 20).join(", ")}, … (${others.length - 20} more)`
              : others.join(", ") || "(none)"
          }`,
        );
      }
    }
  }
  const summaryTask = dag.options.experiment?.summaryTask;
  if (summaryTask && !ids.has(summaryTask)) {
    problems.push(
      `${where()}: experiment.summaryTask "${summaryTask}" is not a task of the DAG; its tasks: ${
        [...ids].join(", ") || "(none)"
      }`,
    );
  }
  const cycle = findCycle(dag.tasks);
  if (!cycle) problems.push(...xcomReadProblems(dag.tasks, ids, where));
  if (cycle) problems.push(`${where(cycle[0])}: dependency cycle ${cycle.join(" -> ")}`);
  const schedule = dag.options.schedule;
  if (Array.isArray(schedule)) {
    problems.push(
      `${where()}: schedule is a list; to run on assets (Airflow's schedule=[Asset(…)]) write ` +
        `onAssets: ${JSON.stringify(schedule)} and leave schedule out`,
    );
    return problems;
  }
  if (schedule && dag.options.onAssets?.length) {
    problems.push(
      `${where()}: both a schedule and onAssets; a DAG runs on a cron or on assets: drop one`,
    );
  }
  if (dag.options.watchAssets && !dag.options.onAssets?.length) {
    problems.push(`${where()}: watchAssets without onAssets; list the asset URIs to watch`);
  }
  if (schedule) {
    try {
      parseSchedule(schedule, dag.options.timezone ?? "UTC");
    } catch (e) {
      problems.push(`${where()}: ${(e as Error).message}`);
    }
    if (dag.options.params instanceof z.ZodType) {
      const defaults = dag.options.params.safeParse({});
      if (!defaults.success) {
        const fields = defaults.error.issues.map((i) => i.path.join(".")).join(", ");
        problems.push(
          `${where()}: a scheduled DAG's params need defaults, but these have none: ${fields}`,
        );
      }
    }
  }
  return problems;
}

/**
 * A dependency cycle as a list of task ids (first repeated at the end), or null. Iterative depth
 * first search, linear in tasks + edges (a chain of 50,000 tasks does not overflow the stack).
 */
export function findCycle(tasks: readonly Pick<TaskDef, "id" | "deps">[]): string[] | null {
  const deps = new Map(tasks.map((t) => [t.id, t.deps]));
  const state = new Map<string, "visiting" | "done">();
  for (const t of tasks) {
    if (state.has(t.id)) continue;
    // The path from t and, for each task on it, the index of the next dependency to visit.
    const path: string[] = [t.id];
    const next: number[] = [0];
    state.set(t.id, "visiting");
    while (path.length) {
      const id = path[path.length - 1];
      const ds = deps.get(id) ?? [];
      const i = next[next.length - 1]++;
      if (i >= ds.length) {
        state.set(id, "done");
        path.pop();
        next.pop();
        continue;
      }
      const dep = ds[i];
      if (!deps.has(dep)) continue;
      const s = state.get(dep);
      if (s === "done") continue;
      if (s === "visiting") return [...path.slice(path.indexOf(dep)), dep].reverse();
      state.set(dep, "visiting");
      path.push(dep);
      next.push(0);
    }
  }
  return null;
}

/** `ctx.xcom("id")` / `ctx.maybeXcom("id")` with a literal id, in a task function's source. */
const XCOM_READ = /\.(?:xcom|maybeXcom)\(\s*(["'`])([A-Za-z0-9_.-]+)\1\s*\)/g;

/**
 * Reads of a task that is not upstream: `ctx.xcom("each")` in a task that does not depend on
 * `each`, directly or not, would only work when `each` happened to finish first. Found in the
 * functions' source (literal ids); a computed id is checked when the task runs.
 */
function xcomReadProblems(
  tasks: readonly TaskDef[],
  ids: ReadonlySet<string>,
  where: (task?: string) => string,
): string[] {
  const problems: string[] = [];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  // The ancestors of a task, computed only for a task that reads beyond its direct deps.
  const ancestors = (id: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length) {
      for (const d of byId.get(stack.pop()!)?.deps ?? []) {
        if (!seen.has(d)) {
          seen.add(d);
          stack.push(d);
        }
      }
    }
    return seen;
  };
  for (const task of tasks) {
    let upstream: Set<string> | null = null;
    const sources = [task.run, task.expand, task.cmd, task.trigger?.conf]
      .filter((f) => typeof f === "function")
      .map((f) => Function.prototype.toString.call(f));
    for (const source of sources) {
      for (const m of source.matchAll(XCOM_READ)) {
        const read = m[2];
        if (!ids.has(read) || task.deps.includes(read)) continue;
        upstream ??= ancestors(task.id);
        if (upstream.has(read)) continue;
        problems.push(
          `${where(task.id)}: reads ctx.xcom("${read}"), but "${read}" is not upstream of ` +
            `"${task.id}" (it would only work by timing); add "${read}" to deps`,
        );
      }
    }
  }
  return problems;
}
