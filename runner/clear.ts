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
import { childrenOf } from "./core/children.ts";
import type { DagStructure } from "./structure.ts";

/** A clear named a task the run does not have. */
export class UnknownTaskError extends Error {
  constructor(readonly taskId: string, readonly known: readonly string[]) {
    super(`the run has no task "${taskId}"; its tasks: ${known.join(", ")}`);
    this.name = "UnknownTaskError";
  }
}

/**
 * The tasks to reset, in the structure's order; throws {@link UnknownTaskError} for a task the run
 * does not have. With `downstream`, a breadth-first walk over the children (linear in the edges).
 */
export function tasksToClear(
  structure: DagStructure,
  taskIds: readonly string[] | undefined,
  downstream: boolean,
): string[] {
  const all = structure.tasks.map((t) => t.id);
  const known = new Set(all);
  const ids = taskIds && taskIds.length ? taskIds : all;
  for (const id of ids) if (!known.has(id)) throw new UnknownTaskError(id, all);
  const set = new Set(ids);
  if (downstream) {
    const children = childrenOf(structure.tasks);
    const queue = [...set];
    for (let i = 0; i < queue.length; i++) {
      for (const c of children.get(queue[i]) ?? []) {
        if (!set.has(c)) {
          set.add(c);
          queue.push(c);
        }
      }
    }
  }
  return all.filter((id) => set.has(id));
}
