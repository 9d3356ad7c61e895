/**
 * The drift page's heatmaps of per-column drift over batches: one per statistic (statistics on
 * different scales are never mixed), each with its own colour scale from 0 to its maximum and its
 * legend; the cells the test called drifted are outlined.
 *
 * @example
 * ```tsx
 * import { ColumnHeatmaps } from "./column_heatmaps.tsx";
 * import type { DriftRow } from "../services/monitoring_data.ts";
 *
 * const section = (rows: DriftRow[]) => <ColumnHeatmaps rows={rows} />; // rows: latestPass(driftRows(…))
 * ```
 */
import type { FC } from "hono/jsx";
import type { DriftRow } from "../services/monitoring_data.ts";

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
export const ColumnHeatmaps: FC<{ rows: DriftRow[] }> = ({ rows }) => {
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
