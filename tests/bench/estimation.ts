/**
 * `deno task bench estimation`: performance without labels and sequential detection on the real
 * flights data (vega-datasets flights-3m.parquet, in time order). A GBDT champion is trained on
 * the first 300k flights (1–19 January) with the monitored features; the next 300k (19 January –
 * 6 February) are the honest out-of-time reference, split at random into the calibration reference
 * (kept in time order: CBPE measures its calibration-shift τ on contiguous time blocks of it)
 * and a pool of same-period batches (the true null).
 *
 * - Estimation: CBPE's estimated ROC AUC against the realized one on batches of `--batch` rows:
 *   clean (random pool rows), covariate-shifted (pool rows resampled with weights on the features —
 *   longer or shorter flights, evening hours, weekends, hub origins — so P(y | x) holds, which is
 *   what CBPE assumes), and the season's natural drift (later months, where weather and schedule
 *   change P(y | x) too: reported apart). Beside it the no-estimation baseline (the reference's
 *   AUC taken as the batch's), as the ratio. NannyML is not in the local wheel index, so no peer
 *   run; the baseline is the side-by-side.
 * - Sequential: `monitorBatch` streams of `--stream-batch` rows (CUSUM, family ARL0 200 over all
 *   detectors ≈ 0.5 false alarms per 100 batches): clean streams from the pool (false alarms per
 *   100 batches) and an incremental covariate drift (distance tilted a little more each batch up
 *   to a plateau that one batch's tests rarely see):
 *   delay from onset, beside the per-batch tests (KS / pooled χ² per column and KS on the scores,
 *   Holm at 0.05 — the default policy's rule) on the same batches.
 *
 * Figures: estimation.auc_mae (covariate-shifted), estimation.auc_mae_clean,
 * estimation.auc_mae_natural, estimation.auc_mae_baseline (shifted, reference AUC as estimate),
 * estimation.interval_coverage (covariate-shifted batches, 5 × `--batches-per-shift`, with its
 * Clopper–Pearson 95% interval: estimation.interval_coverage_cp_low / _cp_high),
 * estimation.interval_coverage_clean, detection.sequential_delay (median batches),
 * detection.sequential_false_alarms (per 100 clean batches), detection.per_batch_delay (median
 * first flag of the per-batch tests at the same false-alarm rate, Holm at 1/200).
 *
 * @example
 * ```sh
 * deno task bench estimation [--batch 20000] [--stream-batch 1000] [--seeds 12]
 *   [--batches-per-shift 20] [--svg out.svg]
 * ```
 */
import { parseArgs } from "node:util";
import { predictModel, trainModel } from "../../models/model.ts";
import { rocAuc } from "../../models/metrics.ts";
import { flightFeatures, loadFlights } from "../../tasks/data/flights.ts";
import { dataDir } from "../../tasks/data/prepare.ts";
import { rowCount, sampleRows, type Table, takeRows } from "../../models/core/table.ts";
import {
  type BatchMonitorOptions,
  fitReferenceCbpe,
  monitorBatch,
  type SequentialState,
} from "../../tasks/drift/batch_monitor.ts";
import { estimatePerformance, fitCbpe, normalUpper } from "../../tasks/drift/cbpe.ts";
import { binomialCdf, binomialSf } from "../../tasks/drift/special.ts";
import { adjustPValues } from "../../tasks/drift/correction.ts";
import { chiSquarePooledTest } from "../../tasks/drift/policy_stats.ts";
import { ksTest } from "../../tasks/drift/stattests.ts";
import { FLIGHT_FEATURES } from "../../tasks/monitoring/flights.ts";
import { Random } from "../../models/core/random.ts";
import { type Figure, printFigures, progress } from "./report.ts";

const NUMERIC = new Set(["day_of_week", "hour", "distance"]);

/** Row weights of a covariate shift over a table (P(y | x) untouched: rows are only reweighted). */
type Shift = { name: string; weight: (t: Table, i: number) => number };

function zOf(col: Float64Array): (v: number) => number {
  let m = 0;
  for (const v of col) m += v;
  m /= col.length;
  let s = 0;
  for (const v of col) s += (v - m) ** 2;
  const sd = Math.sqrt(s / col.length) || 1;
  return (v) => (v - m) / sd;
}

function shifts(pool: Table): Shift[] {
  const dz = zOf(pool.distance as Float64Array), hz = zOf(pool.hour as Float64Array);
  const counts = new Map<string, number>();
  for (const o of pool.origin as string[]) counts.set(o, (counts.get(o) ?? 0) + 1);
  const hubs = new Set([...counts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([o]) => o));
  return [
    {
      name: "longer flights",
      weight: (t, i) => Math.exp(0.8 * dz((t.distance as Float64Array)[i])),
    },
    {
      name: "shorter flights",
      weight: (t, i) => Math.exp(-0.8 * dz((t.distance as Float64Array)[i])),
    },
    { name: "evening hours", weight: (t, i) => Math.exp(0.8 * hz((t.hour as Float64Array)[i])) },
    {
      name: "weekends ×3",
      weight: (t, i) => ([0, 6].includes((t.day_of_week as Float64Array)[i]) ? 3 : 1),
    },
    { name: "5 hub origins ×4", weight: (t, i) => (hubs.has((t.origin as string[])[i]) ? 4 : 1) },
  ];
}

/** `n` row indices drawn with probability ∝ weight (with replacement). */
function weightedSample(weights: Float64Array, n: number, rng: Random): Uint32Array {
  const cum = new Float64Array(weights.length);
  let acc = 0;
  for (let i = 0; i < weights.length; i++) cum[i] = acc += weights[i];
  return Uint32Array.from({ length: n }, () => {
    const u = rng.next() * acc;
    let lo = 0, hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  });
}

const y01 = (t: Table) => Float64Array.from(t.late as string[], (v) => (v === "yes" ? 1 : 0));
const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

function perBatchFlag(reference: Table, batch: Table, alpha = 0.05): boolean {
  const ps = [...FLIGHT_FEATURES, "p_late"].map((c) =>
    NUMERIC.has(c) || c === "p_late"
      ? ksTest(reference[c] as Float64Array, batch[c] as Float64Array).pValue
      : chiSquarePooledTest(reference[c] as string[], batch[c] as string[]).pValue
  );
  return adjustPValues(ps, "holm").some((p) => p < alpha);
}

const Z95 = normalUpper(0.025);

/**
 * The Clopper–Pearson (exact) two-sided interval of a binomial share k / n at level 1 − alpha:
 * the p where P(X ≥ k) = alpha/2 and where P(X ≤ k) = alpha/2 (bisection on the binomial tails).
 */
export function clopperPearson(k: number, n: number, alpha = 0.05): { low: number; high: number } {
  if (!(n > 0) || k < 0 || k > n) {
    throw new RangeError(`clopperPearson: ${k} of ${n}; pass 0 ≤ k ≤ n with n > 0`);
  }
  // f rises with p: the p where it crosses `target`
  const solve = (f: (p: number) => number, target: number) => {
    let lo = 0, hi = 1;
    for (let i = 0; i < 100; i++) {
      const mid = (lo + hi) / 2;
      if (f(mid) < target) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
  return {
    low: k === 0 ? 0 : solve((p) => binomialSf(k, n, p), alpha / 2),
    // P(X ≤ k) = alpha/2 ⇔ P(X > k) = 1 − alpha/2
    high: k === n ? 1 : solve((p) => 1 - binomialCdf(k, n, p), 1 - alpha / 2),
  };
}

/** One batch's estimate beside its realized AUC, for the chart. */
export interface EstimatedBatch {
  group: string;
  name: string;
  est: number;
  real: number;
  ciLow: number;
  ciHigh: number;
}

/** An SVG chart: per batch, CBPE's estimate with its interval (blue) and the realized AUC (black). */
export function estimationSvg(rows: readonly EstimatedBatch[], title: string): string {
  const w = 900, h = 320, left = 50, right = 10, top = 30, bottom = 60;
  const lo = Math.min(...rows.map((r) => Math.min(r.ciLow, r.real))) - 0.005;
  const hi = Math.max(...rows.map((r) => Math.max(r.ciHigh, r.real))) + 0.005;
  const x = (i: number) => left + ((i + 0.5) * (w - left - right)) / rows.length;
  const y = (v: number) => top + ((hi - v) * (h - top - bottom)) / (hi - lo);
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    parts.push(
      `<line x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${left - 4}" y="${y(v) + 4}" font-size="10" text-anchor="end">${
        v.toFixed(3)
      }</text>`,
    );
  }
  rows.forEach((r, i) => {
    if (i === 0 || rows[i - 1].name !== r.name) {
      parts.push(
        `<line x1="${x(i) - 3}" x2="${x(i) - 3}" y1="${top}" y2="${h - bottom}" stroke="#ccc"/>`,
        `<text x="${x(i)}" y="${h - bottom + 12}" font-size="9" transform="rotate(30 ${x(i)} ${
          h - bottom + 12
        })">${esc(r.name)}</text>`,
      );
    }
    parts.push(
      `<line x1="${x(i)}" x2="${x(i)}" y1="${y(r.ciLow)}" y2="${y(r.ciHigh)}" stroke="#90caf9"/>`,
      `<circle cx="${x(i)}" cy="${y(r.est)}" r="2" fill="#1565c0"/>`,
      `<circle cx="${x(i)}" cy="${y(r.real)}" r="2" fill="#000"/>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<text x="${left}" y="16" font-size="12">${esc(title)}</text>
<text x="${
    w - right
  }" y="16" font-size="10" text-anchor="end">● realized  <tspan fill="#1565c0">● estimated (CBPE) with its 95% interval</tspan></text>
${parts.join("\n")}
</svg>
`;
}

/** Runs the benchmark; returns the figures (and prints the tables). */
export async function runEstimationBench(
  { batch = 20_000, streamBatch = 1000, seeds = 12, batchesPerShift = 20, svg }: {
    batch?: number;
    streamBatch?: number;
    seeds?: number;
    batchesPerShift?: number;
    /** Where to write the estimated-vs-realized chart (none when absent). */
    svg?: string;
  } = {},
): Promise<Figure[]> {
  console.error("reading flights (first 600k rows: January – 6 February)…");
  const keep = (t: Table) => Object.fromEntries([...FLIGHT_FEATURES, "late"].map((c) => [c, t[c]]));
  const early = keep(flightFeatures(await loadFlights({ rowStart: 0, rowEnd: 600_000 })));
  const train = sampleRows(
    takeRows(early, Uint32Array.from({ length: 300_000 }, (_, i) => i)),
    80_000,
    1,
  );
  console.error("training the champion (GBDT, 60 trees) on 80k flights of 1–19 January…");
  const model = trainModel(train, {
    target: "late",
    algo: "gbdt",
    validFraction: 0,
    seed: 1,
    params: { nEstimators: 60, numLeaves: 31, learningRate: 0.1 },
  }, (r, total) => progress("gbdt rounds", r, total)).model;
  const score = (t: Table): Table => ({ ...t, p_late: predictModel(model, t).probabilities![1] });

  const honest = score(
    takeRows(early, Uint32Array.from({ length: 300_000 }, (_, i) => 300_000 + i)),
  );
  const order = new Random(2).permutation(300_000);
  // the reference keeps its time order: CBPE's τ is measured on its contiguous time blocks
  const reference = takeRows(honest, order.slice(0, 150_000).sort());
  const pool = takeRows(honest, order.subarray(150_000));
  const cbpeRef = reference;
  const cbpe = fitCbpe(cbpeRef.p_late as Float64Array, y01(cbpeRef), { seed: 3 });
  const refAuc = rocAuc(y01(cbpeRef), cbpeRef.p_late as Float64Array);

  // ---- estimation ----
  // floor: the mean |error| even a perfect estimator has (the realized AUC's own sampling noise)
  type Row = {
    group: string;
    name: string;
    est: number;
    real: number;
    covered: boolean;
    /** Covered by the interval without τ (sampling and calibration parts only). */
    coveredBare: boolean;
    tau: number;
    bareHalfWidth: number;
    floor: number;
    ciLow: number;
    ciHigh: number;
  };
  const rows: Row[] = [];
  const judge = (group: string, name: string, t: Table, seed: number) => {
    const s = t.p_late as Float64Array;
    const e = estimatePerformance(cbpe, s, { simulations: 100, seed }).metrics.roc_auc;
    const real = rocAuc(y01(t), s);
    const bare = Math.hypot(e.seSampling, e.seCalibration) * Z95;
    rows.push({
      group,
      name,
      est: e.estimated,
      real,
      covered: real >= e.ciLow && real <= e.ciHigh,
      coveredBare: Math.abs(real - e.estimated) <= bare,
      tau: e.seShift,
      bareHalfWidth: bare,
      floor: Math.sqrt(2 / Math.PI) * e.seSampling,
      ciLow: e.ciLow,
      ciHigh: e.ciHigh,
    });
  };
  const rng = new Random(4);
  const total = batchesPerShift * (1 + shifts(pool).length + 5);
  let done = 0;
  for (let b = 0; b < batchesPerShift; b++) {
    judge("clean", "same period", sampleRows(pool, batch, 100 + b), b);
    progress("estimation batches", ++done, total);
  }
  for (const sh of shifts(pool)) {
    const w = Float64Array.from({ length: rowCount(pool) }, (_, i) => sh.weight(pool, i));
    for (let b = 0; b < batchesPerShift; b++) {
      judge("covariate", sh.name, takeRows(pool, weightedSample(w, batch, rng)), 200 + b);
      progress("estimation batches", ++done, total);
    }
  }
  const periods: [string, number][] = [
    ["February", 750_000],
    ["March", 1_250_000],
    ["April", 1_750_000],
    ["May", 2_250_000],
    ["June", 2_750_000],
  ];
  for (const [name, start] of periods) {
    const t = score(
      keep(flightFeatures(await loadFlights({ rowStart: start, rowEnd: start + 150_000 }))),
    );
    for (let b = 0; b < batchesPerShift; b++) {
      judge("natural", name, sampleRows(t, batch, 300 + b), 300 + b);
      progress("estimation batches", ++done, total);
    }
  }
  const mae = (g: string) =>
    mean(rows.filter((r) => r.group === g).map((r) => Math.abs(r.est - r.real)));
  const baseMae = (g: string) =>
    mean(rows.filter((r) => r.group === g).map((r) => Math.abs(refAuc - r.real)));
  const covered = (g: string, bare = false) => {
    const rs = rows.filter((r) => r.group === g);
    const k = rs.filter((r) => (bare ? r.coveredBare : r.covered)).length;
    return { k, n: rs.length, share: k / rs.length, ...clopperPearson(k, rs.length) };
  };
  const coverage = covered("covariate");

  console.log(
    `\nCBPE on flights: champion GBDT, reference ${rowCount(cbpeRef)} out-of-time rows (AUC ${
      refAuc.toFixed(4)
    }), batches of ${batch}`,
  );
  console.log(
    `  ${"batches".padEnd(28)}${"realized".padStart(9)}${"estimated".padStart(10)}${
      "CBPE MAE".padStart(10)
    }${"noise floor".padStart(12)}${"baseline MAE".padStart(14)}${"ratio".padStart(7)}`,
  );
  const names = [...new Set(rows.map((r) => `${r.group}|${r.name}`))];
  for (const key of names) {
    const [g, n] = key.split("|");
    const rs = rows.filter((r) => r.group === g && r.name === n);
    const m = mean(rs.map((r) => Math.abs(r.est - r.real)));
    const bm = mean(rs.map((r) => Math.abs(refAuc - r.real)));
    console.log(
      `  ${`${g}: ${n}`.padEnd(28)}${mean(rs.map((r) => r.real)).toFixed(4).padStart(9)}${
        mean(rs.map((r) => r.est)).toFixed(4).padStart(10)
      }${m.toFixed(4).padStart(10)}${mean(rs.map((r) => r.floor)).toFixed(4).padStart(12)}${
        bm.toFixed(4).padStart(14)
      }${(m / bm).toFixed(2).padStart(7)}`,
    );
  }
  console.log(
    `  covariate-shifted MAE ${mae("covariate").toFixed(4)} (goal ≤ 0.02), clean ${
      mae("clean").toFixed(4)
    }, natural drift ${mae("natural").toFixed(4)} (concept change breaks CBPE's assumption)`,
  );
  const cp = (c: ReturnType<typeof covered>) =>
    `${c.k}/${c.n} = ${c.share.toFixed(2)} (Clopper–Pearson 95%: ${c.low.toFixed(2)}–${
      c.high.toFixed(2)
    })`;
  console.log(
    `  calibration-shift τ (out-of-time on the reference, ${cbpe.shift.blocks} time blocks): ${
      cbpe.shift.roc_auc.toFixed(4)
    } AUC; mean interval half-width ${
      mean(rows.map((r) => (r.ciHigh - r.ciLow) / 2)).toFixed(4)
    } with τ, ${mean(rows.map((r) => r.bareHalfWidth)).toFixed(4)} without`,
  );
  for (const g of ["covariate", "clean", "natural"]) {
    console.log(
      `  95% interval holds the realized AUC on ${g} batches: ${cp(covered(g))}; without τ ${
        cp(covered(g, true))
      }`,
    );
  }

  if (svg) {
    await Deno.mkdir(svg.replace(/\/[^/]*$/, "") || ".", { recursive: true });
    await Deno.writeTextFile(
      svg,
      estimationSvg(rows, `CBPE on flights batches of ${batch}: estimated vs realized ROC AUC`),
    );
    console.log(`  chart: ${svg}`);
  }

  // ---- sequential ----
  const monRef = sampleRows(reference, 20_000, 5);
  const opts: BatchMonitorOptions = {
    target: "late",
    prediction: "p_late",
    columns: FLIGHT_FEATURES,
    simulations: 60,
    nullRounds: 30,
  };
  const monCbpe = fitReferenceCbpe(monRef, opts);
  const cleanBatches = 100, driftBatches = 80, onset = 10;
  // the drift: distance tilted by β = min(0.1, 0.01 × batches since onset) — reaches its plateau
  // after 10 batches, where one batch's tests rarely see it
  const RATE = 0.01, PLATEAU = 0.1;
  const MATCHED_ALPHA = 1 / 200; // per-batch family α with the sequential family's rate (ARL0 200)
  let cleanAlarms = 0, cleanFlags = 0, cleanFlagsMatched = 0;
  const byDetector = new Map<string, number>();
  const seqDelays: number[] = [], testDelays: number[] = [], matchedDelays: number[] = [];
  let missed = 0, earlyAlarms = 0, plateauBatches = 0, plateauFlags = 0;
  const dz = zOf(pool.distance as Float64Array);
  const distZ = Float64Array.from(pool.distance as Float64Array, dz);
  const uniform = new Float64Array(rowCount(pool)).fill(1);
  const streamTotal = seeds * (cleanBatches + driftBatches);
  let streamDone = 0;
  const censored = driftBatches - onset + 1;
  for (let seed = 0; seed < seeds; seed++) {
    let st: SequentialState | null = null;
    const r = new Random(1000 + seed);
    for (let t = 0; t < cleanBatches; t++) {
      const b = takeRows(pool, weightedSample(uniform, streamBatch, r));
      const m = monitorBatch(monRef, b, { ...opts, seed: seed * 1000 + t }, st, monCbpe);
      st = m.sequential.state;
      cleanAlarms += m.sequential.alarms.length;
      for (const a of m.sequential.alarms) byDetector.set(a, (byDetector.get(a) ?? 0) + 1);
      if (perBatchFlag(monRef, b)) cleanFlags++;
      if (perBatchFlag(monRef, b, MATCHED_ALPHA)) cleanFlagsMatched++;
      progress("sequential batches", ++streamDone, streamTotal);
    }
    st = null;
    let first: number | undefined, firstTest: number | undefined, firstMatched: number | undefined;
    for (let t = 0; t < driftBatches; t++) {
      const beta = t >= onset ? Math.min(PLATEAU, RATE * (t - onset + 1)) : 0;
      const w = Float64Array.from(distZ, (zv) => Math.exp(beta * zv));
      const b = takeRows(pool, weightedSample(w, streamBatch, r));
      const m = monitorBatch(monRef, b, { ...opts, seed: seed * 1000 + 500 + t }, st, monCbpe);
      st = m.sequential.state;
      if (m.sequential.alarms.length) {
        if (t < onset) earlyAlarms++;
        else first ??= t;
      }
      if (t >= onset) {
        const flag = perBatchFlag(monRef, b);
        if (flag) firstTest ??= t;
        if (firstMatched === undefined && perBatchFlag(monRef, b, MATCHED_ALPHA)) firstMatched = t;
        if (beta === PLATEAU) {
          plateauBatches++;
          if (flag) plateauFlags++;
        }
      }
      progress("sequential batches", ++streamDone, streamTotal);
    }
    if (first === undefined) missed++;
    seqDelays.push(first === undefined ? censored : first - onset + 1);
    testDelays.push(firstTest === undefined ? censored : firstTest - onset + 1);
    matchedDelays.push(firstMatched === undefined ? censored : firstMatched - onset + 1);
  }
  const falseAlarms = (100 * cleanAlarms) / (seeds * cleanBatches);
  console.log(
    `\nSequential detection (CUSUM, family ARL0 200 ≈ 0.5 false alarms / 100 batches over ${
      FLIGHT_FEATURES.length + 3
    } detectors; batches of ${streamBatch}, reference ${rowCount(monRef)}, ${seeds} seeds)`,
  );
  console.log(
    `  false alarms per 100 clean batches: ${falseAlarms.toFixed(2)} (goal ≤ 1; by detector: ${
      [...byDetector].map(([d, c]) => `${d} ${c}`).join(", ") || "none"
    }); per-batch tests flag ${
      (100 * cleanFlags / (seeds * cleanBatches)).toFixed(1)
    } (Holm 0.05), ${
      (100 * cleanFlagsMatched / (seeds * cleanBatches)).toFixed(1)
    } (Holm ${MATCHED_ALPHA})`,
  );
  console.log(
    `  incremental drift (distance tilt +${RATE}/batch from batch ${onset} to ${PLATEAU}; one batch's tests flag ${
      (100 * plateauFlags / Math.max(1, plateauBatches)).toFixed(0)
    }% of plateau batches at Holm 0.05):`,
  );
  console.log(
    `    sequential median delay ${median(seqDelays)} batches (${missed} of ${seeds} missed in ${
      driftBatches - onset
    }), ${earlyAlarms} alarms before onset`,
  );
  console.log(
    `    per-batch tests, first flag: median ${
      median(testDelays)
    } batches at Holm 0.05 (5 false flags / 100), ${
      median(matchedDelays)
    } at the matched rate (Holm ${MATCHED_ALPHA}); sequential / matched = ${
      (median(seqDelays) / median(matchedDelays)).toFixed(2)
    }\n`,
  );
  return [
    { metric: "estimation.auc_mae", value: mae("covariate"), unit: "roc_auc" },
    { metric: "estimation.auc_mae_clean", value: mae("clean"), unit: "roc_auc" },
    { metric: "estimation.auc_mae_natural", value: mae("natural"), unit: "roc_auc" },
    { metric: "estimation.auc_mae_baseline", value: baseMae("covariate"), unit: "roc_auc" },
    {
      metric: "estimation.interval_coverage",
      value: coverage.share,
      unit: `share of ${coverage.n} covariate-shifted batches (Clopper–Pearson 95%: ${
        coverage.low.toFixed(3)
      }–${coverage.high.toFixed(3)})`,
    },
    { metric: "estimation.interval_coverage_cp_low", value: coverage.low, unit: "share" },
    { metric: "estimation.interval_coverage_cp_high", value: coverage.high, unit: "share" },
    {
      metric: "estimation.interval_coverage_clean",
      value: covered("clean").share,
      unit: `share of ${covered("clean").n} same-period batches`,
    },
    { metric: "detection.sequential_delay", value: median(seqDelays), unit: "batches" },
    { metric: "detection.sequential_false_alarms", value: falseAlarms, unit: "per 100 batches" },
    { metric: "detection.per_batch_delay", value: median(matchedDelays), unit: "batches" },
  ];
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      batch: { type: "string", default: "20000" },
      "stream-batch": { type: "string", default: "1000" },
      seeds: { type: "string", default: "12" },
      "batches-per-shift": { type: "string", default: "20" },
      svg: { type: "string" },
    },
  });
  const figures = await runEstimationBench({
    batch: Number(values.batch),
    streamBatch: Number(values["stream-batch"]),
    seeds: Number(values.seeds),
    batchesPerShift: Number(values["batches-per-shift"]),
    svg: values.svg ?? `${dataDir()}/experiments/estimation.svg`,
  });
  printFigures(figures);
}
