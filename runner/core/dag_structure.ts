/**
 * The recorded shape of a DAG: the vocabulary the store keeps with every run (so history shows the
 * graph as it ran) and the DAG builder produces. Types only; {@link ../structure.ts} derives one
 * from a DAG definition.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DagStructure } from "./dag_structure.ts";
 * const s: DagStructure = {
 *   dagId: "etl",
 *   schedule: "@daily",
 *   tasks: [
 *     { id: "extract", kind: "function", deps: [], triggerRule: "all_success", mapped: false },
 *     { id: "load", kind: "function", deps: ["extract"], triggerRule: "all_done", mapped: false },
 *   ],
 * };
 * assert.deepEqual(s.tasks.map((t) => t.id), ["extract", "load"]);
 * ```
 */
import type { TriggerRule } from "./trigger_rules.ts";

/** The kinds of task. */
export type TaskKind = "function" | "branch" | "command" | "trigger" | "sensor";

/** One task of a recorded structure. */
export interface TaskStructure {
  id: string;
  kind: TaskKind;
  deps: string[];
  triggerRule: TriggerRule;
  mapped: boolean;
  doc?: string;
  triggersDag?: string;
  outlets?: string[];
}

/** The recorded structure of a DAG. */
export interface DagStructure {
  dagId: string;
  schedule: string | null;
  tasks: TaskStructure[];
}
