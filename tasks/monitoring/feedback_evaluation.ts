/**
 * `feedback_loop`'s `evaluate`: the champion scored on the new feedback rows (accuracy, F1, the
 * confusion matrix at 0.5), the late-labels judgement (CBPE's estimate vs the realized ROC AUC, the
 * departure detector, a monitoring row), whether it degraded, and the rows written as a training
 * batch. With no champion registered yet, the task skips (`SkipTask`) and says what to run.
 *
 * @example
 * ```ts
 * import { confusionAt } from "./feedback_evaluation.ts";
 * const cm = confusionAt(Float64Array.of(1, 0, 1, 0), Float64Array.of(0.9, 0.7, 0.2, 0.1), 0.5);
 * if (cm.tp !== 1 || cm.fp !== 1 || cm.fn !== 1 || cm.tn !== 1) throw new Error(JSON.stringify(cm));
 * ```
 */
import { rowCount, sampleRows } from "../../models/core/table.ts";
import { accuracy, f1 } from "../../models/metrics.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import { loadModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { writeParquet } from "../data/parquet.ts";
import { championReference, referenceAtPrior, scoreTable } from "./champion.ts";
import { championOrSkip } from "./current_champion.ts";
import { judgeFeedback } from "./feedback_judgement.ts";
import { type FeedbackParams, feedbackStream } from "./feedback_params.ts";
import type { CollectedFeedback } from "./feedback_rows.ts";
import { MonitoringTable } from "./metrics_table.ts";
import { getTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";

const SCORE = "p_positive";

/** A confusion matrix: true/false positives and negatives. */
export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

/** The confusion matrix of 0/1 labels `y` against scores thresholded at `threshold` (≥ is positive). */
export function confusionAt(y: Float64Array, score: Float64Array, threshold: number): Confusion {
  const cm = { tp: 0, fp: 0, fn: 0, tn: 0 };
  for (let i = 0; i < y.length; i++) {
    const hat = score[i] >= threshold ? 1 : 0;
    if (hat && y[i]) cm.tp++;
    else if (hat) cm.fp++;
    else if (y[i]) cm.fn++;
    else cm.tn++;
  }
  return cm;
}

/** What `evaluate` hands on. */
export interface FeedbackVerdict {
  rows: number;
  accuracy: number;
  f1: number;
  confusion: Confusion;
  version: number;
  /** Retrain: below the threshold, below the previous evaluation by more than maxDrop, or a concept signal. */
  degraded: boolean;
  belowThreshold: boolean;
  belowPrevious: boolean;
  concept: boolean;
  conceptReasons: string[];
  monitoringRow: number;
  /** The rows as a training batch (Parquet file). */
  batch: string;
}

/** Evaluates the champion on the collected rows; see the module's doc. */
export async function evaluateFeedback(
  ctx: TaskEnv<FeedbackParams>,
  c: CollectedFeedback,
): Promise<FeedbackVerdict> {
  const p = ctx.params;
  if (c.rows === null) throw new Error("evaluate: fewer than minRows new feedback rows to judge");
  const rows = await getTable(ctx, c.rows);
  const registry = await ModelRegistry.open(ctx.db);
  // no champion yet (a fresh home): the task skips, saying what to run first
  const current = await championOrSkip(registry, p.model);
  const { model, onnx, version } = await loadModel(`${p.model}@${current.version}`, {
    registry,
    artifacts: ctx.artifacts,
  });
  const out = await runOnnx(onnx, rows, model.spec);
  const k = model.spec.target.classes!.indexOf(p.positiveLabel);
  const n = rowCount(rows);
  const score = Float64Array.from({ length: n }, (_, i) => out.probabilities![i * out.width + k]);
  const y = Float64Array.from(
    { length: n },
    (_, i) => (String(rows[p.target][i]) === p.positiveLabel ? 1 : 0),
  );
  const cm = confusionAt(y, score, 0.5);
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
    stream: feedbackStream(p),
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
}
