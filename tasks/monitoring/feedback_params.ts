/**
 * The parameters `feedback_loop`'s tasks read (the DAG's params schema, validated).
 *
 * @example
 * ```ts
 * import { feedbackStream, type FeedbackParams } from "./feedback_params.ts";
 * const p: Pick<FeedbackParams, "feedback" | "model" | "stream"> = { feedback: "served:flights_delay", model: "flights_delay" };
 * if (feedbackStream(p) !== "served:flights_delay") throw new Error("served rows keep their name");
 * if (feedbackStream({ ...p, feedback: "data/feedback.csv" }) !== "feedback:flights_delay") throw new Error("a file");
 * ```
 */
import type { AlertConfig } from "../alert/types.ts";

/** `feedback_loop`'s parameters. */
export interface FeedbackParams {
  feedback: string;
  model: string;
  target: string;
  positiveLabel: string;
  minAccuracy: number;
  maxDrop: number;
  minRows: number;
  stream?: string;
  referenceRows: number;
  seed: number;
  alpha: number;
  batchDir: string;
  training: Record<string, unknown>;
  alerts: AlertConfig;
}

/** The monitoring stream the judgement is recorded under: `stream`, else `served:<model>` or `feedback:<model>`. */
export function feedbackStream(p: Pick<FeedbackParams, "feedback" | "model" | "stream">): string {
  return p.stream ?? (p.feedback.startsWith("served:") ? p.feedback : `feedback:${p.model}`);
}

/**
 * What the loop's saved state is kept under: the model and the feedback it reads, so a run for
 * another model or another feedback file starts from its own first row, not another's offset.
 */
export function feedbackKey(p: Pick<FeedbackParams, "feedback" | "model">): string {
  return `${p.model} ← ${p.feedback}`;
}
