/**
 * `hp_search`'s successive halving as task functions: the rungs (trials × boosting rounds; one
 * rung for a random search), the trials of a rung scored on the data (parsed once per process),
 * the survivors a rung passes on, and the winner retrained on all rows and registered as the
 * model's `challenger`.
 *
 * @example
 * ```ts
 * import { rungSurvivors, searchRungs } from "./search_rungs.ts";
 * const p = { method: "halving" as const, trials: 9, eta: 3, maxRounds: 90 };
 * const rungs = searchRungs(p);
 * if (rungs.map((r) => r.trials).join() !== "9,3,1") throw new Error(JSON.stringify(rungs));
 * const results = [0.6, 0.9, 0.7].map((value, trial) => ({ trial, params: {}, rounds: 10, metric: "roc_auc" as const, value }));
 * if (rungSurvivors(p, results, 1)[0].trial !== 1) throw new Error("the best goes on");
 * if (rungSurvivors(p, results, 3).length !== 0) throw new Error("no fourth rung");
 * ```
 */
import type { Table } from "../../models/core/table.ts";
import type { MetricName } from "../../models/metrics.ts";
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import {
  bestOf,
  evaluateTrial,
  halvingPlan,
  sampleTrials,
  type SearchSpace,
  type TrialResult,
} from "../../models/search.ts";
import { readTable } from "../data/read_table.ts";
import type { TaskEnv } from "./task_env.ts";

/** The rungs kept of a halving plan (its last ones). */
export const MAX_RUNGS = 4;

/** `hp_search`'s parameters. */
export interface SearchParams {
  data: string;
  target: string;
  method: "halving" | "random";
  trials: number;
  eta: number;
  maxRounds: number;
  metric: MetricName;
  seed: number;
  space: SearchSpace;
  register?: string;
}

const tables = new Map<string, Promise<Table>>();
/** The search's data; trials of one process share the parsed file. */
export function searchTable(path: string): Promise<Table> {
  let t = tables.get(path);
  if (!t) tables.set(path, t = readTable(path).then((r) => r.table));
  return t;
}

/** The rungs: one of all trials at maxRounds (random), else the last MAX_RUNGS of the halving plan. */
export function searchRungs(
  p: Pick<SearchParams, "method" | "trials" | "eta" | "maxRounds">,
): { trials: number; rounds: number }[] {
  return p.method === "random"
    ? [{ trials: p.trials, rounds: p.maxRounds }]
    : halvingPlan(p.trials, p.eta, p.maxRounds).slice(-MAX_RUNGS);
}

/** The first rung's trials drawn from the space; logs the rungs. */
export function planSearch(ctx: Pick<TaskEnv<SearchParams>, "params" | "log">) {
  const plan = searchRungs(ctx.params);
  ctx.log(`rungs: ${plan.map((r) => `${r.trials} trials × ${r.rounds} rounds`).join(", ")}`);
  return sampleTrials(ctx.params.space, plan[0].trials, ctx.params.seed);
}

/** Scores trial `t` with rung `rung`'s boosting rounds; logs its value. */
export async function runSearchTrial(
  ctx: Pick<TaskEnv<SearchParams>, "params" | "log">,
  rung: number,
  t: TrialResult | { trial: number; params: TrialResult["params"] },
): Promise<TrialResult> {
  const p = ctx.params;
  const rounds = searchRungs(p)[rung].rounds;
  const r = evaluateTrial(await searchTable(p.data), t, {
    target: p.target,
    metric: p.metric,
    rounds,
    seed: p.seed,
  });
  ctx.log(
    `trial ${t.trial} with ${rounds} rounds: ${p.metric} ${r.value.toFixed(4)}`,
    JSON.stringify(t.params),
  );
  return r;
}

/** The survivors of a finished rung for rung `next` (none when the plan has no such rung). */
export function rungSurvivors(
  p: Pick<SearchParams, "method" | "trials" | "eta" | "maxRounds">,
  results: TrialResult[],
  next: number,
): TrialResult[] {
  const plan = searchRungs(p);
  return next < plan.length ? bestOf(results, plan[next].trials) : [];
}

/**
 * The best trial of the last rung that ran; with `register`, it is retrained on all rows and
 * registered under that name as `challenger`.
 */
export async function registerSearchWinner(ctx: TaskEnv<SearchParams>, last: TrialResult[]) {
  const p = ctx.params;
  const [winner] = bestOf(last, 1);
  ctx.log(
    `best: trial ${winner.trial}, ${p.metric} ${winner.value.toFixed(4)}`,
    JSON.stringify(winner.params),
  );
  if (!p.register) return { winner };
  const table = await searchTable(p.data);
  const { model } = trainModel(table, {
    target: p.target,
    algo: "gbdt",
    seed: p.seed,
    params: { ...winner.params, nEstimators: winner.rounds },
  });
  const registry = await ModelRegistry.open(ctx.db);
  const v = await registerModel({ registry, artifacts: ctx.artifacts }, model, {
    name: p.register,
    fingerprint: await fingerprintTable(table),
    lineage: { runId: ctx.runId, taskId: ctx.taskId },
    description: `hp_search winner: trial ${winner.trial}`,
  });
  await registry.setAlias(p.register, "challenger", v.version, {
    reason: `hp_search run ${ctx.runId}: trial ${winner.trial} won with ${p.metric} ${
      winner.value.toFixed(4)
    }`,
    runId: ctx.runId,
  });
  return { winner, registered: { name: v.name, version: v.version } };
}
