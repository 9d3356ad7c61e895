/**
 * `feedback_loop`'s labelled feedback through the late-labels judgement of `drift_monitoring`:
 * the feedback rows are served predictions whose labels landed, so each evaluation is a batch
 * judged when its labels arrive — CBPE's estimate (with its interval) from the champion's scores,
 * the realized metrics, the estimated-vs-realized test (a concept signal: CBPE holds under
 * covariate shift only) and the `roc_auc_departure` Page–Hinkley detector, resumed from the
 * stream's stored state. It is recorded as a row of the monitoring table under the stream
 * `served:<model>` (or `feedback:<model>` for a file), so `deno task monitoring served:<model>
 * --json` shows it, with a `labels` verdict that says whether to retrain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { judgeFeedback } from "./feedback_judgement.ts";
 * import { MonitoringTable } from "./metrics_table.ts";
 * // a calibrated champion: each served row is late with the probability it said
 * const rng = new Random(1);
 * const scored = (n: number) => {
 *   const p_late = Float64Array.from({ length: n }, () => rng.next());
 *   return { p_late, late: Array.from(p_late, (p) => (rng.next() < p ? "yes" : "no")) };
 * };
 * const db = await openPglite(); // in memory; a task passes ctx.db
 * try {
 *   const j = await judgeFeedback(await MonitoringTable.open(db), {
 *     stream: "served:flights_delay",
 *     dagId: "feedback_loop",
 *     runId: 1,
 *     championVersion: 3,
 *     reference: scored(1000), // the champion's scored reference
 *     labelled: scored(300), // served predictions whose labels landed
 *     options: { target: "late", prediction: "p_late", positiveLabel: "yes" },
 *   });
 *   assert.equal(j.batch, 0); // the stream's first evaluation
 *   assert.equal(j.retrain, false, j.reasons.join("; ")); // estimate and realized agree
 *   assert.ok(j.metrics.roc_auc.realized! > 0.75);
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import {
  type BatchMonitorOptions,
  fitReferenceCbpe,
  judgeLateLabels,
  SequentialState,
} from "../drift/batch_monitor.ts";
import { estimatePerformance } from "../drift/cbpe.ts";
import { falseAlarmStatement } from "../drift/sequential.ts";
import { rowCount, type Table } from "../../models/core/table.ts";
import { latestPass } from "./document.ts";
import {
  departureReasons,
  type MonitoredMetricPair,
  previousSequentialState,
  referenceAuc,
  sequentialSummary,
  type Verdict,
} from "./late_labels.ts";
import type { MonitoringTable } from "./metrics_table.ts";

/** What one evaluation of feedback is judged on. */
export interface FeedbackInput {
  /** The monitoring stream: `served:<model>` for served predictions. */
  stream: string;
  dagId: string;
  runId: number;
  model?: string;
  championVersion: number;
  /** The champion's scored reference (target and score columns). */
  reference: Table;
  /** The new feedback rows, scored by the champion, with their labels. */
  labelled: Table;
  /** `target`, `prediction` (the score column), `positiveLabel`, `alpha`, `arl0`, `seed`. */
  options: BatchMonitorOptions;
}

/** The judgement: the row written, the metrics and the labelled verdict. */
export interface FeedbackJudgement {
  row: number;
  batch: number;
  metrics: Record<string, MonitoredMetricPair>;
  /** The estimated-vs-realized test parted on ROC AUC (null: not computable). */
  departed: boolean | null;
  /** The departure detector alarmed (evidence accumulated over evaluations). */
  alarm: boolean;
  /** A concept signal: retrain through the DAG's route. */
  retrain: boolean;
  reasons: string[];
}

/** Judges the labelled feedback as a late-labelled batch and records it in `table`. */
export async function judgeFeedback(
  table: Pick<MonitoringTable, "list" | "insert">,
  input: FeedbackInput,
): Promise<FeedbackJudgement> {
  const { options, reference, labelled } = input;
  const alpha = options.alpha ?? 0.05;
  const rows = latestPass(await table.list(input.stream));
  const batch = rows.length ? rows.at(-1)!.batch + 1 : 0;
  const previous = previousSequentialState(rows, batch, input.championVersion);
  const cbpe = fitReferenceCbpe(reference, { ...options, columns: [] });
  const j = judgeLateLabels(
    reference,
    labelled,
    { ...options, columns: [] },
    previous ?? { version: 1, batches: 0, arl0: options.arl0 ?? 200, detectors: {} },
    cbpe,
  );
  const scores = labelled[options.prediction];
  const estimate = scores && rowCount(labelled) >= 2
    ? estimatePerformance(cbpe, scores as ArrayLike<number>, {
      alpha,
      threshold: options.threshold ?? 0.5,
      seed: options.seed ?? 0,
    })
    : null;
  const refAuc = referenceAuc(
    reference,
    options.target,
    options.positiveLabel ?? "yes",
    options.prediction,
  );
  const metrics: Record<string, MonitoredMetricPair> = {};
  for (const name of ["roc_auc", "accuracy", "f1"] as const) {
    const e = estimate?.metrics[name];
    metrics[name] = {
      reference: name === "roc_auc" ? refAuc : null,
      realized: j.realized?.[name] ?? null,
      ...(e ? { estimated: e.estimated, estimatedInterval: [e.ciLow, e.ciHigh] } : {}),
      departed: j.comparison ? j.comparison[name].departed : null,
    };
  }
  const departed = j.comparison ? j.comparison.roc_auc.departed : null;
  const alarm = j.signal?.alarm ?? false;
  const alarms = alarm ? [j.signal!.detector] : [];
  const summary = sequentialSummary(j.state, alarms, falseAlarmText(j.state));
  const retrain = departed === true || alarm;
  const reasons = [
    ...departureReasons(j.comparison),
    ...(departed ? [`the per-evaluation test errs at α = ${alpha} on a calibrated champion`] : []),
    ...(alarm
      ? [
        `sequential alarm (${
          j.signal!.detector
        }): estimate and realized kept parting (${summary.falseAlarmRate})`,
      ]
      : []),
  ];
  if (reasons.length === 0) reasons.push("no labels of both classes: nothing to compare");
  const verdict: Verdict = {
    at: new Date().toISOString(),
    kind: "labels",
    severity: retrain ? "concept" : "none",
    action: retrain ? "retrain" : "log",
    reasons,
  };
  const row = await table.insert({
    dagId: input.dagId,
    runId: input.runId,
    stream: input.stream,
    batch,
    rows: rowCount(labelled),
    model: input.model,
    championVersion: input.championVersion,
    rocAuc: j.realized?.roc_auc ?? null,
    severity: verdict.severity,
    action: verdict.action,
    reasons,
    metrics,
    details: {
      source: "feedback",
      labelledRows: j.labelledRows,
      sequential: summary,
      sequentialState: j.state,
      verdicts: [verdict],
    },
  });
  return { row, batch, metrics, departed, alarm, retrain, reasons };
}

/** The departure detector's false-alarm statement (its own ARL0, from the stored state). */
function falseAlarmText(state: SequentialState): string {
  const d = state.detectors.roc_auc_departure;
  return d
    ? `${falseAlarmStatement(d)} (estimated − realized ROC AUC, per evaluation)`
    : "departure detector not started (no labels of both classes yet)";
}
