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
 * Conf (all optional): `{ "batches": ["data/batches/…parquet"], "window": "sliding", "windowBatches": 3,
 * "holdoutFraction": 0.2 }`.
 * Run it: `deno task run training`.
 */
import { dag, z } from "driftflow";
import { compareChallenger } from "../models/gate.ts";
import { higherIsBetter, type MetricName, METRICS } from "../models/metrics.ts";
import { scoreModel, trainModel } from "../models/model.ts";
import { fingerprintTable, registerModel } from "../models/package.ts";
import { refitMetrics, retrainSdMetrics } from "../models/retrain_noise.ts";
import {
  labelShare,
  measureReference,
  positiveClass,
  referenceMetrics,
  timeRange,
} from "../models/reference.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import { GBDT_SPACE, sampleTrials } from "../models/search.ts";
import { outOfTimeSplit } from "../models/split.ts";
import { Alerter } from "../tasks/alert/alerter.ts";
import { AlertConfig } from "../tasks/alert/types.ts";
import { dataPaths } from "../tasks/data/prepare.ts";
import { concatTables, rowCount, sampleRows, type Table } from "../models/core/table.ts";
import { FLIGHT_FEATURES, FLIGHT_MODEL, FLIGHT_TARGET } from "../tasks/monitoring/flights.ts";
import { getTable, pick, putTable } from "../tasks/monitoring/tables.ts";

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
type P = z.infer<typeof params>;

/** The best trial by the metric. */
function bestTrial<T extends { value: number }>(trials: readonly T[], metric: MetricName): T {
  const higher = higherIsBetter(metric);
  return [...trials].sort((a, b) => (higher ? b.value - a.value : a.value - b.value))[0];
}
type TrialSpec = {
  trial: number;
  algo: "gbdt" | "logistic";
  params: Record<string, string | number | boolean>;
};

export default dag({
  id: "training",
  description: "Fit, search, evaluate, register, gate against the champion, notify",
  schedule: null,
  params,
  defaults: { retries: 1, retryDelay: "5s", timeout: "30m" },
})
  .task("load", {
    run: async (ctx) => {
      const p = ctx.params;
      const time = p.timeColumn;
      const columns = [...p.features, p.target, ...(time === null ? [] : [time])];
      const initial = sampleRows(
        pick(await getTable(ctx, p.data), columns, p.data),
        p.initialRows,
        p.seed,
      );
      const chosen = p.window === "sliding" ? p.batches.slice(-p.windowBatches) : p.batches;
      const parts: Table[] = [];
      for (const b of chosen) parts.push(pick(await getTable(ctx, b), columns, b));
      // sliding: the window alone once it is big enough; cumulative: everything
      const windowRows = parts.reduce((s, t) => s + rowCount(t), 0);
      const all = p.window === "sliding" && windowRows >= p.initialRows / 2
        ? concatTables(parts)
        : concatTables([initial, ...parts]);
      const n = rowCount(all);
      // out of time: the latest part of the window is held out (never a random share of it)
      const split = outOfTimeSplit(all, {
        timeColumn: time,
        fraction: p.holdoutFraction,
        rows: p.holdoutRows,
      });
      // the time column is not a feature: training sees the features and the target only
      const train = pick(split.train, [...p.features, p.target], "training rows");
      const nHold = rowCount(split.holdout);
      const range = timeRange(split.holdout, time);
      const held = range.from ? `from ${range.from} to ${range.to}` : "(the last rows in order)";
      ctx.log(
        `training rows ${n - nHold}, out-of-time holdout ${nHold} ${held} ` +
          `(${chosen.length} batches, ${p.window})`,
      );
      return {
        train: await putTable(ctx, train),
        holdout: await putTable(ctx, split.holdout),
        rows: n,
        batches: chosen,
        holdoutFrom: range.from,
        holdoutTo: range.to,
        fingerprint: await fingerprintTable(train),
      };
    },
  })
  .task("plan", {
    run: (ctx): TrialSpec[] => {
      const p = ctx.params;
      const gbdt = sampleTrials(GBDT_SPACE, Math.max(1, p.trials - 1), p.seed)
        .map((t): TrialSpec => ({
          trial: t.trial,
          algo: "gbdt",
          params: { ...t.params, nEstimators: p.rounds },
        }));
      return [...gbdt, { trial: gbdt.length, algo: "logistic", params: { C: 1 } }];
    },
  })
  .task("trial", {
    deps: ["load", "plan"],
    expand: (ctx) => ctx.xcom("plan"),
    run: async (ctx, t) => {
      const p = ctx.params;
      const train = await getTable(ctx, ctx.xcom("load").train);
      const { model } = trainModel(train, {
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
    },
  })
  .task("retrain_noise", {
    deps: ["trial"],
    run: async (ctx) => {
      const p = ctx.params;
      const best = bestTrial(ctx.xcom("trial"), p.metric);
      const load = ctx.xcom("load");
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
    },
  })
  .task("fit_best", {
    deps: ["retrain_noise"],
    run: async (ctx) => {
      const p = ctx.params;
      const best = bestTrial(ctx.xcom("trial"), p.metric);
      const noise = ctx.xcom("retrain_noise");
      const load = ctx.xcom("load");
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
        reason: `training run ${ctx.runId}: best of ${
          ctx.xcom("trial").length
        } trials (${best.algo})`,
        runId: ctx.runId,
      });
      ctx.log(
        `registered ${p.model} v${v.version}: out-of-time holdout ${p.metric} ${
          model.metrics[p.metric]?.toFixed(4)
        }; ROC AUC ${reference.rocAuc.value.toFixed(4)} ± ${
          reference.rocAuc.se.toFixed(4)
        } (SE), ` +
          `positive share ${reference.positiveShare.toFixed(4)}`,
      );
      return { version: v.version, algo: best.algo, holdout: model.metrics, reference };
    },
  })
  .task("gate", {
    deps: ["fit_best"],
    run: async (ctx) => {
      const p = ctx.params;
      const registry = await ModelRegistry.open(ctx.db);
      const holdout = await getTable(ctx, ctx.xcom("load").holdout);
      const verdict = await compareChallenger(p.model, holdout, p.metric, {
        registry,
        artifacts: ctx.artifacts,
        margin: p.margin,
        alpha: p.alpha,
        promote: true,
        runId: ctx.runId,
        rounds: 200,
        seed: p.seed,
        timeColumn: p.timeColumn,
      });
      ctx.log(verdict.reason);
      const champion = await registry.resolve(`${p.model}@champion`);
      return {
        promoted: verdict.promoted,
        reason: verdict.reason,
        champion: champion.version,
        verdict,
      };
    },
  })
  .task("notify", {
    deps: ["gate"],
    run: async (ctx) => {
      const g = ctx.xcom("gate"), f = ctx.xcom("fit_best");
      const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
      await alerter.send({
        level: g.promoted ? "INFO" : "WARNING",
        key: `training:${ctx.params.model}`,
        title: g.promoted
          ? `${ctx.params.model} v${f.version} promoted to champion`
          : `${ctx.params.model} v${f.version} not promoted`,
        message: g.reason,
        dagId: ctx.dagId,
        runId: ctx.runId,
        details: {
          version: f.version,
          holdout: f.holdout,
          champion: g.champion,
          gate: { data: g.verdict.data, errorRate: g.verdict.errorRate },
        },
      });
      return g;
    },
  });
