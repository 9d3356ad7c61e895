/**
 * The alert `drift_monitoring` sends when a batch's grade calls for one: keyed by the stream (so a
 * stream's alerts share a cooldown), titled with the grade, its reasons as the message, and the
 * batch and its HTML report in the details.
 *
 * @example
 * ```ts
 * import { driftAlert } from "./drift_alert.ts";
 * const a = driftAlert({ dagId: "drift_monitoring", runId: 8, streamName: "flights" }, "CRITICAL", " — retraining", {
 *   severity: "major", reasons: ["distance drifted", "hour drifted"], batch: 7, html: "sha256:ab",
 * });
 * if (a.title !== "flights: major drift — retraining" || a.key !== "drift:flights") throw new Error(a.title);
 * ```
 */
import { Alerter } from "../alert/alerter.ts";
import type { Alert, AlertConfig } from "../alert/types.ts";
import type { TaskEnv } from "./task_env.ts";

/** The graded batch an alert is about. */
export interface DriftAlertSubject {
  severity: string;
  reasons: string[];
  batch: number;
  /** The batch's HTML report (artifact key). */
  html: string;
}

/** The alert for a graded batch of `streamName`, the title ending in `suffix`. */
export function driftAlert(
  run: { dagId: string; runId: number; streamName: string },
  level: "WARNING" | "CRITICAL",
  suffix: string,
  s: DriftAlertSubject,
): Alert {
  return {
    level,
    key: `drift:${run.streamName}`,
    title: `${run.streamName}: ${s.severity} drift${suffix}`,
    message: s.reasons.join("\n"),
    dagId: run.dagId,
    runId: run.runId,
    details: { batch: s.batch, html: s.html },
  };
}

/** Sends the batch's drift alert at `level` through the configured channels. */
export async function sendDriftAlert(
  ctx: Pick<
    TaskEnv<{ streamName: string; alerts: AlertConfig }>,
    "params" | "db" | "dagId" | "runId"
  >,
  level: "WARNING" | "CRITICAL",
  suffix: string,
  s: DriftAlertSubject,
) {
  const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
  return await alerter.send(
    driftAlert(
      { dagId: ctx.dagId, runId: ctx.runId, streamName: ctx.params.streamName },
      level,
      suffix,
      s,
    ),
  );
}
