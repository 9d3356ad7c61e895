/**
 * Creating a DAG run: params validated, the data interval derived from the schedule, the DAG's
 * structure recorded with its hash, and one task instance per task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { dag } from "./dag.ts";
 * import { createDagRun } from "./runs.ts";
 * import { openStore } from "./store/open.ts";
 * const example = dag({ id: "example", params: z.object({ batchSize: z.number().default(1000) }) })
 *   .task("extract", { run: (ctx) => ctx.params.batchSize });
 * const store = await openStore({ memory: true });
 * try {
 *   const run = await createDagRun(store, example, { conf: {}, params: { batchSize: 500 } });
 *   assert.deepEqual([run.state, run.params], ["queued", { batchSize: 500 }]);
 *   const typo = createDagRun(store, example, { params: { batchSzie: 5 } });
 *   await assert.rejects(typo, /params\.batchSzie: unknown param/);
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { DagDefinition } from "./dag.ts";
import { parseParams, rejectUnknownParams } from "./params.ts";
import { parseSchedule } from "./schedule.ts";
import type { RunType } from "./core/states.ts";
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
  /**
   * Default: for a scheduled DAG, the last complete interval at the logical date (Airflow's
   * `infer_manual_data_interval`: a manual run at 07:45 of an `@daily` DAG covers [yesterday,
   * today)); [logicalDate, logicalDate] for a DAG without a schedule.
   */
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
  rejectUnknownParams(dag, opts.params ?? {});
  const params = parseParams(dag, { ...conf, ...(opts.params ?? {}) });
  const logicalDate = opts.logicalDate ?? new Date();
  const interval = opts.dataInterval ?? manualDataInterval(dag, logicalDate);
  const structure = dagStructure(dag);
  const defaults = dag.options.defaults ?? {};
  await ensurePools(store, dag);
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
 * The data interval of a run made at `at` outside the schedule (manual, triggered): the last
 * complete schedule interval [prev tick, latest tick ≤ at], as Airflow's
 * `infer_manual_data_interval`; [at, at] for a DAG without a cron schedule.
 */
export function manualDataInterval(dag: DagDefinition, at: Date): { start: Date; end: Date } {
  const expression = dag.options.schedule;
  if (typeof expression !== "string" || expression === "") return { start: at, end: at };
  const ticks = parseSchedule(expression, dag.options.timezone ?? "UTC").latest(2, at);
  if (ticks.length < 2) return { start: ticks[0] ?? at, end: ticks[0] ?? at };
  return { start: ticks[0], end: ticks[1] };
}

/** The slots a pool that a DAG names but nobody created gets (as Airflow's `default_pool`). */
export const DEFAULT_POOL_SLOTS = 128;

/**
 * Creates the pools `dag`'s tasks name that do not exist yet, with {@link DEFAULT_POOL_SLOTS}
 * slots (size them with `deno task pools set NAME SLOTS`), so a DAG runs as written on a fresh
 * setup. Existing pools are left as they are.
 */
export async function ensurePools(store: Store, dag: DagDefinition): Promise<void> {
  const defaults = dag.options.defaults ?? {};
  const names = new Set(dag.tasks.map((t) => t.settings.pool ?? defaults.pool ?? "default_pool"));
  for (const name of names) {
    await store.ensurePool(
      name,
      DEFAULT_POOL_SLOTS,
      `created for dag "${dag.id}"; size it with: deno task pools set ${name} <slots>`,
    );
  }
}

/**
 * Why `dag`'s tasks could never start with the pools as they are (a task needing more slots than
 * its pool has, or a pool that does not exist): one line per task, empty when every task fits.
 */
export async function poolProblems(store: Store, dag: DagDefinition): Promise<string[]> {
  const sizes = new Map((await store.pools()).map((p) => [p.name, p.slots]));
  const defaults = dag.options.defaults ?? {};
  const problems: string[] = [];
  for (const t of dag.tasks) {
    const pool = t.settings.pool ?? defaults.pool ?? "default_pool";
    const slots = t.settings.poolSlots ?? defaults.poolSlots ?? 1;
    const size = sizes.get(pool);
    if (size === undefined) {
      problems.push(
        `task "${t.id}" uses pool "${pool}", which does not exist; create it: deno task pools set ${pool} <slots>`,
      );
    } else if (slots > size) {
      problems.push(
        `task "${t.id}" needs ${slots} slots of pool "${pool}", which has only ${size}; ` +
          `resize it: deno task pools set ${pool} ${slots}`,
      );
    }
  }
  return problems;
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
