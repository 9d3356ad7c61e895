/**
 * What a task library function needs from the task it runs in: the run's identity, its log, the
 * artifact store and the engine's database, and the run's parameters. A DAG task passes its `ctx`
 * (Driftflow's `TaskContext` has all of these) and hands upstream XCom values as arguments, so the
 * DAG file shows the data flow and the function stays testable with a plain object.
 *
 * @example
 * ```ts
 * import type { TaskEnv } from "./task_env.ts";
 * const lines: string[] = [];
 * const env: Pick<TaskEnv<{ model: string }>, "params" | "log"> = {
 *   params: { model: "flights_delay" },
 *   log: (...a) => lines.push(a.join(" ")),
 * };
 * env.log(`monitoring ${env.params.model}`);
 * if (lines[0] !== "monitoring flights_delay") throw new Error(lines[0]);
 * ```
 */
import type { ArtifactStore } from "../../runner/artifacts/artifact_store.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";

/** The parts of a task's context a library function uses, with the run's parameters `P`. */
export interface TaskEnv<P> {
  readonly dagId: string;
  readonly runId: number;
  readonly taskId: string;
  /** The run's parameters, validated by the DAG's params schema. */
  readonly params: P;
  /** Writes a line to the try's log. */
  log(...args: unknown[]): void;
  /** Stores bytes or text as an artifact; resolves to its content key (sha256:…). */
  putArtifact(data: Uint8Array | string): Promise<string>;
  /** The bytes of an artifact by its content key. */
  getArtifact(key: string): Promise<Uint8Array>;
  /** The engine's database (the registry, the monitoring table and the alerts live there). */
  readonly db: SqlClient;
  /** The engine's artifact store (model packages). */
  readonly artifacts: ArtifactStore;
}
