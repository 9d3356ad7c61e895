/**
 * `drift_experiment`: the detection benchmark as a DAG — which drifts do the monitors catch, how
 * often do they cry wolf, and what does the monitoring loop do about it? The same implementation
 * as `deno task bench detection` (tasks/monitoring/detection.ts, stream_protocol.ts):
 *
 * setup (model on the earliest half of the data, reference and same-period pool from the rest,
 * later periods from the stream) → grid → cells (one mapped task per batch size × seed: every
 * shift, clean batches, a later period, judged by every detector) and streams (one mapped task per
 * scenario: the monitoring loop over the later periods) → summarise (power, false-positive rates,
 * later periods, stream protocol: tables, an HTML page with heatmaps, CSV; the Experiments page
 * shows the page).
 *
 * Run it: `deno task run drift_experiment` (conf can change shifts, sizes, seeds and scenarios).
 */
import { dag, z } from "driftflow";
import { dataPaths, homePaths } from "../tasks/data/mod.ts";
import {
  BENCH_POLICY,
  BenchShift,
  DEFAULT_SCENARIOS,
  DEFAULT_SHIFTS,
  FLIGHT_FEATURES,
  FLIGHT_TARGET,
  gridChunks,
  JudgePolicy,
  runCellChunk,
  runScenario,
  Scenario,
  storeBenchSetup,
  writeDetectionSummary,
} from "../tasks/monitoring/mod.ts";

const params = z.object({
  data: z.string().default(dataPaths().flightsReference),
  /** Later periods and the stream protocol's batches come from here; null: none. */
  stream: z.string().nullable().default(dataPaths().flightsStream),
  features: z.array(z.string()).default(FLIGHT_FEATURES),
  target: z.string().default(FLIGHT_TARGET),
  positiveLabel: z.string().default("yes"),
  referenceRows: z.number().int().positive().default(20_000),
  trainRows: z.number().int().positive().default(40_000),
  periodRows: z.number().int().positive().default(116_000),
  periods: z.number().int().nonnegative().default(12),
  shifts: z.array(BenchShift).default(DEFAULT_SHIFTS as never),
  sizes: z.array(z.number().int().positive()).default([100, 1000, 10_000]),
  seeds: z.number().int().min(1).default(20),
  /** Clean same-period batches per size and seed. */
  clean: z.number().int().nonnegative().default(2),
  scenarios: z.array(Scenario).default(DEFAULT_SCENARIOS as never),
  streamBatch: z.number().int().positive().default(10_000),
  policy: JudgePolicy.default(BENCH_POLICY as never),
  out: z.string().default(homePaths().experiments),
});

export default dag({
  id: "drift_experiment",
  description:
    "Detection benchmark: detectors × shifts × batch sizes, false alarms, stream protocol",
  schedule: null,
  params,
  defaults: { retries: 0, timeout: "2h" },
  // the web UI's Experiments page lists the runs and their summary's report and CSV
  experiment: { summaryTask: "summarise", title: "Drift detection benchmark" },
})
  .task("setup", { run: (ctx) => storeBenchSetup(ctx) })
  .task("grid", { run: (ctx) => gridChunks(ctx.params) })
  .task("cells", {
    deps: ["setup", "grid"],
    expand: (ctx) => ctx.xcom("grid"),
    run: (ctx, chunk) => runCellChunk(ctx, ctx.xcom("setup"), chunk),
  })
  .task("streams", {
    deps: ["setup"],
    expand: (ctx) => (ctx.xcom("setup").later.length ? ctx.params.scenarios : []),
    run: (ctx, scenario) => runScenario(ctx, ctx.xcom("setup"), scenario),
  })
  .task("summarise", {
    deps: ["cells", "streams"],
    run: (ctx) => writeDetectionSummary(ctx, ctx.xcom("cells").flat(), ctx.xcom("streams")),
  });
