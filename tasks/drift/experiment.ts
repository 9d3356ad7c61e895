/**
 * Drift-injection experiments in the manner of "Failing Loudly" (Rabanser, Günnemann and Lipton,
 * 2019): for each injection × batch size × seed, a clean control batch and a drifted batch are
 * judged by every detector; power is the share of drifted batches flagged, the false-positive rate
 * the share of control batches flagged. Detectors: each univariate test applied to every column
 * (a batch is flagged when any column drifts), Evidently's default test choice, the domain
 * classifier, and the severity policy (flagged unless `none`).
 *
 * @example
 * ```ts
 * import { runCell, summarise, renderExperimentHtml } from "./experiment.ts";
 * const rows = runCell(reference, pool, { injection: { name: "shift", drift }, batchSize: 500, seed: 1, detectors: ["ks", "default"] });
 * ```
 */
import { rowCount, type Table, takeRows } from "../data/table.ts";
import { Random } from "../random.ts";
import { detectDrift, driftVerdict } from "./detect.ts";
import { type DriftSpec, injectDrift } from "./inject.ts";
import type { DriftReport, TestName } from "./schema.ts";
import { evaluateSeverity, type SeverityPolicy } from "./severity.ts";

/** A detector: a univariate test on every column, Evidently's defaults, the domain classifier or severity. */
export type Detector =
  | Exclude<TestName, "domain_classifier">
  | "default"
  | "domain_classifier"
  | "severity";

/** One named injection. */
export interface Injection {
  name: string;
  drift: DriftSpec;
}

/** One detector's verdicts on one cell. */
export interface CellResult {
  injection: string;
  batchSize: number;
  seed: number;
  detector: Detector;
  detected: boolean;
  falsePositive: boolean;
}

const isTest = (d: Detector): d is Exclude<TestName, "domain_classifier"> =>
  d !== "default" && d !== "domain_classifier" && d !== "severity";

/**
 * Every detector's verdict on one batch from a single detectDrift pass: each column's samples are
 * prepared once, the univariate tests come as `extraTests`, the domain classifier only when asked.
 */
function verdicts(
  reference: Table,
  batch: Table,
  detectors: Detector[],
  features: string[],
  seed: number,
  policy: SeverityPolicy,
): Map<Detector, boolean> {
  const report: DriftReport = detectDrift(reference, batch, {
    only: features,
    seed,
    histograms: false,
    multivariate: detectors.includes("domain_classifier"),
    extraTests: detectors.filter(isTest),
  });
  const byTest = (t: Exclude<TestName, "domain_classifier">) =>
    report.columns.some((c) =>
      c.test === t ? c.drifted : c.extra?.[t] !== undefined && driftVerdict(t, c.extra[t])
    );
  return new Map(detectors.map((d): [Detector, boolean] => [
    d,
    d === "default" ? report.columns.some((c) => c.drifted) : d === "severity"
      // the severity policy judges the univariate report, as drift_monitoring uses it
      ? evaluateSeverity({ ...report, multivariate: undefined }, policy).severity !== "none"
      : d === "domain_classifier"
      ? report.multivariate?.drifted ?? false
      : byTest(d),
  ]));
}

/** Judges a clean and a drifted batch (drawn from `pool`) with every detector. */
export function runCell(
  reference: Table,
  pool: Table,
  cell: {
    injection: Injection;
    batchSize: number;
    seed: number;
    detectors: Detector[];
    features: string[];
    policy?: SeverityPolicy;
  },
): CellResult[] {
  const rng = new Random(cell.seed * 104_729 + cell.batchSize);
  const n = rowCount(pool);
  const perm = rng.permutation(n);
  const clean = takeRows(pool, perm.subarray(0, cell.batchSize));
  const drifted = injectDrift(
    takeRows(pool, perm.subarray(cell.batchSize, 2 * cell.batchSize)),
    cell.injection.drift,
    {
      seed: cell.seed,
    },
  ).table;
  const onDrifted = verdicts(
    reference,
    drifted,
    cell.detectors,
    cell.features,
    cell.seed,
    cell.policy ?? {},
  );
  const onClean = verdicts(
    reference,
    clean,
    cell.detectors,
    cell.features,
    cell.seed,
    cell.policy ?? {},
  );
  return cell.detectors.map((detector) => ({
    injection: cell.injection.name,
    batchSize: cell.batchSize,
    seed: cell.seed,
    detector,
    detected: onDrifted.get(detector)!,
    falsePositive: onClean.get(detector)!,
  }));
}

/** Power and false-positive rate per injection × batch size × detector. */
export interface Summary {
  injection: string;
  batchSize: number;
  detector: Detector;
  runs: number;
  power: number;
  falsePositiveRate: number;
}

export function summarise(results: CellResult[]): Summary[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const k = JSON.stringify([r.injection, r.batchSize, r.detector]);
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => ({
    injection: g[0].injection,
    batchSize: g[0].batchSize,
    detector: g[0].detector,
    runs: g.length,
    power: g.filter((r) => r.detected).length / g.length,
    falsePositiveRate: g.filter((r) => r.falsePositive).length / g.length,
  }));
}

const esc = (s: string) =>
  s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/**
 * Heatmap colour scales. Power: higher is better, red (0 %) to green (100 %). False positives:
 * lower is better, green up to the stated α (5 %), amber beyond it, red from 25 %.
 */
export const SCALES = {
  higher: {
    colour: (v: number) => `hsl(${Math.round(120 * v)}, 65%, ${Math.round(88 - 40 * v)}%)`,
    stops: [0, 0.25, 0.5, 0.75, 1],
    note: "higher is better",
  },
  lower: {
    colour: (v: number) => {
      const hue = v <= 0.05 ? 120 - 400 * v : Math.max(0, 100 - (v - 0.05) * 500);
      return `hsl(${Math.round(hue)}, 65%, ${Math.round(80 - 30 * Math.min(1, v / 0.25))}%)`;
    },
    stops: [0, 0.05, 0.1, 0.25, 1],
    note: "lower is better; the stated rate is 5 %",
  },
} as const;

function legend(scale: keyof typeof SCALES, x: number, y: number): string {
  const s = SCALES[scale];
  const bw = 44;
  return s.stops.map((v, i) =>
    `<rect x="${x + i * bw}" y="${y}" width="${bw - 2}" height="12" fill="${
      s.colour(v)
    }"/><text x="${x + i * bw + bw / 2}" y="${y + 24}" text-anchor="middle">${
      (v * 100).toFixed(0)
    }%</text>`
  ).join("") +
    `<text x="${x + s.stops.length * bw + 6}" y="${y + 10}" class="legend-note">${s.note}</text>`;
}

function heatmap(
  title: string,
  rows: string[],
  cols: string[],
  value: (r: string, c: string) => number | undefined,
  scale: keyof typeof SCALES = "higher",
): string {
  const cw = 78, rh = 22, left = 190, top = 70;
  const w = Math.max(left + cols.length * cw + 10, 520), h = top + rows.length * rh + 44;
  const colour = SCALES[scale].colour;
  const cells = rows.flatMap((r, i) =>
    cols.map((c, j) => {
      const v = value(r, c);
      const x = left + j * cw, y = top + i * rh;
      return v === undefined
        ? ""
        : `<rect x="${x}" y="${y}" width="${cw - 2}" height="${rh - 2}" fill="${
          colour(v)
        }"><title>${esc(r)} · ${esc(c)}: ${(v * 100).toFixed(0)}%</title></rect><text x="${
          x + cw / 2
        }" y="${y + 15}" text-anchor="middle">${(v * 100).toFixed(0)}%</text>`;
    })
  ).join("");
  const colLabels = cols.map((c, j) =>
    `<text x="${left + j * cw + cw / 2}" y="${top - 8}" text-anchor="middle">${esc(c)}</text>`
  ).join("");
  const rowLabels = rows.map((r, i) =>
    `<text x="${left - 8}" y="${top + i * rh + 15}" text-anchor="end">${esc(r)}</text>`
  ).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11" role="img" data-scale="${scale}" aria-label="${
    esc(title)
  }"><text x="0" y="20" font-size="14" font-weight="bold">${
    esc(title)
  }</text>${colLabels}${rowLabels}${cells}<g class="legend">${
    legend(scale, left, top + rows.length * rh + 8)
  }</g></svg>`;
}

/** The experiment page: one power heatmap per batch size (injection × detector) and the false-positive rates. */
export function renderExperimentHtml(
  summary: Summary[],
  { title = "Drift detection experiment" } = {},
): string {
  const sizes = [...new Set(summary.map((s) => s.batchSize))].sort((a, b) => a - b);
  const detectors = [...new Set(summary.map((s) => s.detector))];
  const injections = [...new Set(summary.map((s) => s.injection))];
  const find = (inj: string, size: number, det: string) =>
    summary.find((s) => s.injection === inj && s.batchSize === size && s.detector === det);
  const maps = sizes.map((size) =>
    heatmap(
      `Detection rate (power), batches of ${size}`,
      injections,
      detectors,
      (r, c) => find(r, size, c)?.power,
    )
  ).join("\n");
  const fpr = heatmap(
    "False-positive rate on clean control batches",
    sizes.map((s) => `batches of ${s}`),
    detectors,
    (r, c) => {
      const size = Number(r.replace(/\D/g, ""));
      const cells = summary.filter((s) => s.batchSize === size && s.detector === c);
      return cells.length
        ? cells.reduce((t, s) => t + s.falsePositiveRate * s.runs, 0) /
          cells.reduce((t, s) => t + s.runs, 0)
        : undefined;
    },
    "lower",
  );
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}svg{display:block;margin:1rem 0}</style></head><body>
<h1>${esc(title)}</h1>
<p>Each cell: the share of drifted batches a detector flags (power); below, the share of clean control batches it flags (false positives). A univariate test flags a batch when any column drifts.</p>
${maps}
${fpr}
</body></html>`;
}

/** The summary as CSV text. */
export function summaryCsv(summary: Summary[]): string {
  return [
    "injection,batch_size,detector,runs,power,false_positive_rate",
    ...summary.map((s) =>
      [
        JSON.stringify(s.injection),
        s.batchSize,
        s.detector,
        s.runs,
        s.power.toFixed(4),
        s.falsePositiveRate.toFixed(4),
      ].join(",")
    ),
  ].join("\n") + "\n";
}
