/**
 * The authoring API: a DAG is declared as a chain of tasks, each naming the tasks it depends on.
 * Because tasks are declared after their dependencies, `ctx.xcom("extract")` is typed with the
 * return type of `extract` — no casts, unlike Airflow's `xcom_pull` — and only from a task upstream
 * of the reader (its deps and theirs, tracked in the type as each task's ancestors).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "./dag.ts";
 * import { validateDag } from "./validate.ts";
 * import { z } from "zod";
 *
 * const example = dag({
 *   id: "example",
 *   schedule: "@hourly",
 *   params: z.object({ batchSize: z.number().int().positive().default(1000) }),
 *   defaults: { retries: 2, retryDelay: "30s" },
 * })
 *   .task("extract", { run: (ctx) => ({ rows: ctx.params.batchSize }) })
 *   .branch("check", {
 *     deps: ["extract"],
 *     run: (ctx) => (ctx.xcom("extract").rows > 0 ? "transform" : "nothing"),
 *   })
 *   .task("transform", { deps: ["check"], run: (ctx) => ctx.xcom("extract").rows * 2 })
 *   .task("nothing", { deps: ["check"], run: () => {} })
 *   .task("each", { deps: ["extract"], expand: () => [1, 2, 3], run: (_ctx, item) => item * 2 })
 *   .command("shell", { deps: ["extract"], cmd: ["bash", "-c", "echo hi"] })
 *   .task("report", {
 *     deps: ["transform", "nothing"],
 *     triggerRule: "none_failed_min_one_success",
 *     run: (ctx) => ctx.log("done"),
 *   });
 * // dags/example.ts ends with `export default example;`: a DAG file's default export is its DAG
 *
 * assert.deepEqual(validateDag(example, "dags/example.ts"), []);
 * assert.equal(example.tasks.length, 7);
 * ```
 */
import type { z } from "zod";
import { type Duration, parseDuration } from "./duration.ts";
import type { TriggerRule } from "./core/trigger_rules.ts";
import type { TaskKind } from "./core/dag_structure.ts";
import type { RunState, RunType } from "./core/states.ts";
import type { SqlClient } from "./store/sql_client.ts";
import type { ArtifactStore } from "./artifacts/artifact_store.ts";

/** Retry, timeout and placement settings; DAG `defaults` and each task may set them. */
export interface TaskSettings {
  /** How many times a failed try is tried again (0: never). */
  retries?: number;
  /** The wait before the first retry. */
  retryDelay?: Duration;
  /** "fixed": every retry waits retryDelay; "exponential": it doubles each time. */
  retryBackoff?: "fixed" | "exponential";
  /** The longest wait between tries with exponential backoff. */
  maxRetryDelay?: Duration;
  /** The longest a try may take; functions see `ctx.signal` abort, commands are killed. */
  timeout?: Duration | null;
  /** The named pool whose slots the task takes (default "default_pool"). */
  pool?: string;
  /** How many slots of the pool a try takes. */
  poolSlots?: number;
  /**
   * Airflow's `depends_on_past`: the task runs only when its instance in the previous run of the
   * DAG (by logical date) ended in success or skipped; it waits until then. A first run ignores it.
   */
  dependsOnPast?: boolean;
}

/** The start and end of the period a run covers. */
export interface DataInterval {
  start: Date;
  end: Date;
}

/** What a running task sees. `X` maps the ids of earlier tasks to their XCom types. */
export interface TaskContext<P, X> {
  readonly dagId: string;
  readonly runId: number;
  readonly taskId: string;
  /** -1 for an unmapped task, else the index of the item. */
  readonly mapIndex: number;
  /** 1 for the first try. */
  readonly tryNumber: number;
  readonly logicalDate: Date;
  readonly dataInterval: DataInterval;
  /** The run's parameters, validated by the DAG's params schema. */
  readonly params: P;
  /** The run's free-form configuration (`--conf`, or from the DAG run that triggered it). */
  readonly conf: Readonly<Record<string, unknown>>;
  /** Aborts when the try times out or the process shuts down. */
  readonly signal: AbortSignal;
  /** Writes a line to this try's log. */
  log(...args: unknown[]): void;
  /**
   * The value an upstream task returned (an array in map-index order for a mapped task). Only
   * tasks upstream of this one (directly or not) may be read; `dags validate` reports any other.
   * A task that left no value — it was skipped, or returned nothing — makes `xcom` throw (where
   * Airflow's `xcom_pull` returns None): read such a task with `maybeXcom`.
   */
  xcom<K extends keyof X & string>(taskId: K): X[K];
  /** Like `xcom`, but undefined when that task left no value (it was skipped, say). */
  maybeXcom<K extends keyof X & string>(taskId: K): X[K] | undefined;
  /**
   * Ends this try as "skipped" (Airflow's `AirflowSkipException`): no retry, no failure; the
   * downstream tasks follow their trigger rules (`all_success` downstream is skipped too).
   */
  skip(reason?: string): never;
  /**
   * The value `taskId` returned in the latest earlier run of this DAG (by logical date) that has
   * one — Airflow's `xcom_pull(include_prior_dates=True)`; undefined when there is none. Any task
   * of the DAG, this one included, so its type is given: `ctx.priorXcom<{ batch: number }>("state")`.
   */
  priorXcom<T = unknown>(taskId: string): Promise<T | undefined>;
  /** Stores bytes or text in the artifact store; resolves to its content key (sha256:…). */
  putArtifact(data: Uint8Array | string): Promise<string>;
  /** The bytes of an artifact by its content key (integrity checked). */
  getArtifact(key: string): Promise<Uint8Array>;
  /**
   * The engine's database connection, like an Airflow connection: for task libraries that keep
   * their own tables in the same store (the model registry, say). Share it; do not close it.
   */
  readonly db: SqlClient;
  /** The engine's artifact store (local directory or S3). */
  readonly artifacts: ArtifactStore;
  /** The current time from the engine's clock. */
  now(): Date;
}

/**
 * What a task callback (`onSuccess`, `onFailure`, `onRetry`) is called with, e.g.
 * `{ dagId: "etl", runId: 7, taskId: "load", mapIndex: -1, tryNumber: 2, error: "Error: …" }`.
 */
export interface TaskEvent {
  dagId: string;
  runId: number;
  taskId: string;
  /** -1 for an unmapped task, else the item's index. */
  mapIndex: number;
  /** The try that just ended (1 for the first). */
  tryNumber: number;
  /** The failed try's error (stack trace for a thrown Error); absent on success. */
  error?: string;
}

/**
 * What a DAG callback (`onSuccess`, `onFailure`) is called with, e.g.
 * `{ dagId: "etl", runId: 7, state: "failed", failedTasks: ["load"] }`.
 */
export interface RunEvent {
  dagId: string;
  runId: number;
  state: RunState;
  /** The ids of the tasks that ended "failed" (each once, mapped tasks included). */
  failedTasks: string[];
}

/**
 * Thrown by a task (or through `ctx.skip()`) to end its try as "skipped", like Airflow's
 * `AirflowSkipException`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { dag, SkipTask } from "./dag.ts";
 * import { Executor } from "./executor.ts";
 * import { createDagRun } from "./runs.ts";
 * import { openStore } from "./store/open.ts";
 * const newFiles: string[] = [];
 * const inbox = dag({ id: "inbox" }).task("load", {
 *   run: () => {
 *     if (newFiles.length === 0) throw new SkipTask("no new files");
 *     return newFiles.length;
 *   },
 * });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const executor = new Executor({ store, artifacts: new LocalArtifactStore(dir) });
 *   const result = await executor.runToEnd(inbox, (await createDagRun(store, inbox)).id);
 *   assert.equal(result.taskInstances[0].state, "skipped");
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export class SkipTask extends Error {
  constructor(reason = "the task skipped itself") {
    super(reason);
    this.name = "SkipTask";
  }
}

/** True for a SkipTask from any copy of this module. */
export function isSkipTask(e: unknown): boolean {
  return e instanceof Error && e.name === "SkipTask";
}

type Awaitable<T> = T | Promise<T>;
/** The ids of the tasks in `D` and of every task they depend on, directly or not (`A`: ancestors). */
type AncestorsOf<A, D> = D extends keyof A ? A[D] : never;
/**
 * What a task depending on `D` may read with `ctx.xcom`: those tasks and their ancestors — a task
 * that is not upstream is a type error (it would only be there by timing).
 */
export type Upstream<X, A, D> = Pick<X, Extract<D | AncestorsOf<A, D>, keyof X>>;

/** Settings every kind of task shares; `D` is the ids it may depend on. */
export interface BaseSpec<X, D extends string = keyof X & string> extends TaskSettings {
  /** The tasks that must finish first (subject to the trigger rule). */
  deps?: readonly D[];
  /** The assets (URIs) this task updates: each successful try records an event for each. */
  outlets?: readonly string[];
  /** When the task may run given its upstream states (default "all_success"). */
  triggerRule?: TriggerRule;
  /** A line shown in the UI. */
  doc?: string;
  onSuccess?: (event: TaskEvent) => Awaitable<void>;
  onFailure?: (event: TaskEvent) => Awaitable<void>;
  onRetry?: (event: TaskEvent) => Awaitable<void>;
}

/** A Python-operator-style task: its return value is its XCom. */
export interface FunctionSpec<P, X, R, D extends string = keyof X & string> extends BaseSpec<X, D> {
  run: (ctx: TaskContext<P, X>) => Awaitable<R>;
}

/** A mapped task: one instance per item that `expand` returns at run time. */
export interface MappedSpec<P, X, T, R, D extends string = keyof X & string>
  extends BaseSpec<X, D> {
  expand: (ctx: TaskContext<P, X>) => Awaitable<readonly T[]>;
  run: (ctx: TaskContext<P, X>, item: T) => Awaitable<R>;
}

/** A branch: returns the id (or ids) of the direct downstream tasks to follow; the rest are skipped. */
export interface BranchSpec<P, X, D extends string = keyof X & string> extends BaseSpec<X, D> {
  run: (ctx: TaskContext<P, X>) => Awaitable<string | readonly string[]>;
}

/** A command task (Airflow's BashOperator): the exit code decides the state. */
export interface CommandSpec<P, X, D extends string = keyof X & string> extends BaseSpec<X, D> {
  cmd: readonly string[] | ((ctx: TaskContext<P, X>) => readonly string[]);
  env?: Record<string, string>;
  cwd?: string;
}

/** The XCom of a command task. */
export interface CommandResult {
  exitCode: number;
  /** The last line the command wrote to stdout, as Airflow's BashOperator pushes it. */
  lastLine: string;
}

/** Starts a run of another DAG. */
export interface TriggerSpec<P, X, D extends string = keyof X & string> extends BaseSpec<X, D> {
  dagId: string;
  conf?: (ctx: TaskContext<P, X>) => Awaitable<Record<string, unknown>>;
  /** Wait for the triggered run to finish; the task fails when that run fails. */
  wait?: boolean;
}

/** The XCom of a trigger task. */
export interface TriggerResult {
  dagId: string;
  runId: number;
  /** The triggered run's final state when waited for, else "queued". */
  state: RunState;
}

/**
 * A sensor (Airflow's BaseSensorOperator): `poke` is called every `interval` until it returns a
 * value other than false, null or undefined — that value is the XCom — or `timeout` has passed
 * since the first poke (the task then fails, without retries; with `softFail` it is skipped).
 * In "poke" mode one try holds its worker and pool slot while it waits; in "reschedule" mode each
 * poke is a short try, and between pokes the task is `up_for_reschedule` and holds no slot.
 */
export interface SensorSpec<P, X, R, D extends string = keyof X & string> extends BaseSpec<X, D> {
  poke: (ctx: TaskContext<P, X>) => Awaitable<R | false | null | undefined>;
  /** The wait between pokes (default "60s", as Airflow's poke_interval). */
  interval?: Duration;
  /** How long the sensor may wait in all (default "7d", as Airflow's). */
  timeout?: Duration;
  /** "poke" (default) holds the slot between pokes; "reschedule" frees it. */
  mode?: "poke" | "reschedule";
  /** Skip instead of failing when the sensor times out. */
  softFail?: boolean;
}

export type { TaskKind } from "./core/dag_structure.ts";

/** A task as the engine holds it, with the types erased. */
export interface TaskDef {
  readonly id: string;
  readonly kind: TaskKind;
  readonly deps: readonly string[];
  readonly triggerRule: TriggerRule;
  readonly settings: TaskSettings;
  readonly doc?: string;
  readonly mapped: boolean;
  readonly run?: (ctx: AnyContext, item?: unknown) => Awaitable<unknown>;
  readonly expand?: (ctx: AnyContext) => Awaitable<readonly unknown[]>;
  readonly cmd?: readonly string[] | ((ctx: AnyContext) => readonly string[]);
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly trigger?: {
    dagId: string;
    conf?: (ctx: AnyContext) => Awaitable<Record<string, unknown>>;
    wait: boolean;
  };
  readonly sensor?: {
    intervalMs: number;
    timeoutMs: number;
    mode: "poke" | "reschedule";
    softFail: boolean;
  };
  /** The assets (URIs) a successful try of this task updates (Airflow's outlets). */
  readonly outlets?: readonly string[];
  readonly onSuccess?: (event: TaskEvent) => Awaitable<void>;
  readonly onFailure?: (event: TaskEvent) => Awaitable<void>;
  readonly onRetry?: (event: TaskEvent) => Awaitable<void>;
}

/** A context with the types erased, as the executor builds it. */
export type AnyContext = TaskContext<unknown, Record<string, unknown>>;

/**
 * Marks a DAG as an experiment: each run is summarised by one task's return value, and the web UI's
 * Experiments page lists the runs with what that value links (nothing looks for a DAG by its name).
 */
export interface ExperimentDeclaration {
  /**
   * The task whose return value summarises a run: `{ artifact?, csvArtifact?, cells?, csv? }` — the
   * artifact keys of its HTML report and of its CSV, how many cells it measured, and where the CSV
   * was written.
   */
  summaryTask: string;
  /** The heading the experiment's runs are listed under (default: the DAG id). */
  title?: string;
}

/** The DAG-level options. */
export interface DagOptions<S extends z.ZodType = z.ZodType> {
  /** Letters, digits, `_`, `-` and `.`; unique among the loaded DAGs. */
  id: string;
  description?: string;
  /** A cron expression, "@hourly", "@daily", "@weekly", "@monthly", "@yearly", or null: manual only. */
  schedule?: string | null;
  /**
   * Data-aware scheduling (Airflow's `schedule=[Asset(…)]`): the DAG runs when every one of these
   * asset URIs has been updated since its last run — by a task's `outlets`, `deno task assets
   * touch`, the API, or a watcher (`watchAssets`). Use it instead of `schedule`.
   */
  onAssets?: readonly string[];
  /**
   * Watch the `onAssets` URIs that are folders (`file:///…/` or `s3://bucket/prefix/`): the
   * scheduler records an asset event when a file newer than the last one seen lands there.
   */
  watchAssets?: boolean;
  /** The IANA time zone the schedule is read in (default UTC). */
  timezone?: string;
  /** The first logical date the scheduler considers (ISO date or date-time). */
  startDate?: string;
  /** The last logical date the scheduler considers. */
  endDate?: string;
  /** Create the runs missed while the scheduler was down (default false). */
  catchup?: boolean;
  /** How many runs may be active at once (default 16). */
  maxActiveRuns?: number;
  /** How many task instances of one run may run at once (default 16). */
  maxActiveTasks?: number;
  /**
   * Airflow's `dagrun_timeout`: a run still unfinished this long after it started fails; its
   * running tries are aborted and its unfinished tasks are skipped.
   */
  dagrunTimeout?: Duration;
  /** The run parameters' zod schema; a scheduled DAG's must parse `{}` (every field has a default). */
  params?: S;
  /** Task settings every task inherits. */
  defaults?: TaskSettings;
  tags?: readonly string[];
  /** Declares the DAG an experiment: which task summarises a run (see {@link ExperimentDeclaration}). */
  experiment?: ExperimentDeclaration;
  onSuccess?: (event: RunEvent) => Awaitable<void>;
  onFailure?: (event: RunEvent) => Awaitable<void>;
}

/** A DAG as the engine reads it, whatever its parameter and XCom types. */
export interface DagDefinition {
  readonly id: string;
  readonly options: DagOptions;
  readonly tasks: readonly TaskDef[];
  fileloc?: string;
}

/** Marks Dag objects, so the loader recognises them whatever URL a DAG file imported the API from. */
export const DAG_BRAND: unique symbol = Symbol.for("driftflow.dag") as never;

/** True when `value` is a Dag (from any copy of this module). */
export function isDag(value: unknown): value is DagDefinition {
  return typeof value === "object" && value !== null &&
    (value as Record<symbol, unknown>)[DAG_BRAND] === true;
}

/**
 * The tasks of a Dag as a persistent list (newest first): adding a task shares every earlier one,
 * so building n tasks costs O(n), not the O(n²) of copying an array on every `.task`.
 */
export interface TaskNode {
  readonly def: TaskDef;
  readonly prev: TaskNode | null;
  readonly size: number;
}

/** A DAG under construction; every method returns a new Dag with one more task. */
export class Dag<P = Record<string, never>, X = Record<never, never>, A = Record<never, never>> {
  readonly [DAG_BRAND] = true;
  readonly options: DagOptions;
  /** Set by the loader: the file the DAG came from. */
  fileloc?: string;
  readonly #last: TaskNode | null;
  #tasks: readonly TaskDef[] | null = null;

  constructor(options: DagOptions, tasks: readonly TaskDef[] | TaskNode | null = []) {
    this.options = options;
    if (tasks === null || !Array.isArray(tasks)) this.#last = tasks as TaskNode | null;
    else {
      let node = null as TaskNode | null;
      for (const def of tasks as readonly TaskDef[]) {
        node = { def, prev: node, size: (node?.size ?? 0) + 1 };
      }
      this.#last = node;
    }
  }

  /** The tasks in declaration order (built once per Dag, in O(n)). */
  get tasks(): readonly TaskDef[] {
    if (this.#tasks === null) {
      const out = new Array<TaskDef>(this.#last?.size ?? 0);
      for (let n = this.#last; n; n = n.prev) out[n.size - 1] = n.def;
      this.#tasks = Object.freeze(out);
    }
    return this.#tasks;
  }

  get id(): string {
    return this.options.id;
  }

  /** Adds a task that runs `spec.run`; with `spec.expand`, one instance per item. */
  task<K extends string, T, R, const D extends keyof X & string = never>(
    id: NewId<K, X>,
    spec: MappedSpec<P, Upstream<X, A, D>, T, R, D>,
  ): Dag<P, X & { [k in K]: Awaited<R>[] }, A & { [k in K]: D | AncestorsOf<A, D> }>;
  task<K extends string, R, const D extends keyof X & string = never>(
    id: NewId<K, X>,
    spec: FunctionSpec<P, Upstream<X, A, D>, R, D>,
  ): Dag<P, X & { [k in K]: Awaited<R> }, A & { [k in K]: D | AncestorsOf<A, D> }>;
  task<K extends string, R>(
    id: K,
    spec: BaseSpec<X, string> & {
      run: (...args: never[]) => unknown;
      expand?: (...args: never[]) => unknown;
    },
  ): Dag<P, X & { [k in K]: R }, A> {
    const expand = "expand" in spec ? spec.expand : undefined;
    return this.#add<X & { [k in K]: R }, A>({
      ...base(id, spec),
      kind: "function",
      mapped: expand !== undefined,
      run: spec.run as TaskDef["run"],
      expand: expand as TaskDef["expand"],
    });
  }

  /** Adds a branch task; its XCom is the list of task ids it followed. */
  branch<K extends string, const D extends keyof X & string = never>(
    id: NewId<K, X>,
    spec: BranchSpec<P, Upstream<X, A, D>, D>,
  ): Dag<P, X & { [k in K]: string[] }, A & { [k in K]: D | AncestorsOf<A, D> }> {
    return this.#add({
      ...base(id, spec),
      kind: "branch",
      mapped: false,
      run: spec.run as TaskDef["run"],
    });
  }

  /** Adds a command task (argv, env, cwd); stdout and stderr go to the task log. */
  command<K extends string, const D extends keyof X & string = never>(
    id: NewId<K, X>,
    spec: CommandSpec<P, Upstream<X, A, D>, D>,
  ): Dag<P, X & { [k in K]: CommandResult }, A & { [k in K]: D | AncestorsOf<A, D> }> {
    return this.#add({
      ...base(id, spec),
      kind: "command",
      mapped: false,
      cmd: spec.cmd as TaskDef["cmd"],
      env: spec.env,
      cwd: spec.cwd,
    });
  }

  /** Adds a task that starts a run of another DAG with a conf, and may wait for it. */
  triggerDag<K extends string, const D extends keyof X & string = never>(
    id: NewId<K, X>,
    spec: TriggerSpec<P, Upstream<X, A, D>, D>,
  ): Dag<P, X & { [k in K]: TriggerResult }, A & { [k in K]: D | AncestorsOf<A, D> }> {
    return this.#add({
      ...base(id, spec),
      kind: "trigger",
      mapped: false,
      trigger: {
        dagId: spec.dagId,
        conf: spec.conf as NonNullable<TaskDef["trigger"]>["conf"],
        wait: spec.wait ?? false,
      },
    });
  }

  /** Adds a sensor: waits until `spec.poke` returns a value (see {@link SensorSpec}). */
  sensor<K extends string, R, const D extends keyof X & string = never>(
    id: NewId<K, X>,
    spec: SensorSpec<P, Upstream<X, A, D>, R, D>,
  ): Dag<P, X & { [k in K]: Awaited<R> }, A & { [k in K]: D | AncestorsOf<A, D> }> {
    // `timeout` is the sensor's (its whole wait), not a try's: a try's comes from `defaults`.
    return this.#add({
      ...base(id, { ...spec, timeout: undefined }),
      kind: "sensor",
      mapped: false,
      run: spec.poke as TaskDef["run"],
      sensor: {
        intervalMs: parseDuration(spec.interval ?? "60s"),
        timeoutMs: parseDuration(spec.timeout ?? "7d"),
        mode: spec.mode ?? "poke",
        softFail: spec.softFail ?? false,
      },
    });
  }

  #add<Y, B>(def: TaskDef): Dag<P, Y, B> {
    return new Dag<P, Y, B>(this.options, {
      def,
      prev: this.#last,
      size: (this.#last?.size ?? 0) + 1,
    });
  }
}

/** A task id not used yet in the DAG (a compile error otherwise). */
type NewId<K extends string, X> = K extends keyof X ? `duplicate task id: ${K}` : K;

function base(id: string, spec: BaseSpec<unknown, string>): Omit<TaskDef, "kind" | "mapped"> {
  const { deps, triggerRule, doc, onSuccess, onFailure, onRetry, outlets } = spec;
  const { retries, retryDelay, retryBackoff, maxRetryDelay, timeout, pool, poolSlots } = spec;
  const { dependsOnPast } = spec;
  const settings: TaskSettings = {};
  for (
    const [k, v] of Object.entries({
      retries,
      retryDelay,
      retryBackoff,
      maxRetryDelay,
      timeout,
      pool,
      poolSlots,
      dependsOnPast,
    })
  ) {
    if (v !== undefined) (settings as Record<string, unknown>)[k] = v;
  }
  return {
    id,
    deps: [...(deps ?? [])],
    triggerRule: triggerRule ?? "all_success",
    settings,
    ...(outlets?.length ? { outlets: [...outlets] } : {}),
    doc,
    onSuccess,
    onFailure,
    onRetry,
  };
}

/** Starts a DAG; `P` is the output type of the params schema. */
export function dag<S extends z.ZodType = z.ZodObject<Record<never, never>>>(
  options: DagOptions<S>,
): Dag<z.output<S>, Record<never, never>> {
  return new Dag(options as DagOptions);
}

/** Re-exported for DAG files: the run types and states they may inspect. */
export type { RunState, RunType };
