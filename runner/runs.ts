/**
 * Creating a DAG run: params validated, the data interval derived from the schedule, the DAG's
 * structure recorded with its hash, and one task instance per task.
 *
 * @example
 * ```ts
 * import { createDagRun } from "./runs.ts";
 * const run = await createDagRun(store, myDag, { conf: {}, params: { batchSize: 500 } });
 * ```
 */
import type { DagDefinition } from "./dag.ts";
import { parseParams } from "./params.ts";
import { parseSchedule } from "./schedule.ts";
import type { RunType } from "./states.ts";
import { RunExistsError, type Store } from "./store/store.ts";
import type { DagRun } from "./store/types.ts";
import { dagStructure, structureHash } from "./structure.ts";

/** What a new run may be given. */
export interface CreateRunOptions {
  /** Free-form configuration; its keys that the params schema knows also set params. */
  conf?: Record<string, unknown>;
  /** Raw param values (validated); they win over conf keys of the same name. */
  params?: Record<string, unknown>;
  /** Default: now. */
  logicalDate?: Date;
  /** Default: [logicalDate, next schedule tick) or [logicalDate, logicalDate] for manual DAGs. */
  dataInterval?: { start: Date; end: Date };
  runType?: RunType;
  triggeredBy?: { runId: number; taskId: string } | null;
  /** "local" (default): this process runs it; "distributed": the scheduler and workers do. */
  executor?: "local" | "distributed";
}

/** Creates a queued run of `dag`. */
export async function createDagRun(
  store: Store,
  dag: DagDefinition,
  opts: CreateRunOptions = {},
): Promise<DagRun> {
  const conf = opts.conf ?? {};
  const params = parseParams(dag, { ...conf, ...(opts.params ?? {}) });
  const logicalDate = opts.logicalDate ?? new Date();
  let interval = opts.dataInterval;
  if (!interval) {
    const schedule = dag.options.schedule
      ? parseSchedule(dag.options.schedule, dag.options.timezone ?? "UTC")
      : null;
    interval = { start: logicalDate, end: schedule?.next(logicalDate) ?? logicalDate };
  }
  const structure = dagStructure(dag);
  const defaults = dag.options.defaults ?? {};
  return await store.createRun({
    dagId: dag.id,
    logicalDate,
    dataIntervalStart: interval.start,
    dataIntervalEnd: interval.end,
    runType: opts.runType ?? "manual",
    conf,
    params,
    structure,
    structureHash: await structureHash(structure),
    triggeredBy: opts.triggeredBy ?? null,
    executor: opts.executor ?? "local",
    tasks: dag.tasks.map((t) => ({
      taskId: t.id,
      maxTries: t.settings.retries ?? defaults.retries ?? 0,
      pool: t.settings.pool ?? defaults.pool ?? "default_pool",
      poolSlots: t.settings.poolSlots ?? defaults.poolSlots ?? 1,
    })),
  });
}

/**
 * Creates the run a trigger task asks for, at the clock's now (a millisecond later per clash with
 * an existing logical date).
 */
export async function createTriggeredRun(
  store: Store,
  target: DagDefinition,
  opts: {
    conf: Record<string, unknown>;
    parent: { runId: number; taskId: string };
    now: number;
    executor: "local" | "distributed";
  },
): Promise<DagRun> {
  for (let attempt = 0;; attempt++) {
    try {
      return await createDagRun(store, target, {
        conf: opts.conf,
        logicalDate: new Date(opts.now + attempt),
        runType: "triggered",
        triggeredBy: opts.parent,
        executor: opts.executor,
      });
    } catch (e) {
      if (!(e instanceof RunExistsError) || attempt >= 100) throw e;
    }
  }
}
