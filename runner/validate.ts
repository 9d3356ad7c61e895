/**
 * Validation of a DAG at load: the options against a zod schema, then the graph — unknown
 * dependencies, duplicate ids, cycles (printed), schedules, and a params schema without defaults on
 * a scheduled DAG. Every problem names the file and the task.
 *
 * @example
 * ```ts
 * import { validateDag } from "./validate.ts";
 * const problems = validateDag(myDag, "dags/example.ts"); // [] when the DAG is sound
 * ```
 */
import { z } from "zod";
import type { DagDefinition, TaskDef } from "./dag.ts";
import { DurationSchema } from "./duration.ts";
import { parseSchedule } from "./schedule.ts";
import { TriggerRule } from "./trigger_rules.ts";

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
  params: z.custom<z.ZodType>((v) => v instanceof z.ZodType, "expected a zod schema").optional(),
  defaults: TaskSettingsSchema.optional(),
  tags: z.array(z.string()).optional(),
  onSuccess: fn.optional(),
  onFailure: fn.optional(),
});

const TaskSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, _, - and . only"),
  deps: z.array(z.string()),
  triggerRule: TriggerRule,
  settings: TaskSettingsSchema,
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
        problems.push(
          `${where(task.id)}: unknown dependency "${dep}"; known tasks: ${[...ids].join(", ")}`,
        );
      }
    }
  }
  const cycle = findCycle(dag.tasks);
  if (cycle) problems.push(`${where(cycle[0])}: dependency cycle ${cycle.join(" -> ")}`);
  const schedule = dag.options.schedule;
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

/** A dependency cycle as a list of task ids (first repeated at the end), or null. */
export function findCycle(tasks: readonly Pick<TaskDef, "id" | "deps">[]): string[] | null {
  const deps = new Map(tasks.map((t) => [t.id, t.deps]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    const s = state.get(id);
    if (s === "done") return null;
    if (s === "visiting") return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, "visiting");
    stack.push(id);
    for (const dep of deps.get(id) ?? []) {
      if (!deps.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(id, "done");
    return null;
  };
  for (const t of tasks) {
    const cycle = visit(t.id);
    if (cycle) return cycle.reverse();
  }
  return null;
}
