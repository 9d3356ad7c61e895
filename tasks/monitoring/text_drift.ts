/**
 * `text_monitoring`'s `monitor` and `alert`: the model's output on the new mails compared with the
 * baseline's (PSI and KS) and the embeddings through a domain classifier — a level (OK, WARNING above `warning` or on
 * embedding drift, CRITICAL above `critical`) and the alert it sends.
 *
 * @example
 * ```ts
 * import { textAlert, textDriftLevel } from "./text_drift.ts";
 * if (textDriftLevel(0.35, false, { warning: 0.2, critical: 0.3 }) !== "CRITICAL") throw new Error("PSI 0.35");
 * if (textDriftLevel(0.05, true, { warning: 0.2, critical: 0.3 }) !== "WARNING") throw new Error("embeddings");
 * const a = textAlert({ dagId: "text_monitoring", runId: 2, model: "spam_filter" }, {
 *   level: "WARNING", psi: 0.25, ks: 0.1, ksP: 0.001, embeddingAuc: 0.52, embeddingDrift: false,
 *   spamShareBaseline: 0.2, spamShareNow: 0.3,
 * });
 * if (a.message !== "spam share 20.0% → 30.0%; KS 0.100 (p 1.00e-3)") throw new Error(a.message);
 * ```
 */
import { Alerter } from "../alert/alerter.ts";
import type { Alert } from "../alert/types.ts";
import { detectDrift } from "../drift/detect.ts";
import { ksTest, psi } from "../drift/stattests.ts";
import { getTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import { spamScores } from "./text.ts";
import { textChampion } from "./text_champion.ts";
import type { TextMonitorParams } from "./text_params.ts";

/** What `monitor` found. */
export interface TextDrift {
  level: "OK" | "WARNING" | "CRITICAL";
  psi: number;
  ks: number;
  ksP: number;
  embeddingAuc: number;
  embeddingDrift: boolean;
  spamShareBaseline: number;
  spamShareNow: number;
}

/** CRITICAL when the output PSI is above `critical`; WARNING above `warning` or on embedding drift. */
export function textDriftLevel(
  outputPsi: number,
  embeddingDrift: boolean,
  p: Pick<TextMonitorParams, "warning" | "critical">,
): TextDrift["level"] {
  return outputPsi > p.critical
    ? "CRITICAL"
    : outputPsi > p.warning || embeddingDrift
    ? "WARNING"
    : "OK";
}

/** Compares the scored mails (artifact `embedded`) with the champion's baseline; logs the summary. */
export async function monitorTextDrift(
  ctx: TaskEnv<Pick<TextMonitorParams, "model" | "seed" | "warning" | "critical">>,
  champion: { version: number; baseline: string },
  embedded: string,
): Promise<TextDrift> {
  const p = ctx.params;
  const { model, onnx } = await textChampion(ctx, p.model, champion.version);
  const baseline = await getTable(ctx, champion.baseline);
  const baseScores = await spamScores(model, onnx, baseline);
  const current = await getTable(ctx, embedded);
  const cur = current.p_spam as Float64Array;
  const outputPsi = psi(baseScores, cur);
  const ks = ksTest(baseScores, cur);
  const emb = Object.keys(baseline).filter((c) => c.startsWith("text_emb_"));
  const report = detectDrift(baseline, current, {
    only: emb,
    multivariate: true,
    seed: p.seed,
    histograms: false,
  });
  const domain = report.multivariate!;
  const summary = {
    level: textDriftLevel(outputPsi, domain.drifted, p),
    psi: outputPsi,
    ks: ks.statistic,
    ksP: ks.pValue,
    embeddingAuc: domain.rocAuc,
    embeddingDrift: domain.drifted,
    spamShareBaseline: baseScores.filter((s) => s >= 0.5).length / baseScores.length,
    spamShareNow: cur.filter((s) => s >= 0.5).length / cur.length,
  };
  ctx.log(JSON.stringify(summary));
  return summary;
}

/** The alert for a drifted text batch. */
export function textAlert(
  run: { dagId: string; runId: number; model: string },
  m: TextDrift,
): Alert {
  return {
    level: m.level === "CRITICAL" ? "CRITICAL" : "WARNING",
    key: `text:${run.model}`,
    title: `${run.model}: output PSI ${m.psi.toFixed(3)}, embedding AUC ${
      m.embeddingAuc.toFixed(3)
    }`,
    message: `spam share ${(m.spamShareBaseline * 100).toFixed(1)}% → ${
      (m.spamShareNow * 100).toFixed(1)
    }%; KS ${m.ks.toFixed(3)} (p ${m.ksP.toExponential(2)})`,
    dagId: run.dagId,
    runId: run.runId,
    details: { ...m },
  };
}

/** Sends the text drift alert. */
export async function sendTextAlert(
  ctx: Pick<
    TaskEnv<Pick<TextMonitorParams, "model" | "alerts">>,
    "params" | "db" | "dagId" | "runId"
  >,
  m: TextDrift,
) {
  const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
  return await alerter.send(
    textAlert({ dagId: ctx.dagId, runId: ctx.runId, model: ctx.params.model }, m),
  );
}
