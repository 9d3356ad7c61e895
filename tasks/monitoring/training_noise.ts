/**
 * `training`'s retraining noise: how much the holdout metric moves by retraining alone — the best
 * configuration refitted on 80 % subsamples of the training rows (`retrain_sd_<metric>`; the gate
 * adds it to the test rows' noise).
 *
 * @example
 * ```ts
 * import { measureRetrainNoise } from "./training_noise.ts";
 * const none = await measureRetrainNoise(
 *   { params: { noiseFits: 0, target: "late", seed: 0, metric: "roc_auc" }, log: () => {},
 *     putArtifact: () => Promise.reject(new Error("unused")), getArtifact: () => Promise.reject(new Error("unused")) },
 *   { trial: 0, algo: "logistic", params: { C: 1 }, value: 0.8 },
 *   { train: "sha256:…", holdout: "sha256:…" },
 * );
 * if (none.fits !== 0 || Object.keys(none.sd).length !== 0) throw new Error("0 fits: not measured");
 * ```
 */
import { refitMetrics, retrainSdMetrics } from "../../models/retrain_noise.ts";
import { getTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import type { TrainingParams } from "./training_params.ts";
import type { TrialOutcome } from "./training_trials.ts";
import type { TrainingWindow } from "./training_window.ts";

/** The retraining noise: the refits' values by metric and their SDs (`retrain_sd_<metric>`). */
export interface RetrainNoise {
  fits: number;
  values: Record<string, number[]>;
  sd: Record<string, number>;
}

/** Refits `best` `noiseFits` times on 80 % subsamples (none when 0) and logs the metric's SD. */
export async function measureRetrainNoise(
  ctx: Pick<
    TaskEnv<Pick<TrainingParams, "noiseFits" | "target" | "seed" | "metric">>,
    "params" | "log" | "putArtifact" | "getArtifact"
  >,
  best: TrialOutcome,
  load: Pick<TrainingWindow, "train" | "holdout">,
): Promise<RetrainNoise> {
  const p = ctx.params;
  if (p.noiseFits === 0) return { fits: 0, values: {}, sd: {} };
  const train = await getTable(ctx, load.train), holdout = await getTable(ctx, load.holdout);
  const values = refitMetrics(train, holdout, {
    target: p.target,
    algo: best.algo,
    params: best.params,
  }, { fits: p.noiseFits, seed: p.seed });
  const sd = retrainSdMetrics(values);
  ctx.log(
    `retraining noise over ${p.noiseFits} refits on 80% subsamples: ${p.metric} SD ${
      sd[`retrain_sd_${p.metric}`]?.toFixed(4)
    }`,
  );
  return { fits: p.noiseFits, values, sd };
}
