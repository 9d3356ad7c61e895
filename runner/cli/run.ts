/**
 * `deno task run <dag_id> [--conf JSON] [--param k=v]… [--date ISO]` and
 * `deno task run --resume <run_id>`: one DAG run in this process, to the end (like
 * `airflow dags test`). Live task states on stderr, a summary table on stdout.
 * `deno task run <dag_id> --task <task_id> [--from-run <run_id>] [--record]`: one task alone
 * (like `airflow tasks test`), its upstream XComs from the given run, nothing recorded unless
 * `--record` (then the try is recorded in that run); the value on stdout, the log on stderr.
 * Exit 0 when the run succeeds, 1 when it fails, 2 on a usage or validation error.
 *
 * @example
 * ```sh
 * deno task run example --param batchSize=500 --conf '{"note":"try"}'
 * ```
 */
import { formatDuration } from "../duration.ts";
import { Executor } from "../executor.ts";
import { ParamsError, parseParamArgs } from "../params.ts";
import { createDagRun } from "../runs.ts";
import type { ArtifactStore } from "../artifacts/artifact_store.ts";
import type { DagDefinition } from "../dag.ts";
import {
  runSingleTask,
  showValue,
  SingleTaskError,
  type SingleTaskOptions,
} from "../single_task.ts";
import type { Store } from "../store/store.ts";
import { RunExistsError } from "../store/store.ts";
import { intOption, loadAndSync, openStores, parse, renderTable, UsageError } from "./common.ts";
import { positiveIntOption } from "./common.ts";
import { LiveView } from "./live.ts";

export const USAGE =
  `usage: deno task run <dag_id> [--conf JSON] [--param key=value]... [--date ISO]
       deno task run --resume <run_id>
       deno task run <dag_id> --task <task_id> [--from-run <run_id>] [--record [--force]]
           [--param k=v]...`;

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    conf: { type: "string" },
    param: { type: "string", multiple: true },
    date: { type: "string" },
    resume: { type: "string" },
    concurrency: { type: "string" },
    task: { type: "string" },
    "from-run": { type: "string" },
    record: { type: "boolean" },
    force: { type: "boolean" },
  });
  if (values.task === undefined && (values["from-run"] !== undefined || values.record)) {
    throw new UsageError("--from-run and --record go with --task <task_id>");
  }
  if (values.force && !values.record) throw new UsageError("--force goes with --record");
  if (values.task !== undefined && values.resume !== undefined) {
    throw new UsageError("--task and --resume do not go together");
  }
  const resume = values.resume === undefined ? null : intOption("resume", values.resume, 0);
  if (resume === null && positionals.length !== 1) throw new UsageError("name one DAG id to run");
  if (resume !== null && positionals.length > 0) {
    throw new UsageError("--resume takes a run id and no DAG id");
  }
  let conf: Record<string, unknown> = {};
  if (values.conf !== undefined) {
    try {
      conf = JSON.parse(values.conf);
    } catch (e) {
      throw new UsageError(`--conf is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof conf !== "object" || conf === null || Array.isArray(conf)) {
      throw new UsageError(`--conf must be a JSON object such as '{"key": 1}'`);
    }
  }
  let params: Record<string, unknown>;
  try {
    params = parseParamArgs(values.param ?? []);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let logicalDate: Date | undefined;
  if (values.date !== undefined) {
    logicalDate = new Date(values.date);
    if (Number.isNaN(logicalDate.getTime())) {
      throw new UsageError(
        `--date "${values.date}" is not an ISO date such as 2026-01-01T00:00:00Z`,
      );
    }
  }

  const concurrency = positiveIntOption("concurrency", values.concurrency, 32);

  const { store, artifacts } = await openStores();
  try {
    const loaded = await loadAndSync(store);
    let dagId = positionals[0];
    let runId: number;
    if (resume !== null) {
      const run = await store.getRun(resume);
      if (!run) throw new UsageError(`run ${resume} does not exist`);
      dagId = run.dagId;
      runId = run.id;
    }
    const dag = loaded.dags.get(dagId);
    if (!dag) {
      const own = loaded.problems.filter((p) =>
        p.includes(`"${dagId}"`) || p.includes(`${dagId}.ts`)
      );
      if (own.length) throw new UsageError(`dag "${dagId}" is invalid:\n  ${own.join("\n  ")}`);
      throw new UsageError(
        `no DAG "${dagId}"; loaded: ${[...loaded.dags.keys()].join(", ") || "(none)"}` +
          (loaded.problems.length ? `\nproblems:\n  ${loaded.problems.join("\n  ")}` : ""),
      );
    }
    if (values.task !== undefined) {
      return await testOneTask(store, artifacts, dag, values.task, {
        fromRun: values["from-run"] === undefined
          ? undefined
          : intOption("from-run", values["from-run"], 0),
        record: values.record ?? false,
        force: values.force ?? false,
        params,
        conf,
        logicalDate,
      });
    }
    if (resume === null) {
      try {
        runId =
          (await createDagRun(store, dag, { conf, params, logicalDate, runType: "manual" })).id;
      } catch (e) {
        if (e instanceof ParamsError || e instanceof RunExistsError) {
          throw new UsageError(e.message);
        }
        throw e;
      }
    }
    const view = new LiveView(dag.tasks.map((t) => t.id));
    const controller = new AbortController();
    const onSignal = () => controller.abort(new Error("interrupted"));
    Deno.addSignalListener("SIGINT", onSignal);
    const executor = new Executor({
      store,
      artifacts,
      concurrency,
      resolveDag: (id) => loaded.dags.get(id),
      onEvent: (e) => view.update(e),
      signal: controller.signal,
    });
    console.error(`${resume === null ? "running" : "resuming"} dag ${dag.id}, run ${runId!}`);
    const result = await executor.runToEnd(dag, runId!);
    await executor.drain();
    Deno.removeSignalListener("SIGINT", onSignal);
    view.finish();
    const tries = await store.tries(runId!);
    const rows = [["task", "map", "state", "tries", "duration", "error"]];
    for (const ti of result.taskInstances) {
      const n = tries.filter((t) => t.taskId === ti.taskId && t.mapIndex === ti.mapIndex).length;
      rows.push([
        ti.taskId,
        ti.mapIndex >= 0 ? String(ti.mapIndex) : "",
        ti.state ?? "none",
        String(n),
        ti.durationMs !== null ? formatDuration(ti.durationMs) : "",
        (ti.error ?? "").split("\n")[0].slice(0, 80),
      ]);
    }
    console.log(renderTable(rows));
    console.log(`\nrun ${runId!} of dag ${dag.id}: ${result.state}`);
    return result.state === "success" ? 0 : 1;
  } finally {
    await store.close();
  }
}

/** `--task`: one task alone; prints its value and exits 0 (success or skipped) or 1 (failed). */
async function testOneTask(
  store: Store,
  artifacts: ArtifactStore,
  dag: DagDefinition,
  taskId: string,
  opts: Pick<
    SingleTaskOptions,
    "fromRun" | "record" | "force" | "params" | "conf" | "logicalDate"
  >,
): Promise<number> {
  let result;
  try {
    console.error(
      `testing task ${taskId} of dag ${dag.id}` +
        (opts.fromRun === undefined
          ? " (no upstream run)"
          : ` with the XComs of run ${opts.fromRun}`) +
        (opts.record ? "; the try is recorded in that run" : "; nothing is recorded"),
    );
    result = await runSingleTask({ store, artifacts, dag, taskId, ...opts });
  } catch (e) {
    if (e instanceof SingleTaskError || e instanceof ParamsError) throw new UsageError(e.message);
    throw e;
  }
  if (result.error) console.error(result.error);
  console.log(showValue(result.value));
  console.log(`task ${taskId} of dag ${dag.id}: ${result.state}`);
  return result.state === "failed" ? 1 : 0;
}
