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
  prior: "#0277bd",
  concept: "#6a1b9a",
};

const DAY_MS = 86_400_000;

/**
 * The x-axis: by batch date (the batch's `from`) when every batch has one, else by batch number.
 * Returns each batch's position in [0, 1] and about `n` labelled ticks.
 */
export function batchAxis(rows: DriftRow[], n = 8): {
  at: (i: number) => number;
  ticks: { pos: number; label: string }[];
  title: string;
} {
  const times = rows.map((r) => (r.from ? Date.parse(r.from) : NaN));
  if (rows.length > 0 && times.every((t) => Number.isFinite(t))) {
    const lo = Math.min(...times), hi = Math.max(...times);
    const span = Math.max(hi - lo, DAY_MS);
    const step = Math.max(DAY_MS, Math.ceil(span / n / DAY_MS) * DAY_MS);
    const ticks: { pos: number; label: string }[] = [];
    for (let t = lo; t <= hi + 1; t += step) {
      ticks.push({ pos: (t - lo) / span, label: new Date(t).toISOString().slice(0, 10) });
    }
    return { at: (i) => (times[i] - lo) / span, ticks, title: "batch date (start of batch)" };
  }
  const last = Math.max(1, rows.length - 1);
  const every = Math.max(1, Math.ceil(rows.length / n));
  return {
    at: (i) => i / last,
    ticks: rows.flatMap((r, i) =>
      i % every === 0 ? [{ pos: i / last, label: String(r.batch) }] : []
    ),
    title: "batch",
  };
}

/** Drifted share per batch over time, points coloured by severity. */
const ShareChart: FC<{ rows: DriftRow[] }> = ({ rows }) => {
  const w = 760, h = 210, l = 40, r = 40, t = 10, b = 40;
  const axis = batchAxis(rows);
  const x = (i: number) => l + axis.at(i) * (w - l - r);
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
      <line x1={l} x2={w - r} y1={y(0)} y2={y(0)} stroke="#6b7785" />
      {axis.ticks.map((tk) => (
        <g class="x-tick">
          <line
            x1={l + tk.pos * (w - l - r)}
            x2={l + tk.pos * (w - l - r)}
            y1={y(0)}
            y2={y(0) + 4}
            stroke="#6b7785"
          />
          <text x={l + tk.pos * (w - l - r)} y={h - 22} text-anchor="middle">{tk.label}</text>
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
            {`batch ${row.batch}${row.from ? ` (${row.from.slice(0, 10)})` : ""}: ${
              ((row.driftedShare ?? 0) * 100).toFixed(0)
            }% drifted, ${row.severity ?? "?"}`}
          </title>
        </circle>
      ))}
      <text x={(w + l - r) / 2} y={h - 4} text-anchor="middle">{axis.title}</text>
      <text x={10} y={(h - b) / 2} text-anchor="middle" transform={`rotate(-90 10 ${(h - b) / 2})`}>
        drifted share
      </text>
    </svg>
  );
};

/** A sequential colour for a statistic's share of the heatmap's maximum (0–1): light to dark blue. */
export function statColour(v: number): string {
  const k = Math.max(0, Math.min(1, v));
  return `hsl(207, 70%, ${Math.round(95 - 60 * k)}%)`;
}

const TEST_NAMES: Record<string, string> = {
  ks: "Kolmogorov–Smirnov D",
  chisquare: "χ² statistic",
  chisquare_pooled: "χ² statistic (rare categories pooled)",
  z: "z statistic",
  wasserstein: "normed Wasserstein distance",
  jensenshannon: "Jensen–Shannon distance",
  psi: "PSI",
  kl_div: "Kullback–Leibler divergence",
  hellinger: "Hellinger distance",
  cramer_von_mises: "Cramér–von Mises statistic",
  mannw: "Mann–Whitney U",
  t_test: "Welch t statistic",
  anderson: "Anderson–Darling statistic",
  energy_distance: "energy distance",
  missing_share: "missing share",
  unseen_share: "unseen-category share",
  domain_classifier: "domain classifier ROC AUC",
};

/** Columns × batches for one statistic: one colour scale (0 to its maximum), drifted cells outlined. */
const ColumnHeatmap: FC<{ rows: DriftRow[]; test: string }> = ({ rows, test }) => {
  const columns = [
    ...new Set(
      rows.flatMap((r) =>
        Object.entries(r.columns).filter(([, c]) => c.test === test).map(([n]) => n)
      ),
    ),
  ];
  const cw = Math.max(14, Math.min(40, Math.floor(700 / Math.max(1, rows.length)))),
    rh = 18,
    l = 120,
    t = 10;
  const max = Math.max(
    1e-9,
    ...rows.flatMap((r) => columns.map((c) => Math.abs(r.columns[c]?.statistic ?? 0))),
  );
  // cells sit one per batch in order; every few are labelled with their batch date (or number)
  const every = Math.max(
    1,
    Math.ceil(rows.length / Math.max(2, Math.floor((rows.length * cw) / 90))),
  );
  const dated = rows.every((r) => r.from);
  const ticks = rows.flatMap((r, i) =>
    i % every === 0 ? [{ i, label: dated ? r.from!.slice(0, 10) : String(r.batch) }] : []
  );
  const gridW = rows.length * cw;
  const legendY = t + columns.length * rh + 40;
  const stops = [0, 0.25, 0.5, 0.75, 1];
  return (
    <svg
      width={Math.max(l + gridW + 10, l + 420)}
      height={legendY + 30}
      role="img"
      aria-label={`per-column drift over batches: ${test}`}
      data-statistic={test}
      font-size="10"
    >
      {columns.map((c, j) => (
        <text key={c} x={l - 6} y={t + j * rh + 13} text-anchor="end">{c}</text>
      ))}
      {rows.map((row, i) =>
        columns.map((c, j) => {
          const cell = row.columns[c];
          if (!cell || cell.test !== test) return null;
          return (
            <rect
              class={cell.drifted ? "cell drifted" : "cell"}
              x={l + i * cw}
              y={t + j * rh}
              width={cw - 1}
              height={rh - 1}
              fill={statColour(Math.abs(cell.statistic) / max)}
              stroke={cell.drifted ? "#c62828" : "none"}
              stroke-width={cell.drifted ? 2 : 0}
            >
              <title>
                {`batch ${row.batch}${
                  row.from ? ` (${row.from.slice(0, 10)})` : ""
                } · ${c}: ${test} ${cell.statistic.toPrecision(3)}${
                  cell.drifted ? " (drift)" : ""
                }`}
              </title>
            </rect>
          );
        })
      )}
      {ticks.map((tk) => (
        <text x={l + tk.i * cw + cw / 2} y={t + columns.length * rh + 14} text-anchor="middle">
          {tk.label}
        </text>
      ))}
      <text x={l + gridW / 2} y={t + columns.length * rh + 28} text-anchor="middle">
        {dated ? "batch date (start of batch)" : "batch"}
      </text>
      <g class="legend">
        <text x={l - 6} y={legendY + 10} text-anchor="end">{test}</text>
        {stops.map((v, k) => (
          <g>
            <rect x={l + k * 44} y={legendY} width="42" height="12" fill={statColour(v)} />
            <text x={l + k * 44 + 21} y={legendY + 24} text-anchor="middle">
              {(v * max).toPrecision(2)}
            </text>
          </g>
        ))}
        <rect
          x={l + stops.length * 44 + 12}
          y={legendY}
          width="16"
          height="12"
          fill={statColour(0.5)}
          stroke="#c62828"
          stroke-width="2"
        />
        <text x={l + stops.length * 44 + 32} y={legendY + 10}>drifted (the test's decision)</text>
      </g>
    </svg>
  );
};

/** One heatmap per statistic (statistics on different scales are never mixed). */
const ColumnHeatmaps: FC<{ rows: DriftRow[] }> = ({ rows }) => {
  const tests = [...new Set(rows.flatMap((r) => Object.values(r.columns).map((c) => c.test)))];
  if (tests.length === 0) return <p class="muted">No per-column statistics recorded.</p>;
  return (
    <div>
      {tests.map((test) => (
        <div>
          <h3 style="font-size:14px;margin:12px 0 4px">{TEST_NAMES[test] ?? test}</h3>
          <ColumnHeatmap rows={rows} test={test} />
        </div>
      ))}
    </div>
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
          <ColumnHeatmaps rows={p.rows} />
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
