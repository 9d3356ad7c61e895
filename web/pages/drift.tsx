/**
 * The drift dashboard: per stream, the champion's ROC AUC over time (realized, estimated with its
 * interval, the reference band; markers where the champion changed and where drift was injected),
 * the drifted share and severity of each batch (SVG), a heatmap per statistic of per-column drift
 * over batches, the batch table (AUC, action and its reasons, links to each HTML report) — the same
 * as `deno task monitoring` — and the alerts with suppressed repeats folded. Each chart and table is
 * its own module (auc_chart, share_chart, column_heatmaps, drift_batches, drift_alerts).
 *
 * @example
 * ```tsx
 * import { DriftPage } from "./drift.tsx";
 * import type { AlertRow, DriftRow } from "../services/monitoring_data.ts";
 *
 * const page = (rows: DriftRow[], alerts: AlertRow[]) => (
 *   <DriftPage streams={["s1", "s2"]} stream="s1" rows={rows} alerts={alerts} />
 * );
 * ```
 */
import type { FC } from "hono/jsx";
import { type AlertRow, type DriftRow, latestPass } from "../services/monitoring_data.ts";
import { AucChart } from "./auc_chart.tsx";
import { ColumnHeatmaps } from "./column_heatmaps.tsx";
import { AlertsTable } from "./drift_alerts.tsx";
import { BatchTable } from "./drift_batches.tsx";
import { SEVERITY_COLOUR } from "./drift_format.ts";
import { Layout } from "./layout.tsx";
import { ShareChart } from "./share_chart.tsx";

const SeverityLegend: FC = () => (
  <p class="severity-legend">
    <span class="muted" style="margin-right:8px">severity:</span>
    {Object.entries(SEVERITY_COLOUR).map(([s, c]) => (
      <span style="margin-right:10px">
        <span class="sq" style={`background:${c}`}></span>
        {s}
      </span>
    ))}
  </p>
);

export const DriftPage: FC<
  { streams: string[]; stream: string | null; rows: DriftRow[]; alerts: AlertRow[] }
> = (p) => {
  const rows = latestPass(p.rows);
  return (
    <Layout title="Drift">
      <h1>Drift {p.stream ? `· ${p.stream}` : ""}</h1>
      {p.streams.length > 1
        ? (
          <p>
            {p.streams.map((s) => (
              <a href={`/drift?stream=${encodeURIComponent(s)}`} style="margin-right:12px">{s}</a>
            ))}
          </p>
        )
        : null}
      {p.rows.length === 0
        ? (
          <p class="muted">
            No monitored batch yet: a DAG that monitors a stream records each batch here (the same
            rows as <code>deno task monitoring</code>).
          </p>
        )
        : (
          <div>
            {p.rows.length > rows.length
              ? (
                <p class="muted">
                  The latest pass over the stream ({rows.length} batches);{" "}
                  {p.rows.length - rows.length}{" "}
                  rows of earlier passes (a restarted stream starts again at batch 0) are in the API
                  (<a href={`/api/v1/drift?stream=${encodeURIComponent(p.stream ?? "")}`}>JSON</a>).
                </p>
              )
              : null}
            <h2>The champion's ROC AUC over time</h2>
            <AucChart rows={rows} />
            <SeverityLegend />
            {rows.some((r) =>
                r.metrics.roc_auc?.estimated !== null &&
                r.metrics.roc_auc?.estimated !== undefined
              )
              ? (
                <p class="muted">
                  The estimate (confidence-based, from the champion's calibrated scores) needs no
                  labels; it holds under covariate shift, not under a concept change — where it
                  parts from the realized AUC, the relation between features and label moved.
                </p>
              )
              : (
                <p class="muted">
                  No label-free estimate stored for these batches: the chart shows the realized AUC
                  where labels were available.
                </p>
              )}
            <h2>Drifted share and severity per batch</h2>
            <ShareChart rows={rows} />
            <SeverityLegend />
            <h2>Per-column statistics over batches</h2>
            <ColumnHeatmaps rows={rows} />
            <h2>Batches</h2>
            <BatchTable rows={rows} />
          </div>
        )}
      <h2>Alerts</h2>
      <AlertsTable alerts={p.alerts} />
    </Layout>
  );
};
