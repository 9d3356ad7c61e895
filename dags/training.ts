/**
 * `training`: fits a model on the training data (the initial set plus, on a retraining run, the
 * batches named in conf — cumulative, or a sliding window of the latest), searches hyperparameters
 * (one mapped task per trial, GBDT and logistic), evaluates the best on a holdout, registers it as
 * `challenger`, compares it with the champion through the gate, promotes it only if it wins, and
 * notifies.
 *
 * Conf (all optional): `{ "batches": ["data/batches/…parquet"], "window": "sliding", "windowBatches": 3 }`.
 * Run it: `deno task run training`.
 */
import { dag, z } from "driftflow";
import { compareChallenger } from "../models/gate.ts";
import { type MetricName, METRICS } from "../models/metrics.ts";
import { scoreModel, trainModel } from "../models/model.ts";
import { fingerprintTable, registerModel } from "../models/package.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import { GBDT_SPACE, sampleTrials } from "../models/search.ts";
import { Alerter } from "../tasks/alert/alerter.ts";
import { AlertConfig } from "../tasks/alert/types.ts";
import { dataPaths } from "../tasks/data/prepare.ts";
import { concatTables, rowCount, sampleRows, type Table, takeRows } from "../tasks/data/table.ts";
import { FLIGHT_FEATURES, FLIGHT_MODEL, FLIGHT_TARGET } from "../tasks/monitoring/flights.ts";
import { getTable, pick, putTable } from "../tasks/monitoring/tables.ts";
import { Random } from "../tasks/random.ts";

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
  holdoutFraction: z.number().gt(0).lt(1).default(0.2),
  metric: z.enum(Object.keys(METRICS) as [MetricName, ...MetricName[]]).default("roc_auc"),
  margin: z.number().min(0).default(0.002),
  seed: z.number().int().default(0),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
});
type P = z.infer<typeof params>;
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
      const columns = [...p.features, p.target];
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
      const order = new Random(p.seed).permutation(n);
      const nHold = Math.round(n * p.holdoutFraction);
      const train = takeRows(all, order.subarray(nHold)),
        holdout = takeRows(all, order.subarray(0, nHold));
      ctx.log(
        `training rows ${n - nHold}, holdout ${nHold} (${chosen.length} batches, ${p.window})`,
      );
      return {
        train: await putTable(ctx, train),
        holdout: await putTable(ctx, holdout),
        rows: n,
        batches: chosen,
        fingerprint: await fingerprintTable(all),
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
  .task("fit_best", {
    deps: ["trial"],
    run: async (ctx) => {
      const p = ctx.params;
      const higher = p.metric === "roc_auc" || p.metric === "accuracy" || p.metric === "f1";
      const best =
        [...ctx.xcom("trial")].sort((a, b) => (higher ? b.value - a.value : a.value - b.value))[0];
      const load = ctx.xcom("load");
      const { model } = trainModel(await getTable(ctx, load.train), {
        target: p.target,
        algo: best.algo,
        seed: p.seed,
        validFraction: 0,
        params: best.params,
      });
      model.metrics = scoreModel(model, await getTable(ctx, load.holdout));
      // the holdout (unseen by the model) is the reference drift monitoring compares batches with
      model.params = {
        ...model.params,
        trainingData: load.train,
        holdoutData: load.holdout,
        batches: load.batches,
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
        `registered ${p.model} v${v.version}: holdout ${p.metric} ${
          model.metrics[p.metric]?.toFixed(4)
        }`,
      );
      return { version: v.version, algo: best.algo, holdout: model.metrics };
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
        promote: true,
        runId: ctx.runId,
        rounds: 200,
        seed: p.seed,
      });
      ctx.log(verdict.reason);
      const champion = await registry.resolve(`${p.model}@champion`);
      return { promoted: verdict.promoted, reason: verdict.reason, champion: champion.version };
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
        details: { version: f.version, holdout: f.holdout, champion: g.champion },
      });
      return g;
    },
  });
