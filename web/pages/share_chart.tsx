/**
 * The drift page's chart of the drifted share of columns per batch over time, each point coloured
 * by the batch's severity.
 *
 * @example
 * ```tsx
 * import { ShareChart } from "./share_chart.tsx";
 * import type { DriftRow } from "../services/monitoring_data.ts";
 *
 * const section = (rows: DriftRow[]) => <ShareChart rows={rows} />; // rows: latestPass(driftRows(…))
 * ```
 */
import type { FC } from "hono/jsx";
import type { DriftRow } from "../services/monitoring_data.ts";
import { batchAxis } from "./batch_axis.ts";
import { SEVERITY_COLOUR } from "./drift_format.ts";

/** Drifted share per batch over time, points coloured by severity. */
export const ShareChart: FC<{ rows: DriftRow[] }> = ({ rows }) => {
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
