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
import type { TrainedModel } from "../models/model.ts";
import { dataDir, dataPaths } from "../tasks/data/prepare.ts";
import {
  BENCH_POLICY,
  benchGrid,
  benchSetupOf,
  BenchShift,
  type CellVerdict,
  DEFAULT_SHIFTS,
  runGridCell,
  setupBench,
  summariseDetection,
} from "../tasks/monitoring/detection.ts";
import {
  detectionCsv,
  detectionFigures,
  renderDetectionHtml,
  renderDetectionText,
} from "../tasks/monitoring/detection_report.tsx";
import { FLIGHT_FEATURES, FLIGHT_TARGET } from "../tasks/monitoring/flights.ts";
import { JudgePolicy } from "../tasks/monitoring/judge.ts";
import { DEFAULT_SCENARIOS, runStream, Scenario } from "../tasks/monitoring/stream_protocol.ts";
import { getTable, putTable } from "../tasks/monitoring/tables.ts";

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
  out: z.string().default(`${dataDir()}/experiments`),
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
  .task("setup", {
    run: async (ctx) => {
      const p = ctx.params;
      const s = setupBench(
        await getTable(ctx, p.data),
        p.stream && p.periods > 0 ? await getTable(ctx, p.stream) : null,
        { ...p, seed: 1 },
      );
      ctx.log(`model trained; reference ${p.referenceRows} rows; ${s.later.length} later periods`);
      return {
        model: await ctx.putArtifact(JSON.stringify(s.model)),
        calibratedShare: s.calibratedShare,
        reference: await putTable(ctx, s.reference),
        pool: await putTable(ctx, s.pool),
        later: await Promise.all(
          s.later.map(async (l) => ({ name: l.name, rows: await putTable(ctx, l.rows) })),
        ),
      };
    },
  })
  .task("grid", {
    run: (ctx) =>
      ctx.params.sizes.flatMap((n) =>
        Array.from({ length: ctx.params.seeds }, (_, seed) => ({ n, seed }))
      ),
  })
  .task("cells", {
    deps: ["setup", "grid"],
    expand: (ctx) => ctx.xcom("grid"),
    run: async (ctx, chunk): Promise<CellVerdict[]> => {
      const p = ctx.params;
      const setup = await loadSetup(ctx, ctx.xcom("setup"));
      const cells = benchGrid({
        shifts: p.shifts,
        sizes: [chunk.n],
        seeds: 1,
        clean: p.clean,
        later: setup.later.length > 0,
      }).map((c) => ({ ...c, seed: chunk.seed }));
      return cells.map((c) => runGridCell(setup, c, { shifts: p.shifts, policy: p.policy }));
    },
  })
  .task("streams", {
    deps: ["setup"],
    expand: (ctx) => (ctx.xcom("setup").later.length ? ctx.params.scenarios : []),
    run: async (ctx, scenario) => {
      const setup = await loadSetup(ctx, ctx.xcom("setup"));
      return runStream(
        setup,
        scenario,
        { batchSize: ctx.params.streamBatch, seed: 1 },
        ctx.params.policy,
      );
    },
  })
  .task("summarise", {
    deps: ["cells", "streams"],
    run: async (ctx) => {
      const summary = summariseDetection(ctx.xcom("cells").flat());
      const streams = ctx.xcom("streams");
      const dir = `${ctx.params.out}/run-${ctx.runId}`;
      await Deno.mkdir(dir, { recursive: true });
      const text = renderDetectionText(summary, streams);
      ctx.log(text);
      const csv = detectionCsv(summary);
      await Deno.writeTextFile(`${dir}/summary.csv`, csv);
      const html = renderDetectionHtml(summary, streams, {
        title: `Drift detection benchmark (run ${ctx.runId})`,
        note: `drift_experiment run ${ctx.runId}: ${ctx.params.seeds} seeds, sizes ${
          ctx.params.sizes.join(", ")
        }`,
      });
      await Deno.writeTextFile(`${dir}/report.html`, html);
      const key = await ctx.putArtifact(html);
      ctx.log(`wrote ${dir}/summary.csv and ${dir}/report.html`);
      return {
        csv: `${dir}/summary.csv`,
        html: `${dir}/report.html`,
        artifact: key,
        csvArtifact: await ctx.putArtifact(csv),
        cells: ctx.xcom("cells").flat().length,
        figures: detectionFigures(summary, streams),
      };
    },
  });

/** The setup read back from the artifacts the `setup` task stored. */
async function loadSetup(
  ctx: Parameters<typeof getTable>[0] & { params: z.infer<typeof params> },
  keys: {
    model: string;
    calibratedShare: number;
    reference: string;
    pool: string;
    later: { name: string; rows: string }[];
  },
) {
  const p = ctx.params;
  const model = JSON.parse(
    new TextDecoder().decode(await ctx.getArtifact(keys.model)),
  ) as TrainedModel;
  return benchSetupOf({
    features: p.features,
    target: p.target,
    positiveLabel: p.positiveLabel,
    model,
    calibratedShare: keys.calibratedShare,
    reference: await getTable(ctx, keys.reference),
    pool: await getTable(ctx, keys.pool),
    later: await Promise.all(
      keys.later.map(async (l) => ({ name: l.name, rows: await getTable(ctx, l.rows) })),
    ),
  });
}
