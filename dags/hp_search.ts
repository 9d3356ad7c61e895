/**
 * Hyperparameter search for the GBDT as a DAG: `plan` draws the trials, each rung is a mapped task
 * (one instance per trial, run in parallel, each in the history), successive halving keeps the best
 * 1/eta of a rung for the next with eta times more boosting rounds, and `best` retrains the winner
 * on all rows and registers it as the model's challenger.
 *
 * Run it: `deno task run hp_search --param data=data/flights-train.csv --param target=late`.
 */
import { dag, z } from "driftflow";
import { type MetricName, METRICS } from "../models/metrics.ts";
import { trainModel } from "../models/model.ts";
import { fingerprintTable, registerModel } from "../models/package.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import {
  bestOf,
  evaluateTrial,
  GBDT_SPACE,
  halvingPlan,
  sampleTrials,
  SearchSpace,
  type TrialResult,
} from "../models/search.ts";
import { readTable } from "../tasks/data/read_table.ts";
import type { Table } from "../models/core/table.ts";

const tables = new Map<string, Promise<Table>>();
/** Trials of one process share the parsed file. */
function load(path: string): Promise<Table> {
  let t = tables.get(path);
  if (!t) tables.set(path, t = readTable(path).then((r) => r.table));
  return t;
}

const MAX_RUNGS = 4;

const params = z.object({
  data: z.string().min(1).default("data/flights-train.csv"),
  target: z.string().default("late"),
  method: z.enum(["halving", "random"]).default("halving"),
  trials: z.number().int().min(1).max(243).default(9),
  eta: z.number().int().min(2).default(3),
  maxRounds: z.number().int().positive().default(100),
  metric: z.enum(Object.keys(METRICS) as [MetricName, ...MetricName[]]).default("roc_auc"),
  seed: z.number().int().default(0),
  space: SearchSpace.default(SearchSpace.parse(GBDT_SPACE)),
  /** Register the winner under this name with the alias `challenger`. */
  register: z.string().optional(),
});

type P = z.infer<typeof params>;
const rungsOf = (p: P) =>
  p.method === "random"
    ? [{ trials: p.trials, rounds: p.maxRounds }]
    : halvingPlan(p.trials, p.eta, p.maxRounds).slice(-MAX_RUNGS);

const trial = (rung: number) =>
async (
  ctx: { params: P; log(...a: unknown[]): void },
  t: TrialResult | { trial: number; params: TrialResult["params"] },
) => {
  const p = ctx.params;
  const rounds = rungsOf(p)[rung].rounds;
  const r = evaluateTrial(await load(p.data), t, {
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
};

/** The survivors of a finished rung for rung `next` (none when the plan has no such rung). */
function survivors(p: P, results: TrialResult[], next: number): TrialResult[] {
  const plan = rungsOf(p);
  return next < plan.length ? bestOf(results, plan[next].trials) : [];
}

export default dag({
  id: "hp_search",
  description:
    "GBDT hyperparameter search: random or successive halving; one mapped task per trial",
  schedule: null,
  params,
  defaults: { retries: 0, timeout: "1h" },
})
  .task("plan", {
    run: (ctx) => {
      const plan = rungsOf(ctx.params);
      ctx.log(`rungs: ${plan.map((r) => `${r.trials} trials × ${r.rounds} rounds`).join(", ")}`);
      return sampleTrials(ctx.params.space, plan[0].trials, ctx.params.seed);
    },
  })
  .task("rung0", { deps: ["plan"], expand: (ctx) => ctx.xcom("plan"), run: trial(0) })
  .task("rung1", {
    deps: ["rung0"],
    expand: (ctx) => survivors(ctx.params, ctx.xcom("rung0"), 1),
    run: trial(1),
  })
  .task("rung2", {
    deps: ["rung1"],
    expand: (ctx) => survivors(ctx.params, ctx.xcom("rung1"), 2),
    run: trial(2),
  })
  .task("rung3", {
    deps: ["rung2"],
    expand: (ctx) => survivors(ctx.params, ctx.xcom("rung2"), 3),
    run: trial(3),
  })
  .task("best", {
    deps: ["rung0", "rung1", "rung2", "rung3"],
    triggerRule: "none_failed_min_one_success",
    run: async (ctx) => {
      const p = ctx.params;
      const last = ctx.maybeXcom("rung3") ?? ctx.maybeXcom("rung2") ?? ctx.maybeXcom("rung1") ??
        ctx.xcom("rung0");
      const [winner] = bestOf(last, 1);
      ctx.log(
        `best: trial ${winner.trial}, ${p.metric} ${winner.value.toFixed(4)}`,
        JSON.stringify(winner.params),
      );
      if (!p.register) return { winner };
      const table = await load(p.data);
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
    },
  });
