/**
 * Which tasks a clear resets: the named ones (all when none are named), plus — with `downstream` —
 * every task after them in the graph the run recorded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "./dag.ts";
 * import { tasksToClear } from "./clear.ts";
 * import { dagStructure } from "./structure.ts";
 * const etl = dag({ id: "etl" })
 *   .task("extract", { run: () => 1 })
 *   .task("transform", { deps: ["extract"], run: () => 2 })
 *   .task("report", { deps: ["transform"], run: () => 3 });
 * assert.deepEqual(tasksToClear(dagStructure(etl), ["transform"], true), ["transform", "report"]);
 * assert.deepEqual(tasksToClear(dagStructure(etl), ["transform"], false), ["transform"]);
 * ```
 */
import type { DagStructure } from "./structure.ts";

export function tasksToClear(
  structure: DagStructure,
  taskIds: readonly string[] | undefined,
  downstream: boolean,
): string[] {
  const all = structure.tasks.map((t) => t.id);
  const ids = taskIds && taskIds.length ? taskIds : all;
  for (const id of ids) {
    if (!all.includes(id)) {
      throw new Error(`the run has no task "${id}"; its tasks: ${all.join(", ")}`);
    }
  }
  const set = new Set(ids);
  for (let grew = downstream; grew;) {
    grew = false;
    for (const t of structure.tasks) {
      if (!set.has(t.id) && t.deps.some((d) => set.has(d))) {
        set.add(t.id);
        grew = true;
      }
    }
  }
  return all.filter((id) => set.has(id));
}
