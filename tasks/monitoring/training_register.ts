/**
 * `training`'s `fit_best`: the best configuration fitted on all training rows, measured on the
 * out-of-time holdout (metrics and its monitoring reference: identity, positive share, calibrated
 * share, ROC AUC ± DeLong SE, with the retraining noise) and registered as the model's
 * `challenger`.
 *
 * @example
 * ```ts
 * import { fitAndRegisterBest } from "./training_register.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { putTable } from "./tables.ts";
 * import { fingerprintTable } from "../../models/package.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * const artifacts = new LocalArtifactStore(dir);
 * const io = {
 *   putArtifact: (d: Uint8Array | string) => artifacts.put(typeof d === "string" ? new TextEncoder().encode(d) : d),
 *   getArtifact: (k: string) => artifacts.get(k),
 * };
 * const n = 400, x = Float64Array.from({ length: n }, (_, i) => i % 20);
 * const y = Array.from(x, (v, i) => (v + (i % 7) > 14 ? "yes" : "no"));
 * const train = await putTable(io, { x, late: y }), holdout = await putTable(io, { x, late: y });
 * const ctx = {
 *   ...io, db: store.db, artifacts, dagId: "training", runId: 1, taskId: "fit_best", log: () => {},
 *   params: { model: "m", target: "late", seed: 0, timeColumn: null, metric: "roc_auc" as const },
 * };
 * const v = await fitAndRegisterBest(ctx, { trial: 0, algo: "logistic", params: { C: 1 }, value: 0.9 }, 1,
 *   { fits: 0, values: {}, sd: {} },
 *   { train, holdout, rows: n, batches: [], holdoutFrom: null, holdoutTo: null, fingerprint: await fingerprintTable({ x, late: y }) });
 * if (v.version !== 1 || !(v.holdout.roc_auc > 0.5)) throw new Error(JSON.stringify(v.holdout));
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import { scoreModel, trainModel } from "../../models/model.ts";
import { registerModel } from "../../models/package.ts";
import {
  labelShare,
  measureReference,
  positiveClass,
  referenceMetrics,
} from "../../models/reference.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { getTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import type { TrainingParams } from "./training_params.ts";
import type { TrialOutcome } from "./training_trials.ts";
import type { RetrainNoise } from "./training_noise.ts";
import type { TrainingWindow } from "./training_window.ts";

/**
 * Fits `best` on all training rows, measures it on the holdout (metrics, reference, noise) and
 * registers it as the model's `challenger`; `trials` is how many were tried.
 */
export async function fitAndRegisterBest(
  ctx: TaskEnv<Pick<TrainingParams, "model" | "target" | "seed" | "timeColumn" | "metric">>,
  best: TrialOutcome,
  trials: number,
  noise: RetrainNoise,
  load: TrainingWindow,
) {
  const p = ctx.params;
  const train = await getTable(ctx, load.train);
  const { model } = trainModel(train, {
    target: p.target,
    algo: best.algo,
    seed: p.seed,
    validFraction: 0,
    params: best.params,
  });
  const holdout = await getTable(ctx, load.holdout);
  // the out-of-time holdout (later than every training row) is the monitoring reference
  const reference = await measureReference(model, holdout, {
    data: load.holdout,
    timeColumn: p.timeColumn,
    // the prior the probabilities are calibrated to: the training rows' share
    trainingShare: labelShare(train[p.target], positiveClass(model.spec.target.classes!)),
  });
  model.metrics = {
    ...scoreModel(model, holdout),
    ...referenceMetrics(reference),
    ...noise.sd,
  };
  model.params = {
    ...model.params,
    trainingData: load.train,
    holdoutData: load.holdout,
    batches: load.batches,
    reference,
    retrainNoise: { fits: noise.fits, subsample: 0.8, values: noise.values },
  };
  const registry = await ModelRegistry.open(ctx.db);
  const v = await registerModel({ registry, artifacts: ctx.artifacts }, model, {
    name: p.model,
    fingerprint: load.fingerprint,
    lineage: { runId: ctx.runId, taskId: ctx.taskId },
    description: "flights: late arrival (> 15 minutes)",
  });
  await registry.setAlias(p.model, "challenger", v.version, {
    reason: `training run ${ctx.runId}: best of ${trials} trials (${best.algo})`,
    runId: ctx.runId,
  });
  ctx.log(
    `registered ${p.model} v${v.version}: out-of-time holdout ${p.metric} ${
      model.metrics[p.metric]?.toFixed(4)
    }; ROC AUC ${reference.rocAuc.value.toFixed(4)} ± ${reference.rocAuc.se.toFixed(4)} (SE), ` +
      `positive share ${reference.positiveShare.toFixed(4)}`,
  );
  return { version: v.version, algo: best.algo, holdout: model.metrics, reference };
}
