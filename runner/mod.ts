/**
 * Driftflow's public authoring API — what DAG files import (as `driftflow` through the import map).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag, isDag, z } from "driftflow";
 *
 * const hello = dag({
 *   id: "hello",
 *   schedule: "@daily",
 *   params: z.object({ name: z.string().default("world") }),
 * })
 *   .task("greet", { run: (ctx) => `hello ${ctx.params.name}, ${ctx.logicalDate.toISOString()}` })
 *   .command("echo", { deps: ["greet"], cmd: (ctx) => ["echo", ctx.xcom("greet")] });
 * // a file in dags/ ends with `export default hello;`
 *
 * assert.ok(isDag(hello));
 * ```
 */
export { z } from "zod";
export { Dag, dag, isDag, SkipTask } from "./dag.ts";
export type {
  BranchSpec,
  CommandResult,
  CommandSpec,
  DagOptions,
  DataInterval,
  FunctionSpec,
  MappedSpec,
  RunEvent,
  SensorSpec,
  TaskContext,
  TaskDef,
  TaskEvent,
  TaskSettings,
  TriggerResult,
  TriggerSpec,
} from "./dag.ts";
export type { TriggerRule } from "./core/trigger_rules.ts";
export * from "./sensors/mod.ts";
export type { RunState, RunType, TaskState } from "./core/states.ts";
export type { SqlClient } from "./store/sql_client.ts";
export type { ArtifactStore } from "./artifacts/artifact_store.ts";
