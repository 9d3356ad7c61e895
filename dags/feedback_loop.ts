/**
 * `feedback_loop`: scores the champion against the feedback labels collected since the last
 * evaluation (accuracy, F1, confusion matrix); when it falls below a threshold or below the
 * previous evaluation by a margin, retrains with the feedback merged into the training data
 * (`training` gates and promotes), then notifies.
 *
 * Feedback comes from a CSV or Parquet file of labelled rows (the model's features and its label),
 * or from the web API (`feedback=served:<model>`: predictions served by /api/v1/predict with the
 * labels sent to /api/v1/feedback); rows past the previous run's offset are new. Run it: `deno task run feedback_loop --param feedback=data/feedback.csv`.
 *
 * The new labelled rows also go through `drift_monitoring`'s late-labels judgement
 * (tasks/monitoring/feedback_judgement.ts): CBPE's estimate vs the realized ROC AUC and the
 * departure detector, recorded under the stream `served:<model>` (`feedback:<model>` for a file;
 * `deno task monitoring served:<model> --json`); when they part (a concept signal), it retrains.
 */
import { dag, type SqlClient, z } from "driftflow";
import { accuracy, f1 } from "../models/metrics.ts";
import { loadModel } from "../models/package.ts";
import { runOnnx } from "../models/onnx/runtime.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import { Alerter } from "../tasks/alert/alerter.ts";
import { AlertConfig } from "../tasks/alert/types.ts";
import { writeParquet } from "../tasks/data/parquet.ts";
import { dataDir } from "../tasks/data/prepare.ts";
import { rowCount, sampleRows, sliceRows, type Table } from "../models/core/table.ts";
import { championReference, referenceAtPrior, scoreTable } from "../tasks/monitoring/champion.ts";
import { judgeFeedback } from "../tasks/monitoring/feedback_judgement.ts";
import { FLIGHT_MODEL, FLIGHT_TARGET } from "../tasks/monitoring/flights.ts";
import { MonitoringTable } from "../tasks/monitoring/metrics_table.ts";
import { getTable, putTable } from "../tasks/monitoring/tables.ts";
import { PredictionLog } from "../models/serving/prediction_log.ts";

/**
 * The labelled rows: a CSV or Parquet file, or `served:<model>` — the predictions the web API
 * served for that model with the labels sent to /api/v1/feedback, in the order they arrived.
 */
async function feedbackRows(
  ctx: {
    db: SqlClient;
    putArtifact(d: Uint8Array | string): Promise<string>;
    getArtifact(k: string): Promise<Uint8Array>;
  },
  ref: string,
  target: string,
  timeColumn: string | null,
): Promise<Table> {
  if (!ref.startsWith("served:")) return await getTable(ctx, ref);
  const rows = await (await PredictionLog.open(ctx.db)).labelled(ref.slice("served:".length));
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.input)))];
  const out: Record<string, Table[string]> = {};
  for (const n of names) {
    const values = rows.map((r) => r.input[n] ?? null);
    out[n] = values.every((v) => v === null || typeof v === "number")
      ? Float64Array.from(values, (v) => (v === null ? NaN : (v as number)))
      : values.map((v) => (v === null ? null : String(v)));
  }
  out[target] = rows.map((r) => r.label);
  // Served rows carry the time they were served, so retraining can hold out the latest in time.
  if (timeColumn !== null && !(timeColumn in out)) {
    out[timeColumn] = Float64Array.from(rows, (r) => r.at.getTime());
  }
  return out;
}

const params = z.object({
  feedback: z.string().default(`${dataDir()}/feedback/flights.csv`),
  model: z.string().default(FLIGHT_MODEL),
  target: z.string().default(FLIGHT_TARGET),
  positiveLabel: z.string().default("yes"),
  /** Retrain when accuracy on new feedback falls below this… */
  minAccuracy: z.number().min(0).max(1).default(0.7),
  /** …or below the previous evaluation by more than this. */
  maxDrop: z.number().min(0).max(1).default(0.05),
  minRows: z.number().int().positive().default(200),
  /** The monitoring stream the judgement is recorded under (default `served:<model>` or `feedback:<model>`). */
  stream: z.string().optional(),
  /** Rows of the champion's reference the estimate is calibrated on, and its seed. */
  referenceRows: z.number().int().positive().default(20_000),
  seed: z.number().int().default(0),
  /** The estimated-vs-realized test's level. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  batchDir: z.string().default(`${dataDir()}/batches`),
  training: z.record(z.string(), z.unknown()).default({}),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
});

const SCORE = "p_positive";

type Evaluation = { offset: number; accuracy: number | null; version: number | null };

export default dag({
  id: "feedback_loop",
  description: "Champion vs collected feedback labels; retrain, gate and promote when it degrades",
  schedule: "@daily",
  startDate: "2026-01-01",
  catchup: false,
  maxActiveRuns: 1,
  params,
  defaults: { retries: 1, retryDelay: "10s", timeout: "30m" },
})
  .task("collect", {
    run: async (ctx) => {
      const p = ctx.params;
      const prior = await ctx.priorXcom<Evaluation>("save_state");
      const offset = prior?.offset ?? 0;
      let all: Table | null = null;
      try {
        all = await feedbackRows(
          ctx,
          p.feedback,
          p.target,
          p.training.timeColumn === null ? null : String(p.training.timeColumn ?? "date"),
        );
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      const total = all ? rowCount(all) : 0;
      const fresh = Math.max(0, total - offset);
      ctx.log(`${fresh} new feedback rows (of ${total}; evaluated up to row ${offset})`);
      // the new rows, read once here, go to evaluate as a Parquet artifact
      const rows = all && fresh >= p.minRows
        ? await putTable(ctx, sliceRows(all, offset, total))
        : null;
      return { offset, total, fresh, rows, previous: prior?.accuracy ?? null };
    },
  })
  .branch("enough_feedback", {
    deps: ["collect"],
    run: (ctx) => (ctx.xcom("collect").fresh >= ctx.params.minRows ? "evaluate" : "wait_for_more"),
  })
  .task("wait_for_more", {
    deps: ["enough_feedback"],
    run: (ctx) =>
      ctx.log(`fewer than ${ctx.params.minRows} new labelled rows: nothing to judge yet`),
  })
  .task("evaluate", {
    deps: ["enough_feedback"],
    run: async (ctx) => {
      const p = ctx.params;
      const c = ctx.xcom("collect");
      const rows = await getTable(ctx, c.rows!);
      const registry = await ModelRegistry.open(ctx.db);
      const { model, onnx, version } = await loadModel(`${p.model}@champion`, {
        registry,
        artifacts: ctx.artifacts,
      });
      const out = await runOnnx(onnx, rows, model.spec);
      const k = model.spec.target.classes!.indexOf(p.positiveLabel);
      const n = rowCount(rows);
      const score = Float64Array.from(
        { length: n },
        (_, i) => out.probabilities![i * out.width + k],
      );
      const y = Float64Array.from(
        { length: n },
        (_, i) => (String(rows[p.target][i]) === p.positiveLabel ? 1 : 0),
      );
      const cm = { tp: 0, fp: 0, fn: 0, tn: 0 };
      for (let i = 0; i < n; i++) {
        const hat = score[i] >= 0.5 ? 1 : 0;
        if (hat && y[i]) cm.tp++;
        else if (hat) cm.fp++;
        else if (y[i]) cm.fn++;
        else cm.tn++;
      }
      const acc = accuracy(y, score), f = f1(y, score);
      // the late-labels judgement: estimate vs realized, departure detector, a monitoring row
      const champion = await championReference(registry, p.model);
      const reference = await scoreTable(
        onnx,
        model,
        referenceAtPrior(
          sampleRows(await getTable(ctx, champion.reference), p.referenceRows, p.seed),
          p.target,
          p.positiveLabel,
          champion.positiveShare,
          p.seed,
        ),
        p.positiveLabel,
        SCORE,
      );
      const late = await judgeFeedback(await MonitoringTable.open(ctx.db), {
        stream: p.stream ??
          (p.feedback.startsWith("served:") ? p.feedback : `feedback:${p.model}`),
        dagId: ctx.dagId,
        runId: ctx.runId,
        model: p.model,
        championVersion: version!.version,
        reference,
        labelled: { ...rows, [SCORE]: score },
        options: {
          target: p.target,
          prediction: SCORE,
          positiveLabel: p.positiveLabel,
          alpha: p.alpha,
          seed: p.seed,
        },
      });
      for (const r of late.reasons) ctx.log(`late labels: ${r}`);
      const belowThreshold = acc < p.minAccuracy;
      const belowPrevious = c.previous !== null && acc < c.previous - p.maxDrop;
      // the new labelled rows become a training batch
      await Deno.mkdir(p.batchDir, { recursive: true });
      const batch = `${p.batchDir}/feedback-run-${ctx.runId}.parquet`;
      await writeParquet(batch, rows);
      ctx.log(
        `v${version!.version} on ${n} feedback rows: accuracy ${acc.toFixed(4)}, F1 ${
          f.toFixed(4)
        }, confusion ${JSON.stringify(cm)}`,
      );
      return {
        rows: n,
        accuracy: acc,
        f1: f,
        confusion: cm,
        version: version!.version,
        degraded: belowThreshold || belowPrevious || late.retrain,
        belowThreshold,
        belowPrevious,
        concept: late.retrain,
        conceptReasons: late.reasons,
        monitoringRow: late.row,
        batch,
      };
    },
  })
  .branch("decide", {
    deps: ["evaluate"],
    run: (ctx) => (ctx.xcom("evaluate").degraded ? "retrain" : "healthy"),
  })
  .task("healthy", {
    deps: ["decide"],
    run: (ctx) => ctx.log(`champion holds: accuracy ${ctx.xcom("evaluate").accuracy.toFixed(4)}`),
  })
  .triggerDag("retrain", {
    deps: ["decide"],
    dagId: "training",
    wait: true,
    conf: (ctx) => ({
      ...ctx.params.training,
      model: ctx.params.model,
      batches: [ctx.xcom("evaluate").batch],
    }),
  })
  .task("notify", {
    deps: ["retrain"],
    run: async (ctx) => {
      const e = ctx.xcom("evaluate");
      const registry = await ModelRegistry.open(ctx.db);
      const after = (await registry.resolve(`${ctx.params.model}@champion`)).version;
      const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
      await alerter.send({
        level: "WARNING",
        key: `feedback:${ctx.params.model}`,
        title: `${ctx.params.model}: feedback accuracy ${e.accuracy.toFixed(3)} — ${
          after !== e.version ? `v${after} promoted` : `v${e.version} kept`
        }`,
        message: e.belowThreshold
          ? `accuracy below ${ctx.params.minAccuracy} on ${e.rows} new labels`
          : e.belowPrevious
          ? `accuracy dropped more than ${ctx.params.maxDrop} since the last evaluation`
          : `estimated and realized ROC AUC parted: ${e.conceptReasons.join("; ")}`,
        dagId: ctx.dagId,
        runId: ctx.runId,
        details: { ...e, after },
      });
      return { before: e.version, after, changed: after !== e.version };
    },
  })
  .task("save_state", {
    deps: ["wait_for_more", "healthy", "notify"],
    triggerRule: "none_failed_min_one_success",
    run: (ctx): Evaluation => {
      const c = ctx.xcom("collect");
      const e = ctx.maybeXcom("evaluate");
      // not enough rows: keep the offset so they count next time
      return e
        ? { offset: c.total, accuracy: e.accuracy, version: e.version }
        : { offset: c.offset, accuracy: c.previous, version: null };
    },
  });
