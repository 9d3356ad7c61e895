/**
 * `deno task bench drift`: the full default drift report over a reference of 100k rows and a current
 * of 1M rows, 20 numeric and 5 categorical columns, against numpy/scipy computing the same per-column
 * statistics (ks_2samp, normed wasserstein_distance, Sturges-histogram Jensen–Shannon and PSI;
 * value-count JS and PSI for categories) in the same run. Our side computes those statistics too
 * (`extraTests`), on top of the report's histograms and verdicts.
 *
 * Figures: drift.seconds, drift.peer_seconds, drift.speedup (peer / ours), drift.peak_rss_mb.
 *
 * @example
 * ```sh
 * deno task bench drift [--ref 100000] [--cur 1000000]
 * ```
 */
import { parseArgs } from "node:util";
import type { Table } from "../../models/core/table.ts";
import { detectDrift } from "../../tasks/drift/detect.ts";
import { evaluateSeverity } from "../../tasks/drift/severity.ts";
import { Random } from "../../models/core/random.ts";
import { printFigures, progress, round } from "./report.ts";

const CATEGORIES = [
  ["AA", "DL", "UA", "WN", "B6", "AS"],
  ["SEA", "SFO", "LAX", "JFK", "ORD", "ATL", "DFW", "DEN", "BOS", "MIA", "PHX", "LAS"],
  ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
  ["economy", "premium", "business", "first"],
  Array.from({ length: 30 }, (_, i) => `route-${i}`),
];

/** Columns: 20 numeric with assorted shapes (4 drifted), 5 categorical (1 drifted). */
function generate(
  n: number,
  seed: number,
  drifted: boolean,
): { table: Table; codes: Uint8Array[] } {
  const rng = new Random(seed);
  const table: Record<string, Float64Array | string[]> = {};
  for (let c = 0; c < 20; c++) {
    const col = new Float64Array(n);
    const shift = drifted && c % 5 === 0 ? 0.3 : 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      col[i] = c % 4 === 0
        ? z + shift
        : c % 4 === 1
        ? Math.exp(0.5 * z) * 10 + shift * 10
        : c % 4 === 2
        ? Math.round(z * 20 + 100 + shift * 20)
        : rng.next() * 1000 + shift * 100;
    }
    table[`num_${c}`] = col;
  }
  const codes: Uint8Array[] = [];
  CATEGORIES.forEach((labels, c) => {
    const code = new Uint8Array(n);
    const col: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const skew = drifted && c === 0 ? 0.6 : 1;
      const u = rng.next() ** skew;
      code[i] = Math.min(labels.length - 1, Math.floor(u * u * labels.length));
      col[i] = labels[code[i]];
    }
    table[`cat_${c}`] = col;
    codes.push(code);
  });
  return { table, codes };
}

function peakRssMb(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const m = status.match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) / 1024 : NaN;
}

async function writeForPeer(
  dir: string,
  ref: ReturnType<typeof generate>,
  cur: ReturnType<typeof generate>,
) {
  const meta = { numeric: [] as string[], categorical: {} as Record<string, string[]> };
  for (const [name, col] of Object.entries(ref.table)) {
    if (!(col instanceof Float64Array)) continue;
    meta.numeric.push(name);
    await Deno.writeFile(`${dir}/${name}.ref.f64`, new Uint8Array(col.buffer));
    await Deno.writeFile(
      `${dir}/${name}.cur.f64`,
      new Uint8Array((cur.table[name] as Float64Array).buffer),
    );
  }
  for (let c = 0; c < CATEGORIES.length; c++) {
    meta.categorical[`cat_${c}`] = CATEGORIES[c];
    await Deno.writeFile(`${dir}/cat_${c}.ref.u8`, ref.codes[c]);
    await Deno.writeFile(`${dir}/cat_${c}.cur.u8`, cur.codes[c]);
  }
  await Deno.writeTextFile(`${dir}/meta.json`, JSON.stringify(meta));
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      ref: { type: "string", default: "100000" },
      cur: { type: "string", default: "1000000" },
    },
  });
  const nRef = Number(values.ref), nCur = Number(values.cur);
  console.error(
    `generating ${nRef} reference and ${nCur} current rows, 20 numeric + 5 categorical columns…`,
  );
  const ref = generate(nRef, 1, false), cur = generate(nCur, 2, true);
  // raw data as the table holds it: 8 bytes per value (a float64, or a reference to a label)
  const rawMb = ((nRef + nCur) * 25 * 8) / 2 ** 20;
  const dir = await Deno.makeTempDir({ prefix: "driftflow-bench-drift-" });
  await writeForPeer(dir, ref, cur);
  const rssBefore = peakRssMb();

  const t0 = performance.now();
  const report = detectDrift(
    ref.table,
    cur.table,
    { extraTests: ["ks", "psi", "jensenshannon"] },
    (done, total) => progress("drift columns", done, total),
  );
  report.severity = evaluateSeverity(report);
  const seconds = (performance.now() - t0) / 1000;
  const rss = peakRssMb();

  const python = Deno.env.get("DRIFTFLOW_PYTHON") ?? ".venv/bin/python";
  console.error("running the numpy/scipy peer…");
  const out = await new Deno.Command(python, {
    args: [new URL("./drift_peer.py", import.meta.url).pathname, dir],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  await Deno.remove(dir, { recursive: true });
  if (!out.success) {
    throw new Error(
      `the peer failed (${python}); set DRIFTFLOW_PYTHON to a venv with numpy, scipy, pandas`,
    );
  }
  const peer = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    seconds: number;
    columns: Record<string, Record<string, number>>;
  };

  // cross-check: same numbers on both sides
  let worst = 0;
  for (const c of report.columns) {
    const p = peer.columns[c.column];
    const ours: Record<string, number> = { [c.test]: c.statistic };
    for (const [k, v] of Object.entries(c.extra ?? {})) ours[k] = v.statistic;
    if (c.extra?.ks?.pValue !== undefined && c.extra.ks.pValue !== null) {
      ours.ks_p = c.extra.ks.pValue;
    }
    const map: Record<string, string> = {
      wasserstein: "wasserstein",
      jensenshannon: "js",
      psi: "psi",
      ks: "ks",
      ks_p: "ks_p",
    };
    for (const [k, v] of Object.entries(ours)) {
      const pk = map[k];
      if (pk && p[pk] !== undefined) {
        worst = Math.max(worst, Math.abs(v - p[pk]) / Math.max(1, Math.abs(p[pk])));
      }
    }
  }

  console.log(
    `\ndrift report: ${nRef} reference × ${nCur} current rows, 25 columns (raw data ${
      rawMb.toFixed(0)
    } MB)`,
  );
  console.log(`  ${"".padEnd(28)}${"Driftflow".padStart(12)}${"numpy/scipy".padStart(14)}`);
  console.log(
    `  ${"seconds".padEnd(28)}${seconds.toFixed(2).padStart(12)}${
      peer.seconds.toFixed(2).padStart(14)
    }`,
  );
  console.log(`  speedup (peer / ours)       ${(peer.seconds / seconds).toFixed(2)}×`);
  console.log(
    `  peak RSS                    ${rss.toFixed(0)} MB (${(rss / rawMb).toFixed(2)}× raw data; ${
      rssBefore.toFixed(0)
    } MB before the report)`,
  );
  console.log(
    `  drifted columns             ${
      report.columns.filter((c) => c.drifted).map((c) => c.column).join(", ")
    }`,
  );
  console.log(`  severity                    ${report.severity.severity}`);
  console.log(
    `  largest difference from the peer's statistics: ${worst.toExponential(2)} (relative)\n`,
  );
  printFigures([
    { metric: "drift.seconds", value: seconds, unit: "s" },
    { metric: "drift.peer_seconds", value: peer.seconds, unit: "s" },
    { metric: "drift.speedup", value: round(peer.seconds / seconds), unit: "x" },
    { metric: "drift.peak_rss_mb", value: rss, unit: "MB" },
  ]);
}
