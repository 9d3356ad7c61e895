/**
 * `feedback_loop`'s `notify`: after the retraining, the champion is read again and an alert says
 * the feedback accuracy, whether a new version was promoted, and why the loop retrained.
 *
 * @example
 * ```ts
 * import { feedbackAlert } from "./feedback_alert.ts";
 * const a = feedbackAlert(
 *   { dagId: "feedback_loop", runId: 3, model: "m", minAccuracy: 0.7, maxDrop: 0.05 },
 *   { accuracy: 0.61, rows: 250, version: 2, belowThreshold: true, belowPrevious: false, conceptReasons: [] },
 *   3,
 * );
 * if (a.title !== "m: feedback accuracy 0.610 — v3 promoted") throw new Error(a.title);
 * if (a.message !== "accuracy below 0.7 on 250 new labels") throw new Error(a.message);
 * ```
 */
import { ModelRegistry } from "../../models/registry/registry.ts";
import { Alerter } from "../alert/alerter.ts";
import type { Alert } from "../alert/types.ts";
import type { FeedbackParams } from "./feedback_params.ts";
import type { FeedbackVerdict } from "./feedback_evaluation.ts";
import type { TaskEnv } from "./task_env.ts";

type Judged = Pick<
  FeedbackVerdict,
  "accuracy" | "rows" | "version" | "belowThreshold" | "belowPrevious" | "conceptReasons"
>;

/** The alert after a feedback retraining: `after` is the champion's version now. */
export function feedbackAlert(
  run: { dagId: string; runId: number; model: string; minAccuracy: number; maxDrop: number },
  e: Judged,
  after: number,
): Alert {
  return {
    level: "WARNING",
    key: `feedback:${run.model}`,
    title: `${run.model}: feedback accuracy ${e.accuracy.toFixed(3)} — ${
      after !== e.version ? `v${after} promoted` : `v${e.version} kept`
    }`,
    message: e.belowThreshold
      ? `accuracy below ${run.minAccuracy} on ${e.rows} new labels`
      : e.belowPrevious
      ? `accuracy dropped more than ${run.maxDrop} since the last evaluation`
      : `estimated and realized ROC AUC parted: ${e.conceptReasons.join("; ")}`,
    dagId: run.dagId,
    runId: run.runId,
    details: { ...e, after },
  };
}

/** Reads the champion after the retraining, sends the alert; the versions before and after. */
export async function notifyFeedbackOutcome(
  ctx: Pick<
    TaskEnv<Pick<FeedbackParams, "model" | "minAccuracy" | "maxDrop" | "alerts">>,
    "params" | "db" | "dagId" | "runId"
  >,
  e: FeedbackVerdict,
) {
  const p = ctx.params;
  const registry = await ModelRegistry.open(ctx.db);
  const after = (await registry.resolve(`${p.model}@champion`)).version;
  const alerter = await Alerter.open(ctx.db, p.alerts);
  await alerter.send(feedbackAlert({ dagId: ctx.dagId, runId: ctx.runId, ...p }, e, after));
  return { before: e.version, after, changed: after !== e.version };
}
