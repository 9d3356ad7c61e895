// deno-lint-ignore-file jsx-key -- rendered once to a string: hono/jsx would write a key as an attribute
/**
 * The drift report as one self-contained HTML file (inline CSS and SVG, no script, no CDN): dataset
 * summary, severity and reasons, a table of every column's test, statistic, p-value, threshold and
 * verdict, and a reference-versus-current histogram or bar chart per column. Built with hono/jsx,
 * which escapes every value (column names and categories are the data's own text).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDrift } from "./detect.ts";
 * import { renderDriftReportHtml } from "./report_html.tsx";
 * const report = detectDrift(
 *   { origin: ["SEA", "SFO", "SEA", "SEA"] },
 *   { origin: ["SFO", "SFO", "<LAX>", "SEA"] },
 * );
 * const html = renderDriftReportHtml(report, { title: "Batch 12" }); // one self-contained file
 * assert.match(html, /<title>Batch 12<\/title>/);
 * assert.match(html, /&lt;LAX&gt;/); // values are escaped
 * ```
 */
import { AucHistoryChart, type AucHistoryPoint, hasAucHistory } from "./auc_history_svg.tsx";
import { htmlText } from "./html_text.ts";
import { ReportPage, SvgFrame } from "./report_frame.tsx";
import type { ColumnDrift, DriftReport } from "./schema.ts";

const num = (x: number | null | undefined) =>
  x === null || x === undefined || Number.isNaN(x)
    ? "—"
    : !Number.isFinite(x)
    ? (x > 0 ? "∞" : "−∞")
    : Math.abs(x) >= 1e-3 || x === 0
    ? x.toFixed(4)
    : x.toExponential(2);

const REF = "#4c78a8", CUR = "#f58518";

type Histogram = NonNullable<ColumnDrift["histogram"]>;

/** Grouped bars of reference and current shares per bin or category, as an SVG element. */
export function histogramSvg(h: Histogram, width = 420, height = 160): string {
  return htmlText(<HistogramChart h={h} width={width} height={height} />);
}

function HistogramChart({ h, width = 420, height = 160 }: {
  h: Histogram;
  width?: number;
  height?: number;
}) {
  const pad = { l: 36, r: 8, t: 8, b: 34 };
  const w = width - pad.l - pad.r, hgt = height - pad.t - pad.b;
  const max = Math.max(1e-12, ...h.ref, ...h.cur);
  const slot = w / Math.max(1, h.labels.length);
  const bar = Math.max(1, slot * 0.4);
  const y = (v: number) => pad.t + hgt - (v / max) * hgt;
  const every = Math.max(1, Math.ceil(h.labels.length / 6));
  return (
    <SvgFrame width={width} height={height} label="reference and current distribution">
      <line x1={pad.l} y1={pad.t + hgt} x2={width - pad.r} y2={pad.t + hgt} stroke="#999" />
      <text x={pad.l - 4} y={pad.t + 8} text-anchor="end">{(max * 100).toFixed(0)}%</text>
      <text x={pad.l - 4} y={pad.t + hgt} text-anchor="end">0</text>
      {h.labels.map((label, i) => {
        const x = pad.l + i * slot + slot * 0.1;
        return (
          <g>
            <title>
              {`${label}: reference ${(h.ref[i] * 100).toFixed(1)}%, current ${
                (h.cur[i] * 100).toFixed(1)
              }%`}
            </title>
            <rect
              x={x.toFixed(1)}
              y={y(h.ref[i]).toFixed(1)}
              width={bar.toFixed(1)}
              height={(pad.t + hgt - y(h.ref[i])).toFixed(1)}
              fill={REF}
            />
            <rect
              x={(x + bar).toFixed(1)}
              y={y(h.cur[i]).toFixed(1)}
              width={bar.toFixed(1)}
              height={(pad.t + hgt - y(h.cur[i])).toFixed(1)}
              fill={CUR}
            />
          </g>
        );
      })}
      {h.labels.map((label, i) =>
        i % every === 0
          ? (
            <text
              x={(pad.l + i * slot + slot / 2).toFixed(1)}
              y={height - pad.b + 14}
              text-anchor="middle"
            >
              {shortLabel(label)}
            </text>
          )
          : null
      )}
      <rect x={pad.l} y={height - 14} width="10" height="10" fill={REF} />
      <text x={pad.l + 14} y={height - 5}>reference</text>
      <rect x={pad.l + 80} y={height - 14} width="10" height="10" fill={CUR} />
      <text x={pad.l + 94} y={height - 5}>current</text>
    </SvgFrame>
  );
}

function shortLabel(label: string): string {
  const n = Number(label);
  if (label !== "" && Number.isFinite(n)) {
    return Math.abs(n) >= 1000 || Number.isInteger(n) ? String(Math.round(n)) : n.toPrecision(3);
  }
  return label.length > 10 ? `${label.slice(0, 9)}…` : label;
}

const SEVERITY_COLOUR: Record<string, string> = {
  none: "#2e7d32",
  minor: "#9e9d24",
  moderate: "#ef6c00",
  major: "#c62828",
  prior: "#1565c0",
  concept: "#6a1b9a",
};

const STYLE = `
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;font-size:14px}
tr.drift td{background:#fdecea}.drift-word{color:#c62828}
.badge{display:inline-block;padding:4px 10px;border-radius:4px;color:#fff;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart h3{font-size:14px;margin:.5rem 0}small{font-weight:normal;color:#555}
`;

const DriftWord = () => <b class="drift-word">drift</b>;

/**
 * The whole report as an HTML document. With `history` (the stream's batches so far, this one
 * included), a chart of estimated vs realized ROC AUC with intervals and the sequential alarms.
 */
export function renderDriftReportHtml(
  report: DriftReport,
  { title = "Drift report", history = [] }: {
    title?: string;
    history?: readonly AucHistoryPoint[];
  } = {},
): string {
  return "<!doctype html>\n" +
    htmlText(<DriftReportPage report={report} title={title} history={history} />) + "\n";
}

function DriftReportPage({ report, title, history }: {
  report: DriftReport;
  title: string;
  history: readonly AucHistoryPoint[];
}) {
  const sev = report.severity;
  return (
    <ReportPage title={title} style={STYLE}>
      <p>
        Reference {report.nRef} rows, current {report.nCur} rows, made {report.createdAt}.
      </p>
      <p>
        Drifted columns: {report.columns.filter((c) => c.drifted).length} of {report.columns.length}
        {" "}
        ({(report.driftedShare * 100).toFixed(1)}%); dataset drift{" "}
        {report.datasetDrift ? <b class="drift-word">yes</b> : "no"} (threshold{" "}
        {(report.driftShareThreshold * 100).toFixed(0)}%).
      </p>
      {sev
        ? (
          <>
            <p>
              Severity:{" "}
              <span class="badge" style={`background:${SEVERITY_COLOUR[sev.severity]}`}>
                {sev.severity}
              </span>{" "}
              score {num(sev.score)}
            </p>
            <ul>{sev.reasons.map((r) => <li>{r}</li>)}</ul>
          </>
        )
        : null}
      <Policy report={report} />
      <Labels report={report} />
      <Multivariate report={report} />
      {report.skipped.length
        ? (
          <p>
            Not compared: {report.skipped.map((s) => `${s.column} (${s.reason})`).join("; ")}
          </p>
        )
        : null}
      <h2>Columns</h2>
      <table>
        <tr>
          <th>column</th>
          <th>type</th>
          <th>test</th>
          <th>statistic</th>
          <th>p-value</th>
          <th>adjusted p</th>
          <th>effect</th>
          <th>threshold</th>
          <th>verdict</th>
          <th>missing ref → cur</th>
        </tr>
        {report.columns.map((c) => (
          <tr class={c.drifted ? "drift" : ""}>
            <td>
              <a href={`#col-${c.column}`}>{c.column}</a>
            </td>
            <td>{c.type}</td>
            <td>{c.test}</td>
            <td>{num(c.statistic)}</td>
            <td>{num(c.pValue)}</td>
            <td>{c.adjustedPValue === undefined ? "—" : num(c.adjustedPValue)}</td>
            <td>{c.effect === undefined || c.effect === null ? "—" : num(c.effect)}</td>
            <td>{num(c.threshold)}</td>
            <td>{c.drifted ? "drift" : "ok"}</td>
            <td>
              {(c.nullShareRef * 100).toFixed(1)}% → {(c.nullShareCur * 100).toFixed(1)}%
            </td>
          </tr>
        ))}
      </table>
      <Quality report={report} />
      <Performance report={report} />
      {hasAucHistory(history)
        ? (
          <>
            <h2>ROC AUC over the stream</h2>
            <p>
              CBPE's estimate from calibrated scores (shaded: its prediction interval for the
              realized value) beside the realized value once a batch's labels land; dashed lines
              mark the sequential detectors' alarms. The estimate holds under covariate shift only:
              where the two part, P(y | x) changed.
            </p>
            <AucHistoryChart points={history} />
          </>
        )
        : null}
      {report.prediction
        ? (
          <>
            <h2>Prediction drift</h2>
            <p>
              {report.prediction.test} {num(report.prediction.statistic)} —{" "}
              {report.prediction.drifted ? "drift" : "no drift"}
            </p>
            {report.prediction.histogram
              ? <HistogramChart h={report.prediction.histogram} />
              : null}
          </>
        )
        : null}
      <h2>Distributions</h2>
      <div class="charts">
        {report.columns.map((c) => (
          <section class="chart" id={`col-${c.column}`}>
            <h3>
              {c.column}{" "}
              <small>
                {c.test} {num(c.statistic)}
                {c.pValue !== null ? `, p ${num(c.pValue)}` : ""} —{" "}
                {c.drifted ? <DriftWord /> : "no drift"}
              </small>
            </h3>
            {c.histogram
              ? <HistogramChart h={c.histogram} />
              : <p>(no distribution for this test)</p>}
          </section>
        ))}
      </div>
    </ReportPage>
  );
}

function Policy({ report }: { report: DriftReport }) {
  const policy = report.policy, sev = report.severity;
  if (!policy) return null;
  return (
    <p>
      Policy: <b>{policy.preset}</b> preset — {policy.correction === "none"
        ? policy.controls
        : `${policy.controls} at ${num(policy.alpha)} over ${policy.tests} checks`}
      {sev?.errorRate ? `; this grade: ${sev.errorRate}` : ""}.
    </p>
  );
}

function Labels({ report }: { report: DriftReport }) {
  const labels = report.labels, auc = report.performance?.aucTest;
  if (!labels) return null;
  return (
    <p>
      Label share ({labels.positiveLabel ?? "1"}): {num(labels.reference)} →{" "}
      {num(labels.current)}, p {num(labels.pValue)}
      {auc
        ? `; ROC AUC ${num(auc.reference)} → ${num(auc.current)} (DeLong z ${
          num(auc.z)
        }, one-sided p ${num(auc.pValue)})`
        : ""}.
    </p>
  );
}

function Multivariate({ report }: { report: DriftReport }) {
  const m = report.multivariate;
  if (!m) return null;
  return (
    <p>
      Domain classifier: ROC AUC {num(m.rocAuc)} (threshold {num(m.threshold)}), permutation p{" "}
      {num(m.pValue)} — {m.drifted ? <DriftWord /> : "no drift"}; strongest features:{" "}
      {m.topFeatures.map((f) => f.feature).join(", ") || "—"}
    </p>
  );
}

function Quality({ report }: { report: DriftReport }) {
  if (!report.quality?.length) return null;
  return (
    <>
      <h2>Data quality</h2>
      <table>
        <tr>
          <th>column</th>
          <th>check</th>
          <th>reference</th>
          <th>current</th>
          <th>p-value</th>
          <th>adjusted p</th>
          <th>verdict</th>
        </tr>
        {report.quality.map((q) => (
          <tr class={q.drifted ? "drift" : ""}>
            <td>{q.column}</td>
            <td>{q.check}</td>
            <td>{(q.reference * 100).toFixed(2)}%</td>
            <td>{(q.current * 100).toFixed(2)}%</td>
            <td>{num(q.pValue)}</td>
            <td>{num(q.adjustedPValue)}</td>
            <td>{q.drifted ? "drift" : "ok"}</td>
          </tr>
        ))}
      </table>
    </>
  );
}

function Performance({ report }: { report: DriftReport }) {
  const perf = report.performance;
  if (!perf) return null;
  return (
    <>
      <h2>Performance ({perf.task})</h2>
      <table>
        <tr>
          <th>metric</th>
          <th>reference [95% CI]</th>
          <th>current [95% CI]</th>
          <th>change</th>
        </tr>
        {perf.metrics.map((m) => (
          <tr>
            <td>{m.name}</td>
            <td>
              {num(m.reference.value)} [{num(m.reference.ciLow)}, {num(m.reference.ciHigh)}]
            </td>
            <td>
              {num(m.current.value)} [{num(m.current.ciLow)}, {num(m.current.ciHigh)}]
            </td>
            <td>{num(m.change)}</td>
          </tr>
        ))}
      </table>
    </>
  );
}
