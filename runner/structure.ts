/**
 * A DAG's structure as plain data — what each run records, so history shows the graph as it ran —
 * and its content hash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "./dag.ts";
 * import { dagStructure, structureHash } from "./structure.ts";
 * const etl = dag({ id: "etl" })
 *   .task("extract", { run: () => 1 })
 *   .task("load", { deps: ["extract"], run: () => 2 });
 * const s = dagStructure(etl);
 * assert.deepEqual(s.tasks.map((t) => [t.id, t.deps]), [["extract", []], ["load", ["extract"]]]);
 * assert.match(await structureHash(s), /^[0-9a-f]{64}$/); // sha256 hex
 * ```
 */
import type { DagDefinition } from "./dag.ts";
import type { DagStructure } from "./core/dag_structure.ts";

export type { DagStructure, TaskStructure } from "./core/dag_structure.ts";

/** The structure of `dag` as JSON-ready data. */
export function dagStructure(dag: DagDefinition): DagStructure {
  return {
    dagId: dag.id,
    schedule: dag.options.schedule ?? null,
    tasks: dag.tasks.map((t) => ({
      id: t.id,
      kind: t.kind,
      deps: [...t.deps],
      triggerRule: t.triggerRule,
      mapped: t.mapped,
      ...(t.doc ? { doc: t.doc } : {}),
      ...(t.trigger ? { triggersDag: t.trigger.dagId } : {}),
      ...(t.outlets?.length ? { outlets: [...t.outlets] } : {}),
    })),
  };
}

/** The sha256 (hex) of the structure's JSON. */
export async function structureHash(structure: DagStructure): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(structure));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
