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
import { sampleRows } from "../tasks/data/table.ts";
import { ColumnOptions } from "../tasks/drift/detect.ts";
import { DriftEvent } from "../tasks/drift/inject.ts";
import { renderDriftReportHtml } from "../tasks/drift/report_html.ts";
import { DriftReport } from "../tasks/drift/schema.ts";
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
import { MonitoringTable } from "../tasks/monitoring/metrics_table.ts";
import { getTable, pick } from "../tasks/monitoring/tables.ts";

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
  /** Conf passed on to `training` when it is triggered (window, trials…). */
  training: z.record(z.string(), z.unknown()).default({}),
});

type State = { index: number; batches: string[] };

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
      const path = `${p.batchDir}/${p.streamName}-batch-${String(index).padStart(4, "0")}.parquet`;
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
      const reference = referenceAtPrior(
        sampleRows(
          pick(await getTable(ctx, champion.reference), columns, "reference"),
          p.referenceRows,
          p.seed,
        ),
        p.target,
        p.positiveLabel,
        champion.positiveShare,
        p.seed,
      );
      const current = pick(await getTable(ctx, batch.path), columns, batch.path);
      const report = batchReport({
        reference: await score(reference),
        current: await score(current),
        features: p.features,
        target: p.target,
        prediction: SCORE,
        positiveLabel: p.positiveLabel,
        seed: p.seed,
        policy: { ...p.policy, columns: { ...p.policy.columns, ...p.columns } },
      });
      const title = `${p.streamName} batch ${batch.index} (${
        batch.from?.slice(0, 10) ?? ""
      }) vs ${p.model} v${champion.version}`;
      const html = await ctx.putArtifact(renderDriftReportHtml(report, { title }));
      const json = await ctx.putArtifact(JSON.stringify(report));
      const metrics = metricPairs(report);
      const drifted = driftedColumns(report);
      const row = await (await MonitoringTable.open(ctx.db)).insert({
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
        `significant: ${drifted.join(", ") || "nothing"}; ROC AUC ${
          metrics.roc_auc?.realized?.toFixed(4)
        } (reference ${metrics.roc_auc?.reference?.toFixed(4)})`,
      );
      return { report: json, html, row, rocAuc: metrics.roc_auc?.realized ?? null };
    },
  })
  .task("evaluate_severity", {
    deps: ["detect_drift"],
    run: async (ctx) => {
      const p = ctx.params;
      const d = ctx.xcom("detect_drift");
      const report = DriftReport.parse(
        JSON.parse(new TextDecoder().decode(await ctx.getArtifact(d.report))),
      );
      const table = await MonitoringTable.open(ctx.db);
      const history = historyFrom(
        await table.list(p.streamName),
        ctx.xcom("get_champion").version,
        ctx.xcom("get_iteration_state").index,
      );
      const j = gradeReport(report, p.policy, history);
      const action = actionFor(j.severity, p.actions);
      const row = (await table.list(p.streamName)).find((r) => r.id === d.row);
      await table.update(d.row, {
        severity: j.severity,
        action,
        reasons: j.reasons,
        details: { ...row?.details, verdict: j.verdict },
      });
      for (const r of j.reasons) ctx.log(r);
      ctx.log(`${j.severity} → ${action} (${j.verdict.errorRate ?? ""})`);
      return { severity: j.severity, reasons: j.reasons, errorRate: j.verdict.errorRate, action };
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
      const seen = [
        ...ctx.xcom("get_iteration_state").batches,
        ...(batch.done ? [] : [batch.path]),
      ];
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
      await (await MonitoringTable.open(ctx.db)).update(ctx.xcom("detect_drift").row, {
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
      const batch = ctx.xcom("simulate_batch");
      if (batch.done) throw new Error("unreachable: no batch");
      const r = await recalibrateChampion({
        registry: await ModelRegistry.open(ctx.db),
        artifacts: ctx.artifacts,
        model: p.model,
        newPrior: "labels",
        labelledBatch: pick(await getTable(ctx, batch.path), [...p.features, p.target], batch.path),
        reason: `${p.streamName} batch ${batch.index}: ${ctx.xcom("evaluate_severity").reasons[0]}`,
        runId: ctx.runId,
      });
      await (await MonitoringTable.open(ctx.db)).update(ctx.xcom("detect_drift").row, {
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
