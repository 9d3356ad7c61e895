/**
 * The drift dashboard: per stream, the champion's ROC AUC over time (realized, estimated with its
 * interval, the reference band; markers where the champion changed and where drift was injected),
 * the drifted share and severity of each batch (SVG), a heatmap per statistic of per-column drift
 * over batches, the batch table (AUC, action and its reasons, links to each HTML report) — the same
 * as `deno task monitoring` and the demo's table — and the alerts with suppressed repeats folded.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { type AlertRow, driftRow } from "../services/monitoring_data.ts";
 * import { DriftPage } from "./drift.tsx";
 * // two monitored batches, as drift_metrics stores them (driftRows(db) reads them so)
 * const batch = (n: number, severity: string, auc: number) =>
 *   driftRow({
 *     id: n + 1, at: "2026-01-01T00:00:00Z", run_id: 1, stream: "flights", batch: n, rows: 500,
 *     drifted_share: n / 2, severity, action: "none", model: "flights_delay", champion_version: 1,
 *     roc_auc: auc, report_html: null, report_json: null, reasons: [], metrics: {},
 *     retrained: false, promoted: false,
 *     details: { columns: { distance: { test: "ks", statistic: n * 0.3, drifted: n > 0 } } },
 *   });
 * const rows = [batch(0, "none", 0.71), batch(1, "major", 0.62)];
 * const alerts: AlertRow[] = [{
 *   id: 1, at: "2026-01-01T00:00:00.000Z", level: "warning", key: "drift:flights",
 *   title: "major drift on flights", message: "distance drifted", dagId: "drift_monitoring",
 *   runId: 1, suppressed: false,
 * }];
 * const html = String(
 *   <DriftPage streams={["flights"]} stream="flights" rows={rows} alerts={alerts} />,
 * );
 * assert.match(html, /Drift · flights/);
 * assert.match(html, /major drift on flights/);
 * ```
 */
import type { FC } from "hono/jsx";
import { type AlertRow, type DriftRow, latestPass } from "../services/monitoring_data.ts";
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
 * Returns each batch's position in [0, 1] and about `n` labelled ticks, each on a batch.
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
    // ticks sit on batches (every few), so a label names a point's own date
    const every = Math.max(1, Math.ceil(rows.length / n));
    const ticks = times.flatMap((t, i) =>
      i % every === 0
        ? [{ pos: (t - lo) / span, label: new Date(t).toISOString().slice(0, 10) }]
        : []
    );
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

/** The action as the monitoring table prints it: "retrain (promoted)", "retrain (kept)", "log". */
export function actionText(r: Pick<DriftRow, "action" | "retrained" | "promoted">): string {
  return (r.action ?? "") + (r.promoted ? " (promoted)" : r.retrained ? " (kept)" : "");
}

const fmt3 = (v: number | null | undefined) => v === null || v === undefined ? "–" : v.toFixed(3);
const fmtInterval = (iv: [number, number] | null) =>
  iv ? `[${iv[0].toFixed(3)}, ${iv[1].toFixed(3)}]` : "";
const day = (r: DriftRow) => (r.from ? ` (${r.from.slice(0, 10)})` : "");

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
const AucChart: FC<{ rows: DriftRow[] }> = ({ rows }) => {
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
            {`batch ${rows[i].batch}${day(rows[i])}: injected ${rows[i].injected.join(", ")}`}
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
                {`batch ${rows[i].batch}${day(rows[i])}: reference ${fmt3(ref.reference)} ${
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
                {`batch ${row.batch}${day(row)}: estimated ${fmt3(m.estimated)} ${fmtInterval(iv)}`}
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
              {`batch ${row.batch}${day(row)}: realized ${fmt3(m.realized)}, reference ${
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
            {`batch ${rows[i].batch}${day(rows[i])}: realized ${
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
            {`batch ${rows[i].batch}${day(rows[i])}: sequential alarm — ${
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
              {`batch ${row.batch}${day(row)}: ${row.severity ?? "not graded"} → ${
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

/** Alerts as the page lists them: a sent alert alone, repeated suppressed ones folded into one. */
export interface AlertGroup {
  /** The newest alert of the group. */
  latest: AlertRow;
  count: number;
  firstAt: string;
  lastAt: string;
  suppressed: boolean;
}

/**
 * Folds suppressed repeats (same key, level and title, with no sent alert of that key between
 * them) into one group with their count and first/last time. Input and output newest first.
 */
export function foldAlerts(alerts: readonly AlertRow[]): AlertGroup[] {
  const out: AlertGroup[] = [];
  const open = new Map<string, AlertGroup>();
  for (const a of alerts) {
    if (!a.suppressed) {
      open.delete(a.key);
      out.push({ latest: a, count: 1, firstAt: a.at, lastAt: a.at, suppressed: false });
      continue;
    }
    const g = open.get(a.key);
    if (g && g.latest.level === a.level && g.latest.title === a.title) {
      g.count++;
      g.firstAt = a.at < g.firstAt ? a.at : g.firstAt;
      continue;
    }
    const fresh = { latest: a, count: 1, firstAt: a.at, lastAt: a.at, suppressed: true };
    open.set(a.key, fresh);
    out.push(fresh);
  }
  return out;
}

const when = (iso: string) => iso.replace("T", " ").slice(0, 19);

/** "why:" and the first reason (as `deno task monitoring` prints it), the rest behind a disclosure. */
const Reasons: FC<{ reasons: string[] }> = ({ reasons }) =>
  reasons.length === 0 ? <span class="muted">–</span> : reasons.length === 1
    ? (
      <span>
        <span class="muted">why:</span> {reasons[0]}
      </span>
    )
    : (
      <details>
        <summary>
          <span class="muted">why:</span> {reasons[0]}{" "}
          <span class="muted">(+{reasons.length - 1} more)</span>
        </summary>
        <ul style="margin:4px 0;padding-left:18px">
          {reasons.slice(1).map((x, k) => <li key={k}>{x}</li>)}
        </ul>
      </details>
    );

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

const AucCell: FC<{ v: number | null; iv?: [number, number] | null; none?: string }> = (
  { v, iv, none },
) => (
  <td style="text-align:right;white-space:nowrap">
    {v === null ? <span class="muted" style="font-size:12px">{none ?? "–"}</span> : v.toFixed(3)}
    {iv ? <div class="muted" style="font-size:11px">{fmtInterval(iv)}</div> : null}
  </td>
);

export const DriftPage: FC<
  { streams: string[]; stream: string | null; rows: DriftRow[]; alerts: AlertRow[] }
> = (p) => {
  const rows = latestPass(p.rows);
  const alerts = foldAlerts(p.alerts);
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
            No monitored batch yet: run <code>drift_monitoring</code> (or{" "}
            <code>deno task demo</code>).
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
            <style>
              {"table.batches{font-size:13px}table.batches th,table.batches td{padding:5px 7px}" +
                "table.batches tr.has-why td{border-bottom:0}"}
            </style>
            <div style="overflow-x:auto">
              <table class="batches">
                <thead>
                  <tr>
                    <th>batch</th>
                    <th>from</th>
                    <th>severity</th>
                    <th>action</th>
                    <th title="the champion's version when the batch was judged">champion</th>
                    <th title="the champion's ROC AUC on its out-of-time holdout">AUC reference</th>
                    <th title="the champion's ROC AUC on the batch's labels">AUC realized</th>
                    <th title="estimated without labels, with its interval">AUC estimated</th>
                    <th title="share of columns that drifted">drifted</th>
                    <th title="columns, data-quality checks and the prediction that changed significantly">
                      changed
                    </th>
                    <th title="ground truth: drift injected into the batch">injected</th>
                    <th>report</th>
                  </tr>
                </thead>
                <tbody>
                  {[...rows].reverse().map((r) => {
                    const auc = r.metrics.roc_auc;
                    const why = r.reasons.length > 0 || r.verdicts.length > 1 ||
                      r.sequentialAlarms.length > 0;
                    const main = (
                      <tr key={`b${r.id}`} class={why ? "has-why" : ""}>
                        <td>
                          <a href={`/runs/${r.runId}`} title={`${r.rows} rows; its run`}>
                            {r.batch}
                          </a>
                        </td>
                        <td style="white-space:nowrap">{r.from?.slice(0, 10) ?? ""}</td>
                        <td>
                          {r.severity
                            ? (
                              <span
                                class="state"
                                title={r.errorRate ?? ""}
                                style={`background:${SEVERITY_COLOUR[r.severity] ?? "#999"}`}
                              >
                                {r.severity}
                              </span>
                            )
                            : null}
                        </td>
                        <td class="action">{actionText(r)}</td>
                        <td style="white-space:nowrap" title={r.model ?? ""}>
                          {r.championVersion === null ? "" : `v${r.championVersion}`}
                        </td>
                        <AucCell v={auc?.reference ?? null} iv={auc?.referenceInterval} />
                        <AucCell v={auc?.realized ?? null} none="no labels yet" />
                        <AucCell v={auc?.estimated ?? null} iv={auc?.estimatedInterval} />
                        <td>
                          {r.driftedShare === null ? "" : `${(r.driftedShare * 100).toFixed(0)}%`}
                        </td>
                        <td>{r.driftedColumns.join(", ")}</td>
                        <td>{r.injected.join(", ")}</td>
                        <td>
                          {r.reportHtml
                            ? <a href={`/artifacts/${r.reportHtml}?type=html`}>HTML</a>
                            : null} {r.reportJson
                            ? <a href={`/artifacts/${r.reportJson}?type=json`}>JSON</a>
                            : null}
                        </td>
                      </tr>
                    );
                    // the reasons under their batch, across the table (they are sentences)
                    return why
                      ? [
                        main,
                        <tr key={`r${r.id}`} class="reasons-row">
                          <td></td>
                          <td colspan={11} class="reasons" style="font-size:13px;padding-top:0">
                            <Reasons reasons={r.reasons} />
                            {r.verdicts.length > 1
                              ? (
                                <div class="verdicts">
                                  {r.verdicts.map((v, k) => (
                                    <span key={k} style="margin-right:14px">
                                      <span class="muted">
                                        {v.kind === "labels"
                                          ? "when its labels landed:"
                                          : "when the batch came (no labels):"}
                                      </span>{" "}
                                      {`${v.severity} → ${v.action}`}
                                    </span>
                                  ))}
                                </div>
                              )
                              : null}
                            {r.sequentialAlarms.length > 0
                              ? (
                                <div class="sequential-alarms">
                                  <span class="muted">sequential alarm:</span>{" "}
                                  {r.sequentialAlarms.join(", ")}
                                </div>
                              )
                              : null}
                            {r.errorRate
                              ? (
                                <div class="muted error-rate">
                                  {`the grade's error rate: ${r.errorRate}`}
                                </div>
                              )
                              : null}
                          </td>
                        </tr>,
                      ]
                      : main;
                  })}
                </tbody>
              </table>
            </div>
          </div>
        )}
      <h2>Alerts</h2>
      {alerts.length === 0 ? <p class="muted">No alerts.</p> : (
        <table class="alerts">
          <thead>
            <tr>
              <th>time (UTC)</th>
              <th>level</th>
              <th>alert key</th>
              <th>title</th>
              <th>run</th>
              <th>delivery</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((g) => (
              <tr class={g.suppressed ? "suppressed" : "sent"}>
                <td style="white-space:nowrap">
                  {g.count > 1 ? `${when(g.firstAt)} – ${when(g.lastAt)}` : when(g.lastAt)}
                </td>
                <td>{g.latest.level}</td>
                <td>{g.latest.key}</td>
                <td title={g.latest.message}>{g.latest.title}</td>
                <td>
                  {g.latest.runId ? <a href={`/runs/${g.latest.runId}`}>{g.latest.runId}</a> : ""}
                  {g.count > 1 && g.latest.runId ? <span class="muted">(latest)</span> : null}
                </td>
                <td class="muted">
                  {g.suppressed
                    ? g.count > 1
                      ? `suppressed ×${g.count} (cooldown: repeats folded)`
                      : "suppressed (cooldown)"
                    : "sent"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
};
