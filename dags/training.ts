/**
 * `training`: fits a model on the training data (the initial set plus, on a retraining run, the
 * batches named in conf — cumulative, or a sliding window of the latest), holding out the LATEST
 * part of the window in time (`timeColumn`, `holdoutFraction` or `holdoutRows`: out-of-time, so no
 * day is on both sides), searches hyperparameters (one mapped task per trial, GBDT and logistic) on
 * the earlier part, measures the retraining noise (`noiseFits` refits of the best configuration on
 * 80 % subsamples: `retrain_sd_<metric>`), evaluates the best on the out-of-time holdout, registers
 * it as `challenger` with its monitoring reference (`params.reference`: the holdout's identity,
 * positive share, calibrated share, ROC AUC ± DeLong SE), compares it with the champion through the
 * gate on that same holdout (error rate `alpha`), promotes it only if it wins, and notifies.
 *
 * Conf (all optional): `{ "batches": [".driftflow/batches/…parquet"], "window": "sliding", "windowBatches": 3,
 * "holdoutFraction": 0.2 }`.
 * Run it: `deno task run training`.
 */
import { dag, z } from "driftflow";
import { type MetricName, METRICS } from "../models/mod.ts";
import { dataPaths } from "../tasks/data/mod.ts";
import {
  AlertConfig,
  bestTrial,
  fitAndRegisterBest,
  FLIGHT_FEATURES,
  FLIGHT_MODEL,
  FLIGHT_TARGET,
  gateChallenger,
  loadTrainingWindow,
  measureRetrainNoise,
  notifyTraining,
  planTrials,
  runTrial,
} from "../tasks/monitoring/mod.ts";

const params = z.object({
  data: z.string().default(dataPaths().flightsReference),
  features: z.array(z.string()).default(FLIGHT_FEATURES),
  target: z.string().default(FLIGHT_TARGET),
  model: z.string().default(FLIGHT_MODEL),
  /** Rows drawn from the initial data (it is large). */
  initialRows: z.number().int().positive().default(40_000),
  batches: z.array(z.string()).default([]),
  window: z.enum(["cumulative", "sliding"]).default("cumulative"),
  windowBatches: z.number().int().positive().default(4),
  trials: z.number().int().min(1).default(4),
  rounds: z.number().int().positive().default(80),
  /** The time column the holdout is cut by; null = the rows' order is their time order. */
  timeColumn: z.string().nullable().default("date"),
  /** Share of the window held out: its latest rows in time (the monitoring reference, the gate's test set). */
  holdoutFraction: z.number().gt(0).lt(1).default(0.2),
  /** Rows held out (the latest); overrides holdoutFraction. */
  holdoutRows: z.number().int().positive().optional(),
  metric: z.enum(Object.keys(METRICS) as [MetricName, ...MetricName[]]).default("roc_auc"),
  margin: z.number().min(0).default(0.002),
  /** The gate's error rate: how often a challenger no better than the champion may be promoted. */
  alpha: z.number().gt(0).lt(0.5).default(0.05),
  /**
   * Refits of the chosen configuration on 80 % subsamples of the training rows, to measure how much
   * the holdout metric moves by retraining alone (`retrain_sd_<metric>`; the gate adds it to the
   * test rows' noise). 0 = not measured (the gate then sees only the test rows' noise).
   */
  noiseFits: z.number().int().min(0).max(20).default(3),
  seed: z.number().int().default(0),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
});

export default dag({
  id: "training",
  description: "Fit, search, evaluate, register, gate against the champion, notify",
  schedule: null,
  params,
  defaults: { retries: 1, retryDelay: "5s", timeout: "30m" },
})
  .task("load", { run: (ctx) => loadTrainingWindow(ctx) })
  .task("plan", { run: (ctx) => planTrials(ctx.params) })
  .task("trial", {
    deps: ["load", "plan"],
    expand: (ctx) => ctx.xcom("plan"),
    run: (ctx, t) => runTrial(ctx, ctx.xcom("load").train, t),
  })
  .task("retrain_noise", {
    deps: ["trial"],
    run: (ctx) =>
      measureRetrainNoise(
        ctx,
        bestTrial(ctx.xcom("trial"), ctx.params.metric),
        ctx.xcom("load"),
      ),
  })
  .task("fit_best", {
    deps: ["retrain_noise"],
    run: (ctx) =>
      fitAndRegisterBest(
        ctx,
        bestTrial(ctx.xcom("trial"), ctx.params.metric),
        ctx.xcom("trial").length,
        ctx.xcom("retrain_noise"),
        ctx.xcom("load"),
      ),
  })
  .task("gate", {
    deps: ["fit_best"],
    run: (ctx) => gateChallenger(ctx, ctx.xcom("load").holdout),
  })
  .task("notify", {
    deps: ["gate"],
    run: (ctx) => notifyTraining(ctx, ctx.xcom("gate"), ctx.xcom("fit_best")),
  });
