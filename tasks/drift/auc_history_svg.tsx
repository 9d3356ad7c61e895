/**
 * A stream's ROC AUC over its batches as an inline SVG: CBPE's estimate with its prediction
 * interval (a shaded band), the realized value where labels have landed, and the sequential
 * detectors' alarms as marked batches. Pure: points in, SVG text out ("" without points). Built
 * with hono/jsx, which escapes the alarms' names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { aucHistorySvg } from "./auc_history_svg.tsx";
 * const alarms = ["prediction"]; // the sequential detectors that alarmed at batch 1
 * const svg = aucHistorySvg([
 *   { batch: 0, estimated: 0.71, ciLow: 0.69, ciHigh: 0.73, realized: 0.7, alarms: [] },
 *   { batch: 1, estimated: 0.6, ciLow: 0.58, ciHigh: 0.62, realized: null, alarms },
 * ]);
 * assert.match(svg, /^<svg/);
 * assert.equal(aucHistorySvg([]), ""); // nothing to draw
 * ```
 */
import { z } from "zod";
import { htmlText } from "./html_text.ts";
import { SvgFrame } from "./report_frame.tsx";

/** One batch of the stream's history. */
export const AucHistoryPoint = z.object({
  batch: z.number().int().nonnegative(),
  estimated: z.number().nullable(),
  ciLow: z.number().nullable(),
  ciHigh: z.number().nullable(),
  /** null until the batch's labels land. */
  realized: z.number().nullable(),
  /** The sequential detectors that alarmed at this batch. */
  alarms: z.array(z.string()),
}).strict();
export type AucHistoryPoint = z.infer<typeof AucHistoryPoint>;

const EST = "#4c78a8", REAL = "#f58518", ALARM = "#c62828";

const chartValues = (points: readonly AucHistoryPoint[]) =>
  points.flatMap((p) =>
    [p.estimated, p.ciLow, p.ciHigh, p.realized].filter((v): v is number =>
      v !== null && Number.isFinite(v)
    )
  );

/** Whether there is anything to chart: some point has an estimate or a realized value. */
export function hasAucHistory(points: readonly AucHistoryPoint[]): boolean {
  return chartValues(points).length > 0;
}

/** The chart; "" when no point has an estimate or a realized value. */
export function aucHistorySvg(
  points: readonly AucHistoryPoint[],
  width = 640,
  height = 220,
): string {
  if (!hasAucHistory(points)) return "";
  return htmlText(<AucHistoryChart points={points} width={width} height={height} />);
}

/** The chart as a JSX element (nothing when there is nothing to chart). */
export function AucHistoryChart({ points, width = 640, height = 220 }: {
  points: readonly AucHistoryPoint[];
  width?: number;
  height?: number;
}) {
  const pts = [...points].sort((a, b) => a.batch - b.batch);
  const values = chartValues(pts);
  if (values.length === 0) return null;
  const pad = { l: 44, r: 12, t: 12, b: 48 };
  const w = width - pad.l - pad.r, h = height - pad.t - pad.b;
  let lo = Math.min(...values), hi = Math.max(...values);
  const margin = Math.max(0.01, (hi - lo) * 0.08);
  lo = Math.max(0, lo - margin);
  hi = Math.min(1, hi + margin);
  if (hi <= lo) hi = lo + 0.01;
  const b0 = pts[0].batch, b1 = pts.at(-1)!.batch;
  const x = (b: number) => pad.l + (b1 === b0 ? w / 2 : ((b - b0) / (b1 - b0)) * w);
  const y = (v: number) => pad.t + h - ((v - lo) / (hi - lo)) * h;
  const f = (v: number) => v.toFixed(1);
  const line = (get: (p: AucHistoryPoint) => number | null) => {
    const segs: string[] = [];
    let pen = "M";
    for (const p of pts) {
      const v = get(p);
      if (v === null || !Number.isFinite(v)) {
        pen = "M";
        continue;
      }
      segs.push(`${pen}${f(x(p.batch))},${f(y(v))}`);
      pen = "L";
    }
    return segs.join(" ");
  };
  const banded = pts.filter((p) => p.ciLow !== null && p.ciHigh !== null);
  const dots = (get: (p: AucHistoryPoint) => number | null, colour: string, name: string) =>
    pts.map((p) => {
      const v = get(p);
      return v === null || !Number.isFinite(v)
        ? null
        : (
          <circle cx={f(x(p.batch))} cy={f(y(v))} r="2.5" fill={colour}>
            <title>{`batch ${p.batch}: ${name} ${v.toFixed(4)}`}</title>
          </circle>
        );
    });
  const every = Math.max(1, Math.ceil(pts.length / 8));
  const ly = height - 10;
  return (
    <SvgFrame width={width} height={height} label="estimated vs realized ROC AUC by batch">
      <g class="axes">
        <line x1={pad.l} y1={pad.t + h} x2={width - pad.r} y2={pad.t + h} stroke="#999" />
        <line x1={pad.l} y1={pad.t} x2={pad.l} y2={pad.t + h} stroke="#999" />
        {[lo, (lo + hi) / 2, hi].map((v) => (
          <text x={pad.l - 4} y={f(y(v) + 3)} text-anchor="end">{v.toFixed(3)}</text>
        ))}
        {pts.filter((_, i) => i % every === 0).map((p) => (
          <text x={f(x(p.batch))} y={pad.t + h + 14} text-anchor="middle">{p.batch}</text>
        ))}
        <text x={pad.l + w / 2} y={pad.t + h + 26} text-anchor="middle">batch</text>
        <text
          x="10"
          y={pad.t + h / 2}
          transform={`rotate(-90 10 ${pad.t + h / 2})`}
          text-anchor="middle"
        >
          ROC AUC
        </text>
      </g>
      {banded.length
        ? (
          <path
            class="interval"
            d={`M${banded.map((p) => `${f(x(p.batch))},${f(y(p.ciHigh!))}`).join(" L")} L${
              [...banded].reverse().map((p) => `${f(x(p.batch))},${f(y(p.ciLow!))}`).join(" L")
            } Z`}
            fill={EST}
            fill-opacity="0.18"
            stroke="none"
          />
        )
        : null}
      <path class="estimated" d={line((p) => p.estimated)} fill="none" stroke={EST} />
      <path class="realized" d={line((p) => p.realized)} fill="none" stroke={REAL} />
      {dots((p) => p.estimated, EST, "estimated")}
      {dots((p) => p.realized, REAL, "realized")}
      {pts.filter((p) => p.alarms.length > 0).map((p) => (
        <g class="alarm">
          <title>{`batch ${p.batch}: sequential alarm (${p.alarms.join(", ")})`}</title>
          <line
            x1={f(x(p.batch))}
            y1={pad.t}
            x2={f(x(p.batch))}
            y2={pad.t + h}
            stroke={ALARM}
            stroke-dasharray="3,3"
          />
          <path d={`M${f(x(p.batch))},${pad.t} l-4,-6 h8 z`} fill={ALARM} />
        </g>
      ))}
      <g class="legend">
        <rect x={pad.l} y={ly - 9} width="14" height="10" fill={EST} fill-opacity="0.3" />
        <text x={pad.l + 18} y={ly}>estimated (CBPE) with interval</text>
        <circle cx={pad.l + 200} cy={ly - 4} r="4" fill={REAL} />
        <text x={pad.l + 208} y={ly}>realized (labels landed)</text>
        <line
          x1={pad.l + 350}
          y1={ly - 9}
          x2={pad.l + 350}
          y2={ly + 1}
          stroke={ALARM}
          stroke-dasharray="3,3"
        />
        <text x={pad.l + 356} y={ly}>sequential alarm</text>
      </g>
    </SvgFrame>
  );
}
