/**
 * A task environment for testing tasks/monitoring's task functions without a DAG run: an in-memory
 * PGlite store, a local artifact store in a temporary folder, the log captured, and a champion
 * trained on fake flights through the training functions themselves.
 */
import { LocalArtifactStore } from "../../../runner/artifacts/local.ts";
import { openStore } from "../../../runner/store/open.ts";
import type { Store } from "../../../runner/store/store.ts";
import type { TaskEnv } from "../../../tasks/monitoring/task_env.ts";
import {
  bestTrial,
  fitAndRegisterBest,
  gateChallenger,
  loadTrainingWindow,
  measureRetrainNoise,
  planTrials,
  runTrial,
  type TrainingParams,
} from "../../../tasks/monitoring/mod.ts";
import { writeFakeFlights } from "../../dags/helpers.ts";

/** A test's environment: `env(params)` is a TaskEnv over the same store, artifacts and log. */
export interface TestEnv {
  store: Store;
  dir: string;
  artifacts: LocalArtifactStore;
  lines: string[];
  env<P>(params: P, runId?: number): TaskEnv<P>;
  close(): Promise<void>;
}

/** Opens a fresh environment; `close` it in `finally`. */
export async function openTestEnv(): Promise<TestEnv> {
  const store = await openStore({ memory: true });
  const dir = await Deno.makeTempDir({ prefix: "driftflow-glue-" });
  const artifacts = new LocalArtifactStore(`${dir}/artifacts`);
  const lines: string[] = [];
  const env = <P>(params: P, runId = 1): TaskEnv<P> => ({
    dagId: "test",
    runId,
    taskId: "task",
    params,
    log: (...a: unknown[]) => lines.push(a.map(String).join(" ")),
    putArtifact: (d: Uint8Array | string) =>
      artifacts.put(typeof d === "string" ? new TextEncoder().encode(d) : d),
    getArtifact: (k: string) => artifacts.get(k),
    db: store.db,
    artifacts,
  });
  return {
    store,
    dir,
    artifacts,
    lines,
    env,
    close: async () => {
      await store.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** The training parameters of a small, quick run on fake flights. */
export function trainingParams(data: string, over: Partial<TrainingParams> = {}): TrainingParams {
  return {
    data,
    features: ["day_of_week", "hour", "distance", "origin", "destination"],
    target: "late",
    model: "flights_delay",
    initialRows: 3000,
    batches: [],
    window: "cumulative",
    windowBatches: 4,
    trials: 2,
    rounds: 20,
    timeColumn: "date",
    holdoutFraction: 0.2,
    metric: "roc_auc",
    margin: 0.002,
    alpha: 0.05,
    noiseFits: 0,
    seed: 0,
    alerts: { channels: [{ type: "log" }] },
    ...over,
  };
}

/**
 * Fake flights under `t.dir` and a champion trained on them through the training functions
 * (window, trials, best fit, gate); resolves to the data's paths and the champion's version.
 */
export async function trainChampion(t: TestEnv, refRows = 4000, streamRows = 6000) {
  const data = await writeFakeFlights(`${t.dir}/data`, refRows, streamRows);
  const ctx = t.env(trainingParams(data.reference));
  const load = await loadTrainingWindow(ctx);
  const trials = [];
  for (const spec of planTrials(ctx.params)) trials.push(await runTrial(ctx, load.train, spec));
  const best = bestTrial(trials, "roc_auc");
  const noise = await measureRetrainNoise(ctx, best, load);
  const fitted = await fitAndRegisterBest(ctx, best, trials.length, noise, load);
  const gate = await gateChallenger(ctx, load.holdout);
  return { ...data, load, fitted, gate, version: gate.champion };
}
