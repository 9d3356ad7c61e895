/**
 * `drift_monitoring`'s `detect_drift`: one batch judged against the champion's honest reference —
 * data, data-quality, prediction and (with labels) performance drift under the policy, performance
 * without labels (CBPE) and the sequential detectors resumed from the previous batch, the labels of
 * an earlier batch when they land — stored as a JSON and an HTML report and a monitoring-table row.
 *
 * @example
 * ```ts
 * import { columnSummaries } from "./batch_drift.ts";
 * const summary = columnSummaries([
 *   { column: "distance", test: "ks", statistic: 0.2, pValue: 0.001, adjustedPValue: 0.004, drifted: true },
 * ]);
 * if (summary.distance.pValue !== 0.004) throw new Error("the adjusted p-value is the one recorded");
 * ```
 */
import { sampleRows, type Table } from "../../models/core/table.ts";
import { fitReferenceCbpe, monitorBatch, monitoringFields } from "../drift/batch_monitor.ts";
import type { CbpeModel } from "../drift/cbpe.ts";
import { renderDriftReportHtml } from "../drift/report_html.tsx";
import type { DriftReport } from "../drift/schema.ts";
import { aucHistory } from "./auc_history.ts";
import { type ChampionReference, referenceAtPrior } from "./champion.ts";
import { keyedChampionScorer } from "./champion_scorer.ts";
import { batchReport, driftedColumns, metricPairs } from "./judge.ts";
import { judgeLandedLabels, type LandedLabels, landedLabelsBatch } from "./landed_labels.ts";
import {
  previousSequentialState,
  referenceAuc,
  sequentialSummary,
  withEstimates,
} from "./late_labels.ts";
import { MonitoringTable } from "./metrics_table.ts";
import type { SimulatedBatch } from "./stream_batch_file.ts";
import type { StreamMonitorParams } from "./stream_params.ts";
import { batchPath } from "./stream_state.ts";
import { getTable, pick } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";

/** The column the champion's probability of the positive label is written to. */
export const SCORE = "p_late";

/** What `detect_drift` hands on: the reports' keys, the batch's row and the detectors' news. */
export interface BatchDrift {
  /** The JSON drift report's artifact key. */
  report: string;
  /** The HTML report's artifact key. */
  html: string;
  /** The batch's monitoring row. */
  row: number;
  rocAuc: number | null;
  /** The sequential detectors that fired. */
  alarms: string[];
  /** The detectors' false-alarm statement. */
  falseAlarmRate: string;
  /** The earlier batch whose labels landed with this one, if any. */
  late: LandedLabels | null;
}

/** Each column's test, statistic, p-value (the adjusted one where there is one) and verdict. */
export function columnSummaries(
  columns: readonly Pick<
    DriftReport["columns"][number],
    "column" | "test" | "statistic" | "pValue" | "adjustedPValue" | "drifted"
  >[],
) {
  return Object.fromEntries(
    columns.map((c) => [c.column, {
      test: c.test,
      statistic: c.statistic,
      pValue: c.adjustedPValue ?? c.pValue,
      drifted: c.drifted,
    }]),
  );
}

/**
 * The last batch's scored reference and CBPE fit, with what they were made from: the next batch of
 * the same champion (the usual case: a champion is judged batch after batch) reuses them instead of
 * reading, sampling and scoring the reference and fitting CBPE again — the same objects the same
 * inputs would make (both are read, never changed). One entry: another champion replaces it.
 */
let lastReference: { key: string; reference: Table; cbpe: CbpeModel } | null = null;

/**
 * Judges `batch` against `champion`'s reference (sampled, at the prior the version records, scored
 * by the version) and records it; see the module's doc. A champion without an out-of-time holdout
 * is monitored without the label-based tests (its training rows would make every batch look like
 * concept or prior drift), and the log says why.
 */
export async function detectBatchDrift(
  ctx: TaskEnv<StreamMonitorParams>,
  batch: SimulatedBatch,
  champion: ChampionReference,
): Promise<BatchDrift> {
  const p = ctx.params;
  if (batch.done) throw new Error("unreachable: no batch");
  const { score, digest } = await keyedChampionScorer(ctx, {
    model: p.model,
    version: champion.version,
    positiveLabel: p.positiveLabel,
    column: SCORE,
  });
  const columns = [...p.features, p.target];
  const monitorOptions = {
    target: p.target,
    prediction: SCORE,
    positiveLabel: p.positiveLabel,
    columns: p.features,
    alpha: p.policy.alpha,
    arl0: p.sequential.arl0,
    detector: p.sequential.detector,
    seed: p.seed,
  };
  // the reference and its CBPE fit depend on nothing else: a content-addressed reference (an
  // artifact key) with the same graph and settings as the last batch's is that batch's again
  const key = digest !== null && champion.reference.startsWith("sha256:")
    ? JSON.stringify([
      digest,
      champion.reference,
      champion.positiveShare,
      columns,
      p.referenceRows,
      p.seed,
      monitorOptions,
    ])
    : null;
  const again = key !== null && lastReference?.key === key ? lastReference : null;
  if (again) {
    ctx.log(
      `reference: v${champion.version}'s scored sample and CBPE fit kept from the last batch`,
    );
  }
  const reference = again?.reference ?? await score(referenceAtPrior(
    sampleRows(
      pick(await getTable(ctx, champion.reference), columns, "reference"),
      p.referenceRows,
      p.seed,
    ),
    p.target,
    p.positiveLabel,
    champion.positiveShare,
    p.seed,
  ));
  // with labelsDelay the batch is judged on what it has: no target column until it lands
  const labelsNow = p.labelsDelay === 0;
  const current = await score(
    pick(await getTable(ctx, batch.path), labelsNow ? columns : p.features, batch.path),
  );
  const policy = { ...p.policy, columns: { ...p.policy.columns, ...p.columns } };
  const judgeAgainst = (t: Table, target: string | undefined) =>
    batchReport({
      reference,
      current: t,
      features: p.features,
      target,
      prediction: SCORE,
      positiveLabel: p.positiveLabel,
      seed: p.seed,
      policy,
    });
  const honestReference = champion.kind === "holdout";
  if (!honestReference) {
    ctx.log(
      `v${champion.version} records no out-of-time holdout (only its training rows): the ROC AUC and label-share tests are skipped; retrain it with \`deno task run training\` to monitor its performance`,
    );
  }
  const report = judgeAgainst(current, labelsNow && honestReference ? p.target : undefined);
  const title = `${p.streamName} batch ${batch.index} (${
    batch.from?.slice(0, 10) ?? ""
  }) vs ${p.model} v${champion.version}`;
  const json = await ctx.putArtifact(JSON.stringify(report));
  const drifted = driftedColumns(report);

  // performance without labels (CBPE on the champion's scored reference) and the sequential
  // detectors, resumed from the state stored with the previous batch of this champion
  const table = await MonitoringTable.open(ctx.db);
  const before = await table.list(p.streamName);
  const cbpe = again?.cbpe ?? fitReferenceCbpe(reference, monitorOptions);
  lastReference = key === null ? null : { key, reference, cbpe };
  const monitored = monitorBatch(
    reference,
    current,
    monitorOptions,
    previousSequentialState(before, batch.index, champion.version),
    cbpe,
  );
  let state = monitored.sequential.state;
  const metrics = withEstimates(
    metricPairs(report),
    monitoringFields(monitored),
    referenceAuc(reference, p.target, p.positiveLabel, SCORE),
  );

  // the labels of batch t = index − labelsDelay land now: realized metrics on its row, the
  // estimated-vs-realized test and the departure detector, its labelled report to grade
  const landed = landedLabelsBatch(before, batch.index, p.labelsDelay, (t) => batchPath(p, t));
  let late: LandedLabels | null = null;
  if (landed) {
    const judged = await judgeLandedLabels(ctx, {
      landed,
      reference,
      columns,
      score,
      judge: (labelled) => judgeAgainst(labelled, p.target),
      options: monitorOptions,
      state,
      cbpe,
      table,
    });
    late = judged.late;
    state = judged.state;
  }
  const summary = sequentialSummary(
    state,
    monitored.sequential.alarms,
    monitored.sequential.falseAlarmRate,
  );
  // the report charts the stream's estimated vs realized ROC AUC so far (late labels included)
  const auc = metrics.roc_auc;
  const history = aucHistory(await table.list(p.streamName), {
    batch: batch.index,
    estimated: auc?.estimated ?? null,
    ciLow: auc?.estimatedInterval?.[0] ?? null,
    ciHigh: auc?.estimatedInterval?.[1] ?? null,
    realized: auc?.realized ?? null,
    alarms: summary.alarms,
  });
  const html = await ctx.putArtifact(renderDriftReportHtml(report, { title, history }));
  const row = await table.insert({
    dagId: ctx.dagId,
    runId: ctx.runId,
    stream: p.streamName,
    batch: batch.index,
    rows: batch.rows,
    driftedShare: report.driftedShare,
    datasetDrift: report.datasetDrift,
    model: p.model,
    championVersion: champion.version,
    rocAuc: metrics.roc_auc?.realized ?? null,
    reportHtml: html,
    reportJson: json,
    metrics,
    details: {
      truth: batch.truth,
      drifted,
      from: batch.from,
      to: batch.to,
      path: batch.path,
      labelsDelay: p.labelsDelay,
      sequential: summary,
      sequentialState: state,
      columns: columnSummaries(report.columns),
    },
  });
  ctx.log(
    `significant: ${drifted.join(", ") || "nothing"}; ROC AUC estimated ${
      auc?.estimated?.toFixed(4)
    } [${auc?.estimatedInterval?.map((v) => v.toFixed(4)).join(", ")}], realized ${
      auc?.realized?.toFixed(4) ?? "(labels later)"
    } (reference ${auc?.reference?.toFixed(4)}); sequential alarms: ${
      summary.alarms.join(", ") || "none"
    }`,
  );
  return {
    report: json,
    html,
    row,
    rocAuc: auc?.realized ?? null,
    alarms: summary.alarms,
    falseAlarmRate: summary.falseAlarmRate,
    late,
  };
}
