/**
 * Each task's direct downstream tasks, from the tasks' dependency lists: what a walk downstream
 * (a clear, a trigger rule's children) needs. Linear in the edges.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { childrenOf } from "./children.ts";
 * const children = childrenOf([
 *   { id: "extract", deps: [] },
 *   { id: "clean", deps: ["extract"] },
 *   { id: "load", deps: ["extract", "clean"] },
 * ]);
 * assert.deepEqual(children.get("extract"), ["clean", "load"]);
 * assert.equal(children.get("load"), undefined); // no children
 * ```
 */

/** Each task id's children, in the tasks' order (tasks without children are absent). */
export function childrenOf(
  tasks: readonly { id: string; deps: readonly string[] }[],
): Map<string, string[]> {
  const children = new Map<string, string[]>();
  for (const t of tasks) {
    for (const d of t.deps) {
      const list = children.get(d);
      if (list) list.push(t.id);
      else children.set(d, [t.id]);
    }
  }
  return children;
}
