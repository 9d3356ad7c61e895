/**
 * `deno task bench detection`: the Failing-Loudly-style detection benchmark on the flights data
 * (`deno task data:prepare`): every detector × shift × batch size over seeds — power, the
 * false-positive rate on clean batches of the reference period, the later periods' natural drift —
 * then the stream protocol (a clean stream and four scenario streams). One implementation with
 * `drift_experiment`: tasks/monitoring/detection.ts and stream_protocol.ts. Prints the tables, the
 * default policy beside the Evidently preset and Failing Loudly's published best as ratios, writes
 * an HTML page, then the figures as JSON lines.
 *
 * Figures: detection.fpr_max, detection.power.n100, detection.power.n1000,
 * detection.power.n10000, detection.clean_stream_retrains, detection.promotions_improved_share.
 *
 * @example
 * ```sh
 * deno task bench detection [--seeds 20] [--sizes 100,1000,10000] [--clean 2] [--stream-batch 10000]
 *   [--stream-seeds 3] [--quick] [--no-grid] [--no-streams] [--no-estimation] [--html out.html]
 * ```
 */
import { parseArgs } from "node:util";
import { dataDir, dataPaths } from "../../tasks/data/prepare.ts";
import { readParquet } from "../../tasks/data/parquet.ts";
import {
  benchGrid,
  type CellVerdict,
  runGridCell,
  setupBench,
  summariseDetection,
} from "../../tasks/monitoring/detection.ts";
import {
  detectionFigures,
  FAILING_LOUDLY_BEST,
  renderDetectionHtml,
  renderDetectionText,
  type StreamRun,
} from "../../tasks/monitoring/detection_report.tsx";
import { DEFAULT_SCENARIOS, runStream } from "../../tasks/monitoring/stream_protocol.ts";
import { printFigures, progress } from "./report.ts";

function intList(name: string, text: string): number[] {
  const xs = text.split(",").map((s) => Number(s.trim()));
  if (xs.some((x) => !Number.isInteger(x) || x <= 0)) {
    throw new Error(`--${name} takes positive integers separated by commas, got "${text}"`);
  }
  return xs;
}

function positive(name: string, text: string): number {
  const x = Number(text);
  if (!Number.isInteger(x) || x < 0) {
    throw new Error(`--${name} takes a non-negative integer, got "${text}"`);
  }
  return x;
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      seeds: { type: "string" },
      sizes: { type: "string" },
      clean: { type: "string" },
      "stream-batch": { type: "string" },
      "stream-seeds": { type: "string" },
      streams: { type: "boolean", default: true },
      "no-streams": { type: "boolean", default: false },
      "no-grid": { type: "boolean", default: false },
      "no-estimation": { type: "boolean", default: false },
      quick: { type: "boolean", default: false },
      html: { type: "string" },
      data: { type: "string" },
    },
  });
  const quick = values.quick;
  const seeds = positive("seeds", values.seeds ?? (quick ? "3" : "20"));
  const sizes = intList("sizes", values.sizes ?? (quick ? "100,1000" : "100,1000,10000"));
  const clean = positive("clean", values.clean ?? (quick ? "1" : "2"));
  const streamBatch = positive(
    "stream-batch",
    values["stream-batch"] ?? (quick ? "2000" : "10000"),
  );
  // Each scenario stream is run on this many seeds (other batches, other injection draws): the
  // share of promotions that improved the next batch is a proportion of a few promotions per
  // stream, so one seed cannot tell 0.75 from 0.95.
  const streamSeeds = positive("stream-seeds", values["stream-seeds"] ?? (quick ? "1" : "6"));
  const paths = dataPaths(values.data ?? dataDir());
  const html = values.html ?? `${values.data ?? dataDir()}/experiments/detection.html`;
  const t0 = performance.now();

  console.error(`reading ${paths.flightsReference} and ${paths.flightsStream}…`);
  let reference, stream;
  try {
    reference = (await readParquet(paths.flightsReference)).table;
    stream = (await readParquet(paths.flightsStream)).table;
  } catch (e) {
    throw new Error(
      `the flights data is missing (${(e as Error).message}); run \`deno task data:prepare\` first`,
    );
  }
  console.error("training the benchmark's model on the earliest half of the reference…");
  const setup = setupBench(reference, stream, { seed: 1, periods: quick ? 6 : 12 });

  const grid = values["no-grid"] ? [] : benchGrid({ sizes, seeds, clean });
  const verdicts: CellVerdict[] = [];
  for (let i = 0; i < grid.length; i++) {
    progress("detection grid: batches", i, grid.length);
    verdicts.push(runGridCell(setup, grid[i]));
  }
  progress("detection grid: batches", grid.length, grid.length);
  const summary = summariseDetection(verdicts);

  const streams: StreamRun[] = [];
  if (values.streams && !values["no-streams"]) {
    for (let seed = 1; seed <= streamSeeds; seed++) {
      for (const scenario of DEFAULT_SCENARIOS) {
        const named = seed > 1 ? { ...scenario, name: `${scenario.name} #${seed}` } : scenario;
        streams.push(
          runStream(
            setup,
            named,
            { batchSize: streamBatch, seed },
            {},
            (d, t) => progress(`stream "${named.name}": batches`, d, t),
          ),
        );
      }
    }
  }
  const seconds = (performance.now() - t0) / 1000;

  console.log(
    `\nDetection benchmark: flights reference (model on the earliest half, reference and clean batches from the latest half), ${seeds} seeds, ${clean} clean batches per seed and size; stream batches of ${streamBatch} rows, ${streamSeeds} seed(s) per scenario stream\n`,
  );
  console.log(renderDetectionText(summary, streams));
  if (grid.length) {
    console.log(
      "\nDefault policy (severity ≥ minor) beside the Evidently preset and Failing Loudly's best:",
    );
  }
  for (const n of grid.length ? sizes : []) {
    const ours = summary.meanPower.find((m) => m.n === n && m.detector === "severity")?.rate ?? NaN;
    const evid = summary.meanPower.find((m) => m.n === n && m.detector === "evidently")?.rate ??
      NaN;
    const fprOurs = summary.fpr.find((f) => f.n === n && f.detector === "severity")?.rate ?? NaN;
    const fprEvid = summary.fpr.find((f) => f.n === n && f.detector === "evidently")?.rate ?? NaN;
    const fl = FAILING_LOUDLY_BEST[n];
    console.log(
      `  n = ${String(n).padEnd(6)} power ${ours.toFixed(2)} vs evidently ${evid.toFixed(2)}${
        fl ? ` vs Failing Loudly ${fl.toFixed(2)} (ratio ${(ours / fl).toFixed(2)}×)` : ""
      }; false positives ${fprOurs.toFixed(2)} vs evidently ${fprEvid.toFixed(2)}`,
    );
  }
  await Deno.mkdir(html.replace(/\/[^/]*$/, "") || ".", { recursive: true });
  await Deno.writeTextFile(
    html,
    renderDetectionHtml(summary, streams, {
      note: `deno task bench detection ${args.join(" ")} — ${seeds} seeds; ${
        seconds.toFixed(0)
      } s on a shared machine`,
    }),
  );
  console.log(`\nHTML page: ${html}\nfinished in ${seconds.toFixed(0)} s (2 shared cores)\n`);
  // figures of a part not run (--no-grid, --no-streams) are left out, not printed as null
  printFigures(detectionFigures(summary, streams).filter((f) => Number.isFinite(f.value)));
  // Performance without labels and sequential detection (issue 14) belong to the same benchmark:
  // estimation.auc_mae, detection.sequential_delay and detection.sequential_false_alarms. The same
  // code runs alone as `deno task bench estimation`.
  if (!values["no-estimation"]) {
    console.log("\nPerformance without labels and sequential detection:");
    await (await import("./estimation.ts")).main(
      quick ? ["--seeds", "3", "--batches-per-shift", "5"] : [],
    );
  }
}
