/**
 * The records the store reads and writes, as the rest of the engine sees them (camelCase, Dates).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { DagRun } from "./types.ts";
 * const describe = (r: Pick<DagRun, "dagId" | "id" | "state">) =>
 *   `${r.dagId} #${r.id}: ${r.state}`;
 * assert.equal(describe({ dagId: "etl", id: 7, state: "success" }), "etl #7: success");
 * ```
 */
import type { RunState, RunType, TaskState } from "../core/states.ts";
import type { DagStructure } from "../core/dag_structure.ts";

/** A DAG as the store knows it. */
export interface DagRecord {
  dagId: string;
  fileloc: string | null;
  schedule: string | null;
  timezone: string;
  description: string | null;
  isPaused: boolean;
  paramsSchema: unknown;
  structureHash: string | null;
  lastRunState: RunState | null;
  lastRunId: number | null;
}

/** One run of a DAG. */
export interface DagRun {
  id: number;
  dagId: string;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  runType: RunType;
  state: RunState;
  conf: Record<string, unknown>;
  params: Record<string, unknown>;
  structureHash: string;
  triggeredBy: { runId: number; taskId: string } | null;
  executor: "local" | "distributed";
  queuedAt: Date;
  startDate: Date | null;
  endDate: Date | null;
}

/** The current state of one task instance (one task, or one item of a mapped task, in one run). */
export interface TaskInstance {
  runId: number;
  taskId: string;
  mapIndex: number;
  state: TaskState | null;
  tryNumber: number;
  maxTries: number;
  pool: string;
  poolSlots: number;
  startDate: Date | null;
  endDate: Date | null;
  durationMs: number | null;
  hostname: string | null;
  error: string | null;
  nextRetryAt: Date | null;
}

/** One try of a task instance. */
export interface TaskTry {
  runId: number;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  state: TaskState;
  startDate: Date;
  endDate: Date | null;
  durationMs: number | null;
  hostname: string | null;
  error: string | null;
}

/** One line of a try's log. */
export interface LogLine {
  ts: Date;
  stream: "log" | "stdout" | "stderr";
  line: string;
}

/** A stored XCom: an inline JSON value, or a reference to an artifact holding it. */
export interface XcomRecord {
  taskId: string;
  mapIndex: number;
  key: string;
  value: unknown;
  artifact: string | null;
  sizeBytes: number;
}

/** A named pool of task slots. */
export interface Pool {
  name: string;
  slots: number;
  description: string;
}

/** What a new run needs. */
export interface NewRun {
  dagId: string;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  runType: RunType;
  conf: Record<string, unknown>;
  params: Record<string, unknown>;
  structure: DagStructure;
  structureHash: string;
  triggeredBy?: { runId: number; taskId: string } | null;
  /** "local": run by the process that created it; "distributed": by the scheduler and workers. */
  executor?: "local" | "distributed";
  tasks: readonly { taskId: string; maxTries: number; pool: string; poolSlots: number }[];
}

/** A key for one task instance. */
export interface TiKey {
  runId: number;
  taskId: string;
  mapIndex: number;
}
