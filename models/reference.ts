/**
 * The monitoring reference of a model version: what drift monitoring compares a batch with and
 * what the champion/challenger gate scored on — the out-of-time holdout's identity (artifact key,
 * rows, content hash, time range), its positive-label share, the share the model's probabilities
 * are calibrated to (the training rows'), and the model's ROC AUC there with its DeLong standard
 * error, plus log loss and Brier score. Training stores it in the version's `params.reference`; {@link readReference}
 * reads it back, checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainModel } from "./model.ts";
 * import { measureReference, readReference } from "./reference.ts";
 * const day = 86_400_000;
 * const x = Float64Array.from({ length: 200 }, (_, i) => i % 10);
 * const rows = (from: number, to: number) => ({
 *   date: Float64Array.from({ length: to - from }, (_, i) => (from + i) * day),
 *   x: x.slice(from, to),
 *   late: Array.from(x.slice(from, to), (v) => (v >= 5 ? "yes" : "no")),
 * });
 * const { model } = trainModel(rows(0, 150), { target: "late", params: { nEstimators: 5 } });
 * const holdout = rows(150, 200);
 * const info = { data: "holdout.parquet", timeColumn: "date" };
 * const ref = await measureReference(model, holdout, info);
 * assert.equal(ref.positiveLabel, "yes");
 * assert.equal(ref.positiveShare, 0.5);
 * assert.equal(ref.from, new Date(150 * day).toISOString());
 * // training stores it in the version's params; readReference checks it on the way back
 * const again = readReference({ params: { reference: JSON.parse(JSON.stringify(ref)) } });
 * assert.equal(again?.rocAuc.value, ref.rocAuc.value);
 * ```
 */
import { z } from "zod";
import { type Column, rowCount, type Table } from "./core/table.ts";
import { classIndex } from "./core/columns.ts";
import { aucWithSe, brier, logLoss } from "./metrics.ts";
import { predictModel, type TrainedModel } from "./model.ts";
import { fingerprintTable } from "./package.ts";

/** The monitoring reference stored with a version (`params.reference`). */
export const MonitoringReference = z.object({
  /** Artifact key of the holdout table (the same as `params.holdoutData`). */
  data: z.string(),
  rows: z.number().int().nonnegative(),
  sha256: z.string(),
  timeColumn: z.string().nullable(),
  /** ISO time range of the holdout (null without a time column). */
  from: z.string().nullable(),
  to: z.string().nullable(),
  positiveLabel: z.string(),
  /** The positive-label share of the holdout (what a batch's label share is compared with). */
  positiveShare: z.number().min(0).max(1),
  /**
   * The positive share the model's probabilities are calibrated to: its training rows' share (a
   * recalibrated version's new prior). Recalibration's π_ref. Out of time it can differ from the
   * holdout's share (the season moves), so it is kept apart.
   */
  calibratedShare: z.number().min(0).max(1),
  rocAuc: z.object({ value: z.number(), se: z.number(), ciLow: z.number(), ciHigh: z.number() }),
  logLoss: z.number(),
  brier: z.number(),
  /** Set on a recalibrated version: the version it was derived from. */
  recalibratedFrom: z.number().int().optional(),
});
export type MonitoringReference = z.infer<typeof MonitoringReference>;

/** The reference stored with a registered version, or null when it records none (older versions). */
export function readReference(version: { params: Record<string, unknown> }) {
  const raw = version.params.reference;
  if (raw === undefined || raw === null) return null;
  const parsed = MonitoringReference.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `the version's params.reference is not a monitoring reference: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

/** Earliest and latest value of a time column (epoch ms or ISO strings) as ISO strings. */
export function timeRange(
  table: Table,
  timeColumn: string | null,
): { from: string | null; to: string | null } {
  const col: Column | undefined = timeColumn === null ? undefined : table[timeColumn];
  if (col === undefined) return { from: null, to: null };
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    const t = typeof v === "number" ? v : v === null ? NaN : Date.parse(v);
    if (!Number.isFinite(t)) continue;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  if (!Number.isFinite(lo)) return { from: null, to: null };
  return { from: new Date(lo).toISOString(), to: new Date(hi).toISOString() };
}

/** The positive class of a binary model: "yes", "1", "true" or "positive" if present, else the last. */
export function positiveClass(classes: string[]): string {
  return classes.find((c) => /^(yes|1|true|positive)$/i.test(c)) ?? classes[classes.length - 1];
}

/** The share of `positive` among the labelled values of a target column. */
export function labelShare(col: Column, positive: string): number {
  let pos = 0, labelled = 0;
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (v === null || (typeof v === "number" && !Number.isFinite(v))) continue;
    labelled++;
    if (String(v) === positive) pos++;
  }
  return labelled ? pos / labelled : NaN;
}

/** Measures a binary classifier's monitoring reference on its (out-of-time) holdout. */
export async function measureReference(
  model: TrainedModel,
  holdout: Table,
  info: {
    data: string;
    timeColumn: string | null;
    /** The positive share of the training rows (default: the holdout's). */
    trainingShare?: number;
  },
): Promise<MonitoringReference> {
  const classes = model.spec.target.classes;
  if (model.spec.target.task !== "classification" || !classes || classes.length !== 2) {
    throw new Error("a monitoring reference is measured for binary classifiers");
  }
  const positiveLabel = positiveClass(classes);
  const k = classes.indexOf(positiveLabel);
  const yAll = classIndex(holdout[model.spec.target.names[0]], classes);
  const pAll = predictModel(model, holdout).probabilities![k];
  const y: number[] = [], p: number[] = [];
  for (let i = 0; i < yAll.length; i++) {
    if (yAll[i] < 0 || !Number.isFinite(yAll[i])) continue; // unlabelled rows
    y.push(yAll[i] === k ? 1 : 0);
    p.push(pAll[i]);
  }
  const positives = y.reduce((s, v) => s + v, 0);
  const { sha256 } = await fingerprintTable(holdout);
  return {
    data: info.data,
    rows: rowCount(holdout),
    sha256,
    timeColumn: info.timeColumn,
    ...timeRange(holdout, info.timeColumn),
    positiveLabel,
    positiveShare: y.length ? positives / y.length : NaN,
    calibratedShare: info.trainingShare ?? (y.length ? positives / y.length : NaN),
    rocAuc: aucWithSe(y, p),
    logLoss: logLoss(y, p),
    brier: brier(y, p),
  };
}

/** The reference's figures as flat registry metrics (`roc_auc_se`, `positive_share`, …). */
export function referenceMetrics(ref: MonitoringReference): Record<string, number> {
  return {
    roc_auc: ref.rocAuc.value,
    roc_auc_se: ref.rocAuc.se,
    roc_auc_ci_low: ref.rocAuc.ciLow,
    roc_auc_ci_high: ref.rocAuc.ciHigh,
    positive_share: ref.positiveShare,
    calibrated_share: ref.calibratedShare,
    log_loss: ref.logLoss,
    brier: ref.brier,
    rows: ref.rows,
  };
}
