/**
 * The experiments the loaded DAGs declare (`experiment: { summaryTask, title }` in a DAG's options)
 * with their runs, and a run's summary CSV: the Experiments page finds runs by what a DAG declares,
 * never by a DAG's or a task's name.
 *
 * @example
 * ```ts
 * import { dag } from "../../runner/dag.ts";
 * import { declaredExperiments } from "./experiments.ts";
 *
 * const bench = dag({ id: "bench", experiment: { summaryTask: "summary", title: "Benchmark" } })
 *   .task("summary", { run: () => ({ cells: 0 }) });
 * declaredExperiments(new Map([[bench.id, bench]]));
 * // [{ dagId: "bench", title: "Benchmark", description: null, summaryTask: "summary" }]
 * ```
 */
import type { DagDefinition } from "../../runner/dag.ts";
import type { WebDeps } from "./deps.ts";
import { experimentRuns } from "./monitoring_data.ts";

/** A DAG that declares itself an experiment. */
export interface Experiment {
  dagId: string;
  /** The declared title, else the DAG id. */
  title: string;
  description: string | null;
  /** The task whose return value summarises a run. */
  summaryTask: string;
}

/** One run of an experiment with what its summary links. */
export type ExperimentRun = Awaited<ReturnType<typeof experimentRuns>>[number];

/** The experiments among `dags`, by DAG id. */
export function declaredExperiments(dags: ReadonlyMap<string, DagDefinition>): Experiment[] {
  return [...dags.values()].flatMap((d) => {
    const declared = d.options.experiment;
    return declared
      ? [{
        dagId: d.id,
        title: declared.title ?? d.id,
        description: d.options.description ?? null,
        summaryTask: declared.summaryTask,
      }]
      : [];
  }).sort((a, b) => a.dagId.localeCompare(b.dagId));
}

/** Each declared experiment with its latest runs (newest first, up to `limit` each). */
export async function experimentsWithRuns(
  deps: Pick<WebDeps, "store" | "dags">,
  limit = 20,
): Promise<(Experiment & { runs: ExperimentRun[] })[]> {
  return await Promise.all(
    declaredExperiments(deps.dags()).map(async (e) => ({
      ...e,
      runs: await experimentRuns(deps.store, e, limit),
    })),
  );
}

export type SummaryCsvResult =
  | { ok: true; filename: string; text: string }
  | { ok: false; reason: "not_an_experiment_run" | "no_summary"; message: string };

/**
 * The CSV an experiment run's summary stored (as an artifact: the file itself is on the disk of
 * whichever worker ran it), named `<dag>-<run>-summary.csv`.
 */
export async function summaryCsv(
  deps: Pick<WebDeps, "store" | "dags" | "artifacts">,
  runId: number,
): Promise<SummaryCsvResult> {
  const run = await deps.store.getRun(runId);
  const experiment = run &&
    declaredExperiments(deps.dags()).find((e) => e.dagId === run.dagId);
  if (!run || !experiment) {
    return {
      ok: false,
      reason: "not_an_experiment_run",
      message: `run ${runId} is not a run of a DAG that declares an experiment`,
    };
  }
  const key = (await experimentRuns(deps.store, experiment, 1, run.id))[0]?.csvArtifact;
  if (!key) return { ok: false, reason: "no_summary", message: `run ${run.id} has no summary yet` };
  return {
    ok: true,
    filename: `${run.dagId}-${run.id}-summary.csv`,
    text: new TextDecoder().decode(await deps.artifacts.get(key)),
  };
}
