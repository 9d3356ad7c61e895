/**
 * The drift dashboard: per stream, the drifted share and severity of each batch over time (SVG),
 * a heatmap of per-column statistics over batches, the batch table with links to each HTML report,
 * and the latest alerts.
 *
 * @example
 * ```tsx
 * <DriftPage streams={["flights"]} stream="flights" rows={rows} alerts={alerts} />
 * ```
 */
import type { FC } from "hono/jsx";
import type { AlertRow, DriftRow } from "../monitoring_data.ts";
import { Layout } from "./layout.tsx";

export const SEVERITY_COLOUR: Record<string, string> = {
  none: "#2e7d32",
  minor: "#9e9d24",
  moderate: "#ef6c00",
  major: "#c62828",
  concept: "#6a1b9a",
};

/** Drifted share per batch as a line with severity-coloured points. */
const ShareChart: FC<{ rows: DriftRow[] }> = ({ rows }) => {
  const w = 760, h = 200, l = 40, r = 10, t = 10, b = 30;
  const n = Math.max(1, rows.length - 1);
  const x = (i: number) => l + (i / n) * (w - l - r);
  const y = (v: number) => t + (1 - v) * (h - t - b);
  const points = rows.map((row, i) => `${x(i).toFixed(1)},${y(row.driftedShare ?? 0).toFixed(1)}`)
    .join(" ");
  return (
    <svg
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label="drifted share per batch"
      font-size="10"
    >
      {[0, 0.25, 0.5, 0.75, 1].map((v) => (
        <g>
          <line x1={l} x2={w - r} y1={y(v)} y2={y(v)} stroke="#e5e8ec" />
          <text x={l - 4} y={y(v) + 3} text-anchor="end">{`${v * 100}%`}</text>
        </g>
      ))}
      <polyline points={points} fill="none" stroke="#17324d" stroke-width="1.5" />
      {rows.map((row, i) => (
        <circle
          cx={x(i)}
          cy={y(row.driftedShare ?? 0)}
          r="5"
          fill={SEVERITY_COLOUR[row.severity ?? "none"] ?? "#999"}
        >
          <title>
            {`batch ${row.batch}: ${((row.driftedShare ?? 0) * 100).toFixed(0)}% drifted, ${
              row.severity ?? "?"
            }`}
          </title>
        </circle>
      ))}
      {rows.map((row, i) => (i % Math.ceil(rows.length / 12) === 0
        ? <text x={x(i)} y={h - 12} text-anchor="middle">{row.batch}</text>
        : null)
      )}
      <text x={(w + l) / 2} y={h - 1} text-anchor="middle">batch</text>
    </svg>
  );
};

/** Columns × batches: the test statistic, darker when drifted. */
const ColumnHeatmap: FC<{ rows: DriftRow[] }> = ({ rows }) => {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r.columns)))];
  if (columns.length === 0) return <p class="muted">No per-column statistics recorded.</p>;
  const cw = Math.max(14, Math.min(40, Math.floor(700 / Math.max(1, rows.length)))),
    rh = 18,
    l = 120,
    t = 10;
  const max: Record<string, number> = {};
  for (const c of columns) {
    max[c] = Math.max(
      1e-9,
      ...rows.map((r) => Math.abs(r.columns[c]?.statistic ?? 0)),
    );
  }
  return (
    <svg
      width={l + rows.length * cw + 10}
      height={t + columns.length * rh + 24}
      role="img"
      aria-label="per-column drift over batches"
      font-size="10"
    >
      {columns.map((c, j) => (
        <text key={c} x={l - 6} y={t + j * rh + 13} text-anchor="end">{c}</text>
      ))}
      {rows.map((row, i) =>
        columns.map((c, j) => {
          const cell = row.columns[c];
          if (!cell) return null;
          const v = Math.abs(cell.statistic) / max[c];
          const fill = cell.drifted
            ? `rgba(198,40,40,${0.35 + 0.65 * v})`
            : `rgba(11,97,164,${0.1 + 0.5 * v})`;
          return (
            <rect x={l + i * cw} y={t + j * rh} width={cw - 1} height={rh - 1} fill={fill}>
              <title>
                {`batch ${row.batch} · ${c}: ${cell.test} ${cell.statistic.toPrecision(3)}${
                  cell.drifted ? " (drift)" : ""
                }`}
              </title>
            </rect>
          );
        })
      )}
      {rows.map((row, i) => (i % Math.ceil(rows.length / 12) === 0
        ? (
          <text x={l + i * cw + cw / 2} y={t + columns.length * rh + 14} text-anchor="middle">
            {row.batch}
          </text>
        )
        : null)
      )}
    </svg>
  );
};

export const DriftPage: FC<
  { streams: string[]; stream: string | null; rows: DriftRow[]; alerts: AlertRow[] }
> = (p) => (
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
          No monitored batch yet: run <code>drift_monitoring</code> (or{" "}
          <code>deno task demo</code>).
        </p>
      )
      : (
        <div>
          <h2>Drifted share and severity per batch</h2>
          <ShareChart rows={p.rows} />
          <p>
            {Object.entries(SEVERITY_COLOUR).map(([s, c]) => (
              <span style="margin-right:10px">
                <span class="sq" style={`background:${c}`}></span>
                {s}
              </span>
            ))}
          </p>
          <h2>Per-column statistics over batches</h2>
          <ColumnHeatmap rows={p.rows} />
          <h2>Batches</h2>
          <table>
            <thead>
              <tr>
                <th>batch</th>
                <th>from</th>
                <th>rows</th>
                <th>drifted share</th>
                <th>drifted columns</th>
                <th>severity</th>
                <th>action</th>
                <th>champion</th>
                <th>ROC AUC</th>
                <th>injected</th>
                <th>report</th>
              </tr>
            </thead>
            <tbody>
              {[...p.rows].reverse().map((r) => (
                <tr>
                  <td>
                    <a href={`/runs/${r.runId}`}>{r.batch}</a>
                  </td>
                  <td>{r.from?.slice(0, 10) ?? ""}</td>
                  <td>{r.rows}</td>
                  <td>{r.driftedShare === null ? "" : `${(r.driftedShare * 100).toFixed(0)}%`}</td>
                  <td>
                    {Object.entries(r.columns).filter(([, c]) => c.drifted).map(([n]) => n).join(
                      ", ",
                    )}
                  </td>
                  <td>
                    {r.severity
                      ? (
                        <span
                          class="state"
                          style={`background:${SEVERITY_COLOUR[r.severity] ?? "#999"}`}
                        >
                          {r.severity}
                        </span>
                      )
                      : null}
                  </td>
                  <td>{r.action ?? ""}</td>
                  <td>{r.championVersion === null ? "" : `${r.model} v${r.championVersion}`}</td>
                  <td>{r.rocAuc === null ? "" : r.rocAuc.toFixed(3)}</td>
                  <td>{r.injected.join(", ")}</td>
                  <td>
                    {r.reportHtml
                      ? <a href={`/artifacts/${r.reportHtml}?type=html`}>HTML</a>
                      : null}{" "}
                    {r.reportJson
                      ? <a href={`/artifacts/${r.reportJson}?type=json`}>JSON</a>
                      : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    <h2>Alerts</h2>
    {p.alerts.length === 0 ? <p class="muted">No alerts.</p> : (
      <table>
        <thead>
          <tr>
            <th>when</th>
            <th>level</th>
            <th>key</th>
            <th>title</th>
            <th>run</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {p.alerts.map((a) => (
            <tr>
              <td>{a.at.replace("T", " ").slice(0, 19)}</td>
              <td>{a.level}</td>
              <td>{a.key}</td>
              <td title={a.message}>{a.title}</td>
              <td>{a.runId ? <a href={`/runs/${a.runId}`}>{a.runId}</a> : ""}</td>
              <td class="muted">{a.suppressed ? "suppressed (cooldown)" : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);
