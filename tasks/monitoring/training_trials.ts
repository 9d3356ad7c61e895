/**
 * `training`'s search: the trials (GBDT configurations drawn from the search space, plus one
 * logistic regression), each trial fitted on the training rows and scored on a validation share,
 * and the best by the metric.
 *
 * @example
 * ```ts
 * import { bestTrial, planTrials } from "./training_trials.ts";
 * const plan = planTrials({ trials: 3, rounds: 40, seed: 0 });
 * if (plan.length !== 3 || plan[2].algo !== "logistic" || plan[0].params.nEstimators !== 40) throw new Error("2 GBDT + 1 logistic");
 * const best = bestTrial([{ trial: 0, value: 0.7 }, { trial: 1, value: 0.8 }], "roc_auc");
 * if (best.trial !== 1) throw new Error("higher ROC AUC wins");
 * ```
 */
import { higherIsBetter, type MetricName } from "../../models/metrics.ts";
import { trainModel } from "../../models/model.ts";
import { GBDT_SPACE, sampleTrials } from "../../models/search.ts";
import { getTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import type { TrainingParams } from "./training_params.ts";

/** One trial: its algorithm and hyperparameters. */
export type TrialSpec = {
  trial: number;
  algo: "gbdt" | "logistic";
  params: Record<string, string | number | boolean>;
};

/** A trial with its validation value of the metric. */
export type TrialOutcome = TrialSpec & { value: number };

/** The best trial by the metric. */
export function bestTrial<T extends { value: number }>(
  trials: readonly T[],
  metric: MetricName,
): T {
  const higher = higherIsBetter(metric);
  return [...trials].sort((a, b) => (higher ? b.value - a.value : a.value - b.value))[0];
}

/** `trials − 1` GBDT configurations (at least one) with `rounds` trees, then a logistic regression. */
export function planTrials(p: Pick<TrainingParams, "trials" | "rounds" | "seed">): TrialSpec[] {
  const gbdt = sampleTrials(GBDT_SPACE, Math.max(1, p.trials - 1), p.seed)
    .map((t): TrialSpec => ({
      trial: t.trial,
      algo: "gbdt",
      params: { ...t.params, nEstimators: p.rounds },
    }));
  return [...gbdt, { trial: gbdt.length, algo: "logistic", params: { C: 1 } }];
}

/** Fits trial `t` on the training rows (artifact `train`) and logs its validation value. */
export async function runTrial(
  ctx: Pick<
    TaskEnv<Pick<TrainingParams, "target" | "seed" | "metric">>,
    "params" | "log" | "putArtifact" | "getArtifact"
  >,
  train: string,
  t: TrialSpec,
): Promise<TrialOutcome> {
  const p = ctx.params;
  const { model } = trainModel(await getTable(ctx, train), {
    target: p.target,
    algo: t.algo,
    seed: p.seed,
    validFraction: 0.25,
    params: t.params,
  });
  ctx.log(
    `${t.algo} ${JSON.stringify(t.params)}: ${p.metric} ${model.metrics[p.metric]?.toFixed(4)}`,
  );
  return { ...t, value: model.metrics[p.metric] };
}
