/**
 * Hyperparameter search for the GBDT as a DAG: `plan` draws the trials, each rung is a mapped task
 * (one instance per trial, run in parallel, each in the history), successive halving keeps the best
 * 1/eta of a rung for the next with eta times more boosting rounds, and `best` retrains the winner
 * on all rows and registers it as the model's challenger.
 *
 * Run it: `deno task run hp_search --param data=data/flights-train.csv --param target=late`.
 */
import { dag, z } from "driftflow";
import { GBDT_SPACE, type MetricName, METRICS, SearchSpace } from "../models/mod.ts";
import {
  planSearch,
  registerSearchWinner,
  rungSurvivors,
  runSearchTrial,
} from "../tasks/monitoring/mod.ts";

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

export default dag({
  id: "hp_search",
  description:
    "GBDT hyperparameter search: random or successive halving; one mapped task per trial",
  schedule: null,
  params,
  defaults: { retries: 0, timeout: "1h" },
})
  .task("plan", { run: (ctx) => planSearch(ctx) })
  .task("rung0", {
    deps: ["plan"],
    expand: (ctx) => ctx.xcom("plan"),
    run: (ctx, t) => runSearchTrial(ctx, 0, t),
  })
  .task("rung1", {
    deps: ["rung0"],
    expand: (ctx) => rungSurvivors(ctx.params, ctx.xcom("rung0"), 1),
    run: (ctx, t) => runSearchTrial(ctx, 1, t),
  })
  .task("rung2", {
    deps: ["rung1"],
    expand: (ctx) => rungSurvivors(ctx.params, ctx.xcom("rung1"), 2),
    run: (ctx, t) => runSearchTrial(ctx, 2, t),
  })
  .task("rung3", {
    deps: ["rung2"],
    expand: (ctx) => rungSurvivors(ctx.params, ctx.xcom("rung2"), 3),
    run: (ctx, t) => runSearchTrial(ctx, 3, t),
  })
  .task("best", {
    deps: ["rung0", "rung1", "rung2", "rung3"],
    triggerRule: "none_failed_min_one_success",
    run: (ctx) =>
      registerSearchWinner(
        ctx,
        ctx.maybeXcom("rung3") ?? ctx.maybeXcom("rung2") ?? ctx.maybeXcom("rung1") ??
          ctx.xcom("rung0"),
      ),
  });
