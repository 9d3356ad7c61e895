/**
 * The drift page's chart of the champion's ROC AUC per batch over time: realized (solid), estimated
 * without labels with its interval (dashed), the reference (out-of-time holdout) as a line or band
 * per batch, the chance level, markers where the champion changed, where drift was injected, where
 * the estimate and the realized value parted and where a sequential detector alarmed, and a strip
 * of each batch's severity under the x-axis.
 *
 * @example
 * ```tsx
 * import { AucChart } from "./auc_chart.tsx";
 * import type { DriftRow } from "../services/monitoring_data.ts";
 *
 * const section = (rows: DriftRow[]) => <AucChart rows={rows} />; // rows: latestPass(driftRows(…))
 * ```
 */
import type { FC } from "hono/jsx";
import type { DriftRow } from "../services/monitoring_data.ts";
import { batchAxis } from "./batch_axis.ts";
import { actionText, batchDay, fmt3, fmtInterval, SEVERITY_COLOUR } from "./drift_format.ts";

const AUC_COLOURS = {
  realized: "#17324d",
  estimated: "#00838f",
  reference: "#8d6e63",
  band: "#efe6e1",
  chance: "#9e9e9e",
  champion: "#37474f",
  injected: "#c62828",
  injectedFill: "#fdecea",
  alarm: "#ef6c00",
};

/** The y range of the AUC chart: every stored value, padded, on a 0.05 grid within [0, 1]. */
export function aucRange(rows: DriftRow[]): [number, number] | null {
  const vs = rows.flatMap((r) => {
    const m = r.metrics.roc_auc;
    if (!m) return [];
    return [
      m.realized,
      m.reference,
      m.estimated,
      ...(m.referenceInterval ?? []),
      ...(m.estimatedInterval ?? []),
    ].filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  });
  if (vs.length === 0) return null;
  const lo = Math.max(0, Math.floor((Math.min(...vs) - 0.02) / 0.05) * 0.05);
  const hi = Math.min(1, Math.ceil((Math.max(...vs) + 0.02) / 0.05) * 0.05);
  return [lo, Math.max(hi, lo + 0.05)];
}

/**
 * The champion's ROC AUC per batch over time: realized (solid), estimated without labels with its
 * interval (dashed, when stored), the reference (out-of-time holdout) as a line or band per batch,
 * the chance level, markers where the champion changed and where drift was injected, and a strip
 * of each batch's severity under the x-axis.
 */
export const AucChart: FC<{ rows: DriftRow[] }> = ({ rows }) => {
  const range = aucRange(rows);
  if (!range) {
    return (
      <p class="muted">
        No ROC AUC recorded for these batches (no labels and no estimate): the chart needs the
        champion's realized or estimated AUC.
      </p>
    );
  }
  const [lo, hi] = range;
  const w = 820, h = 346, l = 52, r = 24, t = 66, b = 74; // t: room for two legend rows
  const pb = h - b; // bottom of the plot area
  const axis = batchAxis(rows);
  const x = (i: number) => l + axis.at(i) * (w - l - r);
  const y = (v: number) => t + (hi - v) / (hi - lo) * (pb - t);
  // each batch owns the span halfway to its neighbours (one batch: a fixed width)
  const half = (i: number, dir: -1 | 1) => {
    const j = i + dir;
    const d = j >= 0 && j < rows.length
      ? Math.abs(x(j) - x(i)) / 2
      : rows.length > 1
      ? Math.abs(x(i) - x(i - dir)) / 2
      : 20;
    return Math.max(l, Math.min(w - r, x(i) + dir * d));
  };
  const auc = rows.map((row) => row.metrics.roc_auc);
  const step = hi - lo > 0.3 ? 0.1 : 0.05;
  const yTicks: number[] = [];
  for (let v = lo; v <= hi + 1e-9; v += step) yTicks.push(Math.round(v * 100) / 100);
  const segments = (get: (i: number) => number | null | undefined) => {
    const out: string[] = [];
    let cur: string[] = [];
    rows.forEach((_, i) => {
      const v = get(i);
      if (v === null || v === undefined) {
        if (cur.length > 1) out.push(cur.join(" "));
        cur = [];
      } else cur.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
    });
    if (cur.length > 1) out.push(cur.join(" "));
    return out;
  };
  const hasEstimate = auc.some((m) => m?.estimated !== null && m?.estimated !== undefined);
  const hasReference = auc.some((m) => m?.reference !== null && m?.reference !== undefined);
  const hasBand = auc.some((m) => m?.referenceInterval);
  const changes = rows.flatMap((row, i) =>
    i > 0 && row.championVersion !== null && rows[i - 1].championVersion !== null &&
      row.championVersion !== rows[i - 1].championVersion
      ? [{ i, from: rows[i - 1].championVersion, to: row.championVersion }]
      : []
  );
  const injected = rows.flatMap((row, i) => (row.injected.length > 0 ? [i] : []));
  const onsets = injected.filter((i) => !injected.includes(i - 1));
  const showChance = lo <= 0.5 && hi >= 0.5;
  const departed = rows.flatMap((_, i) =>
    auc[i]?.departed === true && auc[i]?.realized !== null ? [i] : []
  );
  const alarms = rows.flatMap((row, i) => (row.sequentialAlarms.length > 0 ? [i] : []));
  const legend: { key: string; label: string; symbol: unknown }[] = [
    {
      key: "realized",
      label: "realized (labels)",
      symbol: (
        <g>
          <line x1="0" x2="22" y1="0" y2="0" stroke={AUC_COLOURS.realized} stroke-width="2" />
          <circle cx="11" cy="0" r="3.5" fill={AUC_COLOURS.realized} />
        </g>
      ),
    },
    ...(hasEstimate
      ? [{
        key: "estimated",
        label: "estimated (no labels) ± interval",
        symbol: (
          <g>
            <line
              x1="0"
              x2="22"
              y1="0"
              y2="0"
              stroke={AUC_COLOURS.estimated}
              stroke-width="2"
              stroke-dasharray="4 3"
            />
            <line x1="11" x2="11" y1="-6" y2="6" stroke={AUC_COLOURS.estimated} />
            <circle cx="11" cy="0" r="3.5" fill="#fff" stroke={AUC_COLOURS.estimated} />
          </g>
        ),
      }]
      : []),
    ...(hasReference
      ? [{
        key: "reference",
        label: hasBand ? "reference ± interval" : "reference (holdout)",
        symbol: (
          <g>
            {hasBand ? <rect x="0" y="-6" width="22" height="12" fill={AUC_COLOURS.band} /> : null}
            <line x1="0" x2="22" y1="0" y2="0" stroke={AUC_COLOURS.reference} stroke-width="2" />
          </g>
        ),
      }]
      : []),
    ...(showChance
      ? [{
        key: "chance",
        label: "chance (0.5)",
        symbol: (
          <line
            x1="0"
            x2="22"
            y1="0"
            y2="0"
            stroke={AUC_COLOURS.chance}
            stroke-dasharray="2 2"
          />
        ),
      }]
      : []),
    ...(departed.length > 0
      ? [{
        key: "departed",
        label: "estimate and realized parted",
        symbol: (
          <circle cx="11" cy="0" r="6" fill="none" stroke={AUC_COLOURS.injected} stroke-width="2" />
        ),
      }]
      : []),
    ...(alarms.length > 0
      ? [{
        key: "sequential-alarm",
        label: "sequential alarm",
        symbol: <path d="M5,-5 L17,-5 L11,5 Z" fill={AUC_COLOURS.alarm} />,
      }]
      : []),
    ...(changes.length > 0
      ? [{
        key: "champion-change",
        label: "champion changed",
        symbol: (
          <line
            x1="11"
            x2="11"
            y1="-7"
            y2="7"
            stroke={AUC_COLOURS.champion}
            stroke-width="2"
            stroke-dasharray="5 2"
          />
        ),
      }]
      : []),
    ...(injected.length > 0
      ? [{
        key: "injected",
        label: "drift injected",
        symbol: (
          <g>
            <rect x="2" y="-7" width="18" height="14" fill={AUC_COLOURS.injectedFill} />
            <line x1="2" x2="2" y1="-7" y2="7" stroke={AUC_COLOURS.injected} stroke-width="2" />
          </g>
        ),
      }]
      : []),
  ];
  // legend items laid out left to right, wrapping onto a second row
  let lx = l, ly = 14;
  const placed = legend.map((item) => {
    const width = 30 + item.label.length * 6 + 14;
    if (lx + width > w - r) {
      lx = l;
      ly += 18;
    }
    const at = { ...item, x: lx, y: ly };
    lx += width;
    return at;
  });
  const stripY = pb + 46;
  return (
    <svg
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      role="img"
      aria-label="champion ROC AUC per batch over time"
      font-size="11"
      class="auc-chart"
    >
      {injected.map((i) => (
        <rect
          class="marker injected"
          x={half(i, -1)}
          y={t}
          width={half(i, 1) - half(i, -1)}
          height={pb - t}
          fill={AUC_COLOURS.injectedFill}
        >
          <title>
            {`batch ${rows[i].batch}${batchDay(rows[i])}: injected ${rows[i].injected.join(", ")}`}
          </title>
        </rect>
      ))}
      {yTicks.map((v) => (
        <g class="y-tick">
          <line x1={l} x2={w - r} y1={y(v)} y2={y(v)} stroke="#e5e8ec" />
          <text x={l - 5} y={y(v) + 4} text-anchor="end">{v.toFixed(2)}</text>
        </g>
      ))}
      {rows.map((_, i) => {
        const ref = auc[i];
        if (!ref || ref.reference === null) return null;
        const [x0, x1] = [half(i, -1), half(i, 1)];
        return (
          <g class="reference">
            {ref.referenceInterval
              ? (
                <rect
                  x={x0}
                  width={x1 - x0}
                  y={y(Math.min(hi, ref.referenceInterval[1]))}
                  height={Math.max(
                    0,
                    y(Math.max(lo, ref.referenceInterval[0])) -
                      y(Math.min(hi, ref.referenceInterval[1])),
                  )}
                  fill={AUC_COLOURS.band}
                />
              )
              : null}
            <line
              x1={x0}
              x2={x1}
              y1={y(ref.reference)}
              y2={y(ref.reference)}
              stroke={AUC_COLOURS.reference}
              stroke-width="2"
            >
              <title>
                {`batch ${rows[i].batch}${batchDay(rows[i])}: reference ${fmt3(ref.reference)} ${
                  fmtInterval(ref.referenceInterval)
                }`}
              </title>
            </line>
          </g>
        );
      })}
      {showChance
        ? (
          <g class="threshold chance">
            <line
              x1={l}
              x2={w - r}
              y1={y(0.5)}
              y2={y(0.5)}
              stroke={AUC_COLOURS.chance}
              stroke-dasharray="2 2"
            />
            <text x={w - r - 2} y={y(0.5) - 3} text-anchor="end" fill="#757575">
              chance 0.5
            </text>
          </g>
        )
        : null}
      <line x1={l} x2={w - r} y1={pb} y2={pb} stroke="#6b7785" />
      <line x1={l} x2={l} y1={t} y2={pb} stroke="#6b7785" />
      {axis.ticks.map((tk) => (
        <g class="x-tick">
          <line
            x1={l + tk.pos * (w - l - r)}
            x2={l + tk.pos * (w - l - r)}
            y1={pb}
            y2={pb + 4}
            stroke="#6b7785"
          />
          <text x={l + tk.pos * (w - l - r)} y={pb + 16} text-anchor="middle">{tk.label}</text>
        </g>
      ))}
      <text x={(w + l - r) / 2} y={pb + 32} text-anchor="middle" class="axis-title">
        {axis.title}
      </text>
      <text
        x={14}
        y={(t + pb) / 2}
        text-anchor="middle"
        transform={`rotate(-90 14 ${(t + pb) / 2})`}
        class="axis-title"
      >
        champion's ROC AUC
      </text>
      {segments((i) => auc[i]?.estimated).map((pts) => (
        <polyline
          class="estimated"
          points={pts}
          fill="none"
          stroke={AUC_COLOURS.estimated}
          stroke-width="1.5"
          stroke-dasharray="4 3"
        />
      ))}
      {segments((i) => auc[i]?.realized).map((pts) => (
        <polyline
          class="realized"
          points={pts}
          fill="none"
          stroke={AUC_COLOURS.realized}
          stroke-width="2"
        />
      ))}
      {rows.map((row, i) => {
        const m = auc[i];
        if (!m || m.estimated === null) return null;
        const iv = m.estimatedInterval;
        return (
          <g class="estimated-point">
            {iv
              ? (
                <line
                  class="estimated-interval"
                  x1={x(i)}
                  x2={x(i)}
                  y1={y(Math.min(hi, iv[1]))}
                  y2={y(Math.max(lo, iv[0]))}
                  stroke={AUC_COLOURS.estimated}
                  stroke-width="1.5"
                />
              )
              : null}
            <circle cx={x(i)} cy={y(m.estimated)} r="4" fill="#fff" stroke={AUC_COLOURS.estimated}>
              <title>
                {`batch ${row.batch}${batchDay(row)}: estimated ${fmt3(m.estimated)} ${
                  fmtInterval(iv)
                }`}
              </title>
            </circle>
          </g>
        );
      })}
      {rows.map((row, i) => {
        const m = auc[i];
        if (!m || m.realized === null) return null;
        return (
          <circle
            class="realized-point"
            cx={x(i)}
            cy={y(m.realized)}
            r="4"
            fill={AUC_COLOURS.realized}
          >
            <title>
              {`batch ${row.batch}${batchDay(row)}: realized ${fmt3(m.realized)}, reference ${
                fmt3(m.reference)
              }; ${row.severity ?? "?"} → ${actionText(row)}`}
            </title>
          </circle>
        );
      })}
      {departed.map((i) => (
        <circle
          class="marker departed"
          cx={x(i)}
          cy={y(auc[i]!.realized!)}
          r="8"
          fill="none"
          stroke={AUC_COLOURS.injected}
          stroke-width="2"
        >
          <title>
            {`batch ${rows[i].batch}${batchDay(rows[i])}: realized ${
              fmt3(auc[i]!.realized)
            } outside what the estimate ${
              fmt3(auc[i]!.estimated)
            } allowed — the estimate assumes no concept change`}
          </title>
        </circle>
      ))}
      {alarms.map((i) => (
        <path
          class="marker sequential-alarm"
          d={`M${x(i) - 6},${t - 10} L${x(i) + 6},${t - 10} L${x(i)},${t - 1} Z`}
          fill={AUC_COLOURS.alarm}
        >
          <title>
            {`batch ${rows[i].batch}${batchDay(rows[i])}: sequential alarm — ${
              rows[i].sequentialAlarms.join(", ")
            }`}
          </title>
        </path>
      ))}
      {changes.map((c) => {
        const cx = (x(c.i - 1) + x(c.i)) / 2;
        return (
          <g class="marker champion-change">
            <line
              x1={cx}
              x2={cx}
              y1={t - 4}
              y2={pb}
              stroke={AUC_COLOURS.champion}
              stroke-width="1.5"
              stroke-dasharray="5 2"
            />
            <text
              x={cx + 3}
              y={t + 8}
              fill={AUC_COLOURS.champion}
              stroke="#fff"
              stroke-width="3"
              paint-order="stroke"
            >
              {`v${c.from}→v${c.to}`}
            </text>
            <title>
              {`champion changed from v${c.from} to v${c.to} before batch ${rows[c.i].batch}`}
            </title>
          </g>
        );
      })}
      {onsets.map((i) => (
        <g class="marker injected-onset">
          <line
            x1={half(i, -1)}
            x2={half(i, -1)}
            y1={t - 4}
            y2={pb}
            stroke={AUC_COLOURS.injected}
            stroke-width="2"
          />
          <text
            x={half(i, -1) + 3}
            y={pb - 6}
            fill={AUC_COLOURS.injected}
            stroke="#fff"
            stroke-width="3"
            paint-order="stroke"
          >
            {`injected: ${rows[i].injected.join(", ")}`}
          </text>
        </g>
      ))}
      <g class="severity-strip">
        <text x={l - 5} y={stripY + 9} text-anchor="end">severity</text>
        {rows.map((row, i) => (
          <rect
            x={half(i, -1) + 0.5}
            y={stripY}
            width={Math.max(1, half(i, 1) - half(i, -1) - 1)}
            height="12"
            fill={SEVERITY_COLOUR[row.severity ?? "none"] ?? "#999"}
          >
            <title>
              {`batch ${row.batch}${batchDay(row)}: ${row.severity ?? "not graded"} → ${
                actionText(row) || "no action"
              }`}
            </title>
          </rect>
        ))}
      </g>
      <g class="legend">
        {placed.map((item) => (
          <g class={`legend-item ${item.key}`} transform={`translate(${item.x} ${item.y})`}>
            {item.symbol}
            <text x="28" y="4">{item.label}</text>
          </g>
        ))}
      </g>
    </svg>
  );
};
