/**
 * The stable JSON document `deno task runs <dag_id> --json` prints: version 1. Fields are only ever
 * added, never renamed or removed, within a version. Dates are ISO 8601 strings in UTC; durations
 * are milliseconds.
 *
 * ```json
 * { "version": 1, "dagId": "example", "runs": [{ "id": 3, "state": "success", "tasks": [
 *   { "taskId": "extract", "mapIndex": -1, "state": "success", "tryNumber": 1, "tries": [
 *     { "tryNumber": 1, "state": "success", "startDate": "…", "endDate": "…", "durationMs": 4 } ] } ] }] }
 * ```
 */
import { z } from "zod";
import { RunState, RunType, TaskState } from "../core/states.ts";
import type { DagRun, TaskInstance, TaskTry } from "../store/types.ts";

const isoDate = z.string().datetime();

export const TryJson = z.object({
  tryNumber: z.number().int(),
  state: TaskState,
  startDate: isoDate,
  endDate: isoDate.nullable(),
  durationMs: z.number().nullable(),
  hostname: z.string().nullable(),
  error: z.string().nullable(),
});

export const TaskJson = z.object({
  taskId: z.string(),
  mapIndex: z.number().int(),
  state: TaskState.nullable(),
  tryNumber: z.number().int(),
  maxTries: z.number().int(),
  startDate: isoDate.nullable(),
  endDate: isoDate.nullable(),
  durationMs: z.number().nullable(),
  error: z.string().nullable(),
  tries: z.array(TryJson),
});

export const RunJson = z.object({
  id: z.number().int(),
  dagId: z.string(),
  state: RunState,
  runType: RunType,
  logicalDate: isoDate,
  dataInterval: z.object({ start: isoDate, end: isoDate }),
  queuedAt: isoDate,
  startDate: isoDate.nullable(),
  endDate: isoDate.nullable(),
  durationMs: z.number().nullable(),
  conf: z.record(z.string(), z.unknown()),
  params: z.record(z.string(), z.unknown()),
  structureHash: z.string(),
  tasks: z.array(TaskJson),
});

export const RunsJson = z.object({
  version: z.literal(1),
  dagId: z.string(),
  runs: z.array(RunJson),
});
export type RunsJson = z.infer<typeof RunsJson>;

const d = (x: Date | null) => (x ? x.toISOString() : null);

/** Builds the document from store records. */
export function runsJson(
  dagId: string,
  runs: DagRun[],
  tis: TaskInstance[],
  tries: TaskTry[],
): RunsJson {
  return {
    version: 1,
    dagId,
    runs: runs.map((r) => ({
      id: r.id,
      dagId: r.dagId,
      state: r.state,
      runType: r.runType,
      logicalDate: r.logicalDate.toISOString(),
      dataInterval: {
        start: r.dataIntervalStart.toISOString(),
        end: r.dataIntervalEnd.toISOString(),
      },
      queuedAt: r.queuedAt.toISOString(),
      startDate: d(r.startDate),
      endDate: d(r.endDate),
      durationMs: r.startDate && r.endDate ? r.endDate.getTime() - r.startDate.getTime() : null,
      conf: r.conf,
      params: r.params,
      structureHash: r.structureHash,
      tasks: tis.filter((t) => t.runId === r.id).map((t) => ({
        taskId: t.taskId,
        mapIndex: t.mapIndex,
        state: t.state,
        tryNumber: t.tryNumber,
        maxTries: t.maxTries,
        startDate: d(t.startDate),
        endDate: d(t.endDate),
        durationMs: t.durationMs,
        error: t.error,
        tries: tries.filter((x) =>
          x.runId === r.id && x.taskId === t.taskId && x.mapIndex === t.mapIndex
        )
          .map((x) => ({
            tryNumber: x.tryNumber,
            state: x.state,
            startDate: x.startDate.toISOString(),
            endDate: d(x.endDate),
            durationMs: x.durationMs,
            hostname: x.hostname,
            error: x.error,
          })),
      })),
    })),
  };
}
