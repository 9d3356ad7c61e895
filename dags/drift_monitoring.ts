/**
 * `drift_monitoring`: one batch of the stream per run (scheduled hourly, or one-off).
 *
 * get_iteration_state → simulate_batch (the next `batchSize` rows of the stream, drift events from
 * conf injected and recorded) → has_data? no: end_pipeline; yes: get_champion (and its honest
 * reference: the out-of-time holdout `training` recorded) → detect_drift (data, data quality,
 * prediction and performance drift of the champion under the policy; HTML + JSON report; a row in
 * the monitoring table) → evaluate_severity (the grade with its reasons, given the earlier verdicts
 * of the same champion) → route by the grade's action: log → log_only; warn → warn; retrain →
 * alert → retrain (triggers `training` with the batches seen so far and waits) → record_outcome;
 * recalibrate → recalibrate (the champion's log-odds shifted to the batch's prior, gated on it).
 *
 * Default actions: none/minor → log, moderate → warn, major → retrain, prior → recalibrate,
 * concept → retrain. The business logic lives in tasks/monitoring/ (batches, champion, judge).
 *
 * Conf: `{ "events": [{ "atBatch": 6, "drift": { "kind": "mean_shift", "column": "distance", "k": 1.5 } }],
 * "policy": { "alpha": 0.05, "severity": { "persistence": 2 } }, "actions": { "moderate": "log" } }`.
 */
import { dag, type SqlClient, z } from "driftflow";
import { loadModel } from "../models/package.ts";
import { recalibrateChampion } from "../models/recalibrate.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import { Alerter } from "../tasks/alert/alerter.ts";
import { AlertConfig } from "../tasks/alert/types.ts";
import { dataDir, dataPaths } from "../tasks/data/prepare.ts";
import { writeParquet } from "../tasks/data/parquet.ts";
import { sampleRows } from "../models/core/table.ts";
import { ColumnOptions } from "../tasks/drift/detect.ts";
import { DriftEvent } from "../tasks/drift/inject.ts";
import { renderDriftReportHtml } from "../tasks/drift/report_html.tsx";
import { type Action, DriftReport } from "../tasks/drift/schema.ts";
import {
  fitReferenceCbpe,
  judgeLateLabels,
  monitorBatch,
  monitoringFields,
} from "../tasks/drift/batch_monitor.ts";
import { streamBatch } from "../tasks/monitoring/batches.ts";
import { championReference, referenceAtPrior, scoreTable } from "../tasks/monitoring/champion.ts";
import { FLIGHT_FEATURES, FLIGHT_MODEL, FLIGHT_TARGET } from "../tasks/monitoring/flights.ts";
import {
  actionFor,
  ActionOverrides,
  batchReport,
  driftedColumns,
  gradeReport,
  historyFrom,
  JudgePolicy,
  metricPairs,
} from "../tasks/monitoring/judge.ts";
import {
  departureReasons,
  labelledBatchIndex,
  labelledHistoryFrom,
  type MonitoredMetricPair,
  previousSequentialState,
  referenceAuc,
  rowOfBatch,
  sequentialSummary,
  strongerAction,
  verdictsOf,
  withEstimates,
  withRealized,
  withSequentialAlarms,
} from "../tasks/monitoring/late_labels.ts";
import { MonitoringTable } from "../tasks/monitoring/metrics_table.ts";
import { aucHistory } from "../tasks/monitoring/auc_history.ts";
import { getTable, pick, putTable } from "../tasks/monitoring/tables.ts";

const SCORE = "p_late";

const params = z.object({
  stream: z.string().default(dataPaths().flightsStream),
  streamName: z.string().default("flights"),
  batchSize: z.number().int().positive().default(5000),
  /** Rows between batch starts (default batchSize: contiguous batches). */
  stride: z.number().int().positive().optional(),
  /**
   * Rows a batch is drawn from (default batchSize: the batch is the whole window). A window of a
   * week of traffic sampled down to batchSize avoids flagging the hour and weekday of a short slice.
   */
  window: z.number().int().positive().optional(),
  /** Where batches are written. */
  batchDir: z.string().default(`${dataDir()}/batches`),
  features: z.array(z.string()).default(FLIGHT_FEATURES),
  target: z.string().default(FLIGHT_TARGET),
  positiveLabel: z.string().default("yes"),
  model: z.string().default(FLIGHT_MODEL),
  referenceRows: z.number().int().positive().default(20_000),
  /** Per-column drift settings (test, threshold, skip); shorthand for policy.columns. */
  columns: z.record(z.string(), ColumnOptions).default({}),
  events: z.array(DriftEvent).default([]),
  /** Start again from batch 0 instead of after the previous run's batch. */
  restart: z.boolean().default(false),
  seed: z.number().int().default(0),
  /** The judgement policy: preset (default | evidently), α, correction, severity policy. */
  policy: JudgePolicy.prefault({}),
  actions: ActionOverrides.default({}),
  alerts: AlertConfig.default(AlertConfig.parse({ channels: [{ type: "log" }] })),
  /**
   * Batches until a batch's labels arrive (0: with the batch). Batch t is judged first without
   * its labels (covariates, scores, CBPE's estimated performance; no concept or prior grade), and
   * again when batch t + labelsDelay runs: realized metrics, estimated vs realized, the labelled
   * grade — a second verdict that can retrain or recalibrate through the same routes.
   */
  labelsDelay: z.number().int().nonnegative().default(0),
  /** The sequential detectors: family ARL0 (batches between false alarms) and the detector. */
  sequential: z.object({
    arl0: z.number().min(2).default(200),
    detector: z.enum(["cusum", "page_hinkley"]).default("cusum"),
  }).prefault({}),
  /** Conf passed on to `training` when it is triggered (window, trials…). */
  training: z.record(z.string(), z.unknown()).default({}),
});

type State = { index: number; batches: string[] };

/** Where batch `index` of a stream is written. */
function batchPath(p: { batchDir: string; streamName: string }, index: number): string {
  return `${p.batchDir}/${p.streamName}-batch-${String(index).padStart(4, "0")}.parquet`;
}

/** Sends the batch's drift alert at `level`. */
async function driftAlert(
  ctx: {
    db: SqlClient;
    dagId: string;
    runId: number;
    params: z.infer<typeof params>;
    xcom(id: "evaluate_severity"): { severity: string; reasons: string[] };
    xcom(id: "get_iteration_state"): State;
    xcom(id: "detect_drift"): { html: string };
  },
  level: "WARNING" | "CRITICAL",
  suffix: string,
) {
  const s = ctx.xcom("evaluate_severity");
  const alerter = await Alerter.open(ctx.db, ctx.params.alerts);
  return await alerter.send({
    level,
    key: `drift:${ctx.params.streamName}`,
    title: `${ctx.params.streamName}: ${s.severity} drift${suffix}`,
    message: s.reasons.join("\n"),
    dagId: ctx.dagId,
    runId: ctx.runId,
    details: { batch: ctx.xcom("get_iteration_state").index, html: ctx.xcom("detect_drift").html },
  });
}

export default dag({
  id: "drift_monitoring",
  description: "One stream batch per run: drift, severity, alert, retrain",
  schedule: "@hourly",
  startDate: "2026-01-01",
  catchup: false,
  maxActiveRuns: 1,
  params,
  defaults: { retries: 1, retryDelay: "5s", timeout: "30m" },
})
  .task("get_iteration_state", {
    run: async (ctx): Promise<State> => {
      const prior = ctx.params.restart ? undefined : await ctx.priorXcom<State>("save_state");
      const state = prior
        ? { index: prior.index + 1, batches: prior.batches }
        : { index: 0, batches: [] };
      ctx.log(`batch ${state.index}`);
      return state;
    },
  })
  .task("simulate_batch", {
    deps: ["get_iteration_state"],
    run: async (ctx) => {
      const p = ctx.params;
      const { index } = ctx.xcom("get_iteration_state");
      const b = await streamBatch({ ...p, index });
      if (!b) return { done: true as const, index, rows: 0 };
      await Deno.mkdir(p.batchDir, { recursive: true });
      const path = batchPath(p, index);
      await writeParquet(path, b.table);
      ctx.log(
        `rows ${b.start}..${b.end} → ${path}; injected: ${
          b.truth.events.map((e) => e.kind).join(", ") || "nothing"
        }`,
      );
      return {
        done: false as const,
        index,
        rows: b.rows,
        path,
        truth: b.truth,
        from: b.from,
        to: b.to,
      };
    },
  })
  .branch("has_data", {
    deps: ["simulate_batch"],
    run: (ctx) => (ctx.xcom("simulate_batch").done ? "end_pipeline" : "get_champion"),
  })
  .task("end_pipeline", {
    deps: ["has_data"],
    run: (ctx) => ctx.log("the stream has no more rows"),
  })
  .task("get_champion", {
    deps: ["has_data"],
    run: async (ctx) => {
      const c = await championReference(await ModelRegistry.open(ctx.db), ctx.params.model);
      ctx.log(`champion v${c.version}; reference: its ${c.kind} data ${c.reference}`);
      return c;
    },
  })
  .task("detect_drift", {
    deps: ["get_champion"],
    run: async (ctx) => {
      const p = ctx.params;
      const batch = ctx.xcom("simulate_batch");
      if (batch.done) throw new Error("unreachable: no batch");
      const champion = ctx.xcom("get_champion");
      const { model, onnx } = await loadModel(`${p.model}@${champion.version}`, {
        registry: await ModelRegistry.open(ctx.db),
        artifacts: ctx.artifacts,
      });
      const columns = [...p.features, p.target];
      const score = (t: Parameters<typeof scoreTable>[2]) =>
        scoreTable(onnx, model, t, p.positiveLabel, SCORE);
      const reference = await score(referenceAtPrior(
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
      const judgeAgainst = (t: typeof current, target: string | undefined) =>
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
      // A champion registered without an out-of-time holdout is monitored against its own training
      // rows: their in-sample AUC and label share would make every batch look like concept or prior
      // drift, so the label-based tests are left out and the log says why.
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
      const cbpe = fitReferenceCbpe(reference, monitorOptions);
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
      const t = labelledBatchIndex(batch.index, p.labelsDelay);
      const lateRow = t === null ? undefined : rowOfBatch(before, t);
      let late = null;
      if (t !== null && lateRow) {
        const path = typeof lateRow.details.path === "string"
          ? lateRow.details.path
          : batchPath(p, t);
        const labelled = await score(pick(await getTable(ctx, path), columns, path));
        const lateReport = judgeAgainst(labelled, p.target);
        const j = judgeLateLabels(reference, labelled, monitorOptions, state, cbpe);
        state = j.state;
        await table.update(lateRow.id, {
          rocAuc: j.realized?.roc_auc ?? null,
          metrics: withRealized(
            lateRow.metrics as Record<string, MonitoredMetricPair>,
            j.realized,
            j.comparison,
          ),
        });
        late = {
          batch: t,
          row: lateRow.id,
          path,
          report: await ctx.putArtifact(JSON.stringify(lateReport)),
          realized: j.realized?.roc_auc ?? null,
          reasons: departureReasons(j.comparison),
          alarms: j.signal?.alarm ? [j.signal.detector] : [],
        };
        ctx.log(
          `labels of batch ${t} landed: ROC AUC realized ${
            j.realized?.roc_auc.toFixed(4) ?? "–"
          } (estimated ${j.comparison?.roc_auc.estimated.toFixed(4) ?? "–"})`,
        );
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
          columns: Object.fromEntries(
            report.columns.map((c) => [c.column, {
              test: c.test,
              statistic: c.statistic,
              pValue: c.adjustedPValue ?? c.pValue,
              drifted: c.drifted,
            }]),
          ),
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
    },
  })
  .task("evaluate_severity", {
    deps: ["detect_drift"],
    run: async (ctx) => {
      const p = ctx.params;
      const d = ctx.xcom("detect_drift");
      const batch = ctx.xcom("simulate_batch");
      const version = ctx.xcom("get_champion").version;
      const readReport = async (key: string) =>
        DriftReport.parse(JSON.parse(new TextDecoder().decode(await ctx.getArtifact(key))));
      const table = await MonitoringTable.open(ctx.db);
      const rows = await table.list(p.streamName);
      const index = ctx.xcom("get_iteration_state").index;
      const j = gradeReport(
        await readReport(d.report),
        p.policy,
        historyFrom(rows, version, index),
      );
      const first = withSequentialAlarms(j.severity, j.reasons, d.alarms, d.falseAlarmRate);
      const action = actionFor(first.severity, p.actions);
      const at = new Date().toISOString();
      const row = rows.find((r) => r.id === d.row);
      await table.update(d.row, {
        severity: first.severity,
        action,
        reasons: first.reasons,
        details: {
          ...row?.details,
          verdict: j.verdict,
          verdicts: [{
            at,
            kind: "batch",
            severity: first.severity,
            action,
            reasons: first.reasons,
          }],
        },
      });
      // the run acts on the stronger of this batch's verdict and the late-labelled one's
      let outcome = {
        severity: first.severity as string,
        reasons: first.reasons,
        errorRate: j.verdict.errorRate,
        action: action as Action,
        // the batch whose row records the outcome, and its labelled data (recalibration)
        actedOn: {
          batch: index,
          row: d.row,
          path: batch.done || p.labelsDelay ? null : batch.path,
        },
      };
      if (d.late) {
        const lj = gradeReport(
          await readReport(d.late.report),
          p.policy,
          labelledHistoryFrom(rows, version, d.late.batch),
        );
        const second = withSequentialAlarms(
          lj.severity,
          [...lj.reasons, ...d.late.reasons],
          d.late.alarms,
          d.falseAlarmRate,
        );
        const lateAction = actionFor(second.severity, p.actions);
        const lateRow = rows.find((r) => r.id === d.late!.row);
        await table.update(d.late.row, {
          details: {
            ...lateRow?.details,
            labelledVerdict: lj.verdict,
            verdicts: [...(lateRow ? verdictsOf(lateRow) : []), {
              at,
              kind: "labels",
              severity: second.severity,
              action: lateAction,
              reasons: second.reasons,
            }],
          },
        });
        const lateReasons = second.reasons.map((r) =>
          `batch ${d.late!.batch} (labels landed): ${r}`
        );
        for (const r of lateReasons) ctx.log(r);
        const stronger = strongerAction(action, lateAction) !== action;
        outcome = {
          severity: stronger ? second.severity : first.severity,
          reasons: stronger
            ? [...lateReasons, ...first.reasons]
            : [...first.reasons, ...lateReasons],
          errorRate: stronger ? lj.verdict.errorRate : j.verdict.errorRate,
          action: strongerAction(action, lateAction),
          actedOn: stronger
            ? { batch: d.late.batch, row: d.late.row, path: d.late.path }
            : outcome.actedOn,
        };
      }
      for (const r of first.reasons) ctx.log(r);
      ctx.log(`${outcome.severity} → ${outcome.action} (${outcome.errorRate ?? ""})`);
      return outcome;
    },
  })
  .branch("route", {
    deps: ["evaluate_severity"],
    run: (ctx) =>
      ({ log: "log_only", warn: "warn", retrain: "alert", recalibrate: "recalibrate" } as const)[
        ctx.xcom("evaluate_severity").action
      ],
  })
  .task("log_only", {
    deps: ["route"],
    run: (ctx) => ctx.log(`severity ${ctx.xcom("evaluate_severity").severity}: nothing to do`),
  })
  .task("warn", { deps: ["route"], run: (ctx) => driftAlert(ctx, "WARNING", "") })
  .task("alert", { deps: ["route"], run: (ctx) => driftAlert(ctx, "CRITICAL", " — retraining") })
  .triggerDag("retrain", {
    deps: ["alert"],
    dagId: "training",
    wait: true,
    conf: (ctx) => {
      const batch = ctx.xcom("simulate_batch");
      // only the batches whose labels have landed (all of them when labelsDelay is 0)
      const all = [...ctx.xcom("get_iteration_state").batches, ...(batch.done ? [] : [batch.path])];
      const seen = all.slice(0, Math.max(0, all.length - ctx.params.labelsDelay));
      return { ...ctx.params.training, batches: seen, model: ctx.params.model };
    },
  })
  .task("record_outcome", {
    deps: ["retrain"],
    run: async (ctx) => {
      const before = ctx.xcom("get_champion").version;
      const after =
        (await (await ModelRegistry.open(ctx.db)).resolve(`${ctx.params.model}@champion`)).version;
      const changed = after !== before;
      await (await MonitoringTable.open(ctx.db)).update(ctx.xcom("evaluate_severity").actedOn.row, {
        retrained: true,
        promoted: changed,
      });
      ctx.log(changed ? `champion changed: v${before} → v${after}` : `champion kept: v${before}`);
      return { before, after, changed, training: ctx.xcom("retrain") };
    },
  })
  .task("recalibrate", {
    deps: ["route"],
    run: async (ctx) => {
      const p = ctx.params;
      const acted = ctx.xcom("evaluate_severity").actedOn;
      if (acted.path === null) {
        throw new Error(
          `recalibrate: batch ${acted.batch} has no labels yet (labelsDelay ${p.labelsDelay}); ` +
            "only a verdict given with labels can recalibrate",
        );
      }
      const labelledBatch = pick(
        await getTable(ctx, acted.path),
        [...p.features, p.target],
        acted.path,
      );
      const r = await recalibrateChampion({
        registry: await ModelRegistry.open(ctx.db),
        artifacts: ctx.artifacts,
        model: p.model,
        newPrior: "labels",
        labelledBatch,
        labelledBatchKey: await putTable(ctx, labelledBatch),
        reason: `${p.streamName} batch ${acted.batch}: ${ctx.xcom("evaluate_severity").reasons[0]}`,
        runId: ctx.runId,
      });
      await (await MonitoringTable.open(ctx.db)).update(acted.row, {
        promoted: r.promoted,
      });
      ctx.log(r.verdict.reason);
      return { version: r.version, promoted: r.promoted, shift: r.shift, prior: r.prior };
    },
  })
  .task("save_state", {
    deps: ["log_only", "warn", "record_outcome", "recalibrate", "end_pipeline"],
    triggerRule: "none_failed_min_one_success",
    run: (ctx): State => {
      const s = ctx.xcom("get_iteration_state");
      const batch = ctx.xcom("simulate_batch");
      return { index: s.index, batches: batch.done ? s.batches : [...s.batches, batch.path] };
    },
  });
