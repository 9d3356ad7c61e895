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
import { dag, z } from "driftflow";
import { dataDir, homePaths } from "../tasks/data/mod.ts";
import {
  AlertConfig,
  collectFeedback,
  evaluateFeedback,
  type FeedbackEvaluation,
  feedbackKey,
  feedbackState,
  FLIGHT_MODEL,
  FLIGHT_TARGET,
  keyedState,
  type KeyedStates,
  notifyFeedbackOutcome,
  withKeyedState,
} from "../tasks/monitoring/mod.ts";

type Saved = KeyedStates<FeedbackEvaluation> | FeedbackEvaluation;

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
  batchDir: z.string().default(homePaths().batches),
  training: z.record(z.string(), z.unknown()).default({}),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
});

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
    run: async (ctx) =>
      collectFeedback(
        ctx,
        keyedState(await ctx.priorXcom<Saved>("save_state"), feedbackKey(ctx.params)),
      ),
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
    run: (ctx) => evaluateFeedback(ctx, ctx.xcom("collect")),
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
    run: (ctx) => notifyFeedbackOutcome(ctx, ctx.xcom("evaluate")),
  })
  .task("save_state", {
    deps: ["wait_for_more", "healthy", "notify"],
    triggerRule: "none_failed_min_one_success",
    run: async (ctx) =>
      withKeyedState(
        await ctx.priorXcom<Saved>("save_state"),
        feedbackKey(ctx.params),
        feedbackState(ctx.xcom("collect"), ctx.maybeXcom("evaluate")),
      ),
  });
