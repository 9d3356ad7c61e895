/**
 * `training`'s gate and notification: the challenger against the champion on the out-of-time
 * holdout (error rate `alpha`), promoted only if it wins, and the alert that says which.
 *
 * @example
 * ```ts
 * import { trainingAlert } from "./training_gate.ts";
 * const a = trainingAlert(
 *   { dagId: "training", runId: 5, model: "m" },
 *   { promoted: true, reason: "beats v1", champion: 2, verdict: { data: "holdout", errorRate: "5 %" } },
 *   { version: 2, holdout: { roc_auc: 0.81 } },
 * );
 * if (a.level !== "INFO" || a.title !== "m v2 promoted to champion") throw new Error(a.title);
 * ```
 */
import { compareChallenger } from "../../models/gate.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { Alerter } from "../alert/alerter.ts";
import type { Alert } from "../alert/types.ts";
import { getTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import type { TrainingParams } from "./training_params.ts";

/** The gate: the challenger against the champion on the holdout (artifact `holdout`), promoting it if it wins. */
export async function gateChallenger(ctx: TaskEnv<TrainingParams>, holdoutKey: string) {
  const p = ctx.params;
  const registry = await ModelRegistry.open(ctx.db);
  const holdout = await getTable(ctx, holdoutKey);
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
}

/** What the alert reports of the gate and the fitted version. */
export interface GateResult {
  promoted: boolean;
  reason: string;
  champion: number;
  verdict: { data: unknown; errorRate: unknown };
}

/** The alert after the gate: INFO when the challenger was promoted, else WARNING. */
export function trainingAlert(
  run: { dagId: string; runId: number; model: string },
  g: GateResult,
  f: { version: number; holdout: Record<string, number> },
): Alert {
  return {
    level: g.promoted ? "INFO" : "WARNING",
    key: `training:${run.model}`,
    title: g.promoted
      ? `${run.model} v${f.version} promoted to champion`
      : `${run.model} v${f.version} not promoted`,
    message: g.reason,
    dagId: run.dagId,
    runId: run.runId,
    details: {
      version: f.version,
      holdout: f.holdout,
      champion: g.champion,
      gate: { data: g.verdict.data, errorRate: g.verdict.errorRate },
    },
  };
}

/** Sends the gate's alert; resolves to the gate's result (the task's value). */
export async function notifyTraining<G extends GateResult>(
  ctx: Pick<TaskEnv<Pick<TrainingParams, "model" | "alerts">>, "params" | "db" | "dagId" | "runId">,
  g: G,
  f: { version: number; holdout: Record<string, number> },
): Promise<G> {
  const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
  await alerter.send(
    trainingAlert({ dagId: ctx.dagId, runId: ctx.runId, model: ctx.params.model }, g, f),
  );
  return g;
}
