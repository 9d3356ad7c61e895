/**
 * `drift_experiment`: which drifts do the monitors catch, and which do they miss? A grid of
 * injection × batch size × seed, one mapped task per cell, each judging a clean control batch and
 * a drifted batch with every detector; then power and false-positive rate per cell as CSV and an
 * HTML page with heatmaps ("Failing Loudly", Rabanser et al., 2019).
 *
 * Run it: `deno task run drift_experiment` (conf can replace the injections, batch sizes, detectors and seeds).
 */
import { dag, z } from "driftflow";
import { dataDir, dataPaths } from "../tasks/data/prepare.ts";
import { sampleRows, type Table } from "../tasks/data/table.ts";
import {
  type CellResult,
  type Detector,
  renderExperimentHtml,
  runCell,
  summarise,
  summaryCsv,
} from "../tasks/drift/experiment.ts";
import { DriftSpec } from "../tasks/drift/inject.ts";
import { TestName } from "../tasks/drift/schema.ts";
import { FLIGHT_FEATURES } from "../tasks/monitoring/flights.ts";
import { getTable, pick, putTable } from "../tasks/monitoring/tables.ts";

const DEFAULT_INJECTIONS = [
  { name: "distance +0.1σ", drift: { kind: "mean_shift", column: "distance", k: 0.1 } },
  { name: "distance +0.5σ", drift: { kind: "mean_shift", column: "distance", k: 0.5 } },
  {
    name: "distance variance ×1.5",
    drift: { kind: "variance_scale", column: "distance", factor: 1.5 },
  },
  { name: "hour noise 1σ", drift: { kind: "noise", column: "hour", k: 1 } },
  { name: "distance 10% missing", drift: { kind: "missing", column: "distance", share: 0.1 } },
  { name: "origin 5% unseen", drift: { kind: "unseen_category", column: "origin", share: 0.05 } },
  { name: "origin 20% unseen", drift: { kind: "unseen_category", column: "origin", share: 0.2 } },
  { name: "late share → 50%", drift: { kind: "prior_shift", target: "late", positiveShare: 0.5 } },
];

const Detector = z.union([
  TestName.exclude(["domain_classifier"]),
  z.enum(["default", "domain_classifier", "severity"]),
]);

const params = z.object({
  data: z.string().default(dataPaths().flightsReference),
  features: z.array(z.string()).default(FLIGHT_FEATURES),
  extraColumns: z.array(z.string()).default(["late"]),
  referenceRows: z.number().int().positive().default(5000),
  poolRows: z.number().int().positive().default(20_000),
  injections: z.array(z.object({ name: z.string(), drift: DriftSpec })).default(
    DEFAULT_INJECTIONS as never,
  ),
  batchSizes: z.array(z.number().int().positive()).default([200, 1000]),
  detectors: z.array(Detector).default([
    "ks",
    "wasserstein",
    "psi",
    "jensenshannon",
    "chisquare",
    "default",
    "domain_classifier",
    "severity",
  ]),
  seeds: z.number().int().min(1).default(3),
  out: z.string().default(`${dataDir()}/experiments`),
});

export default dag({
  id: "drift_experiment",
  description: "Injection × magnitude × batch size × detector grid: power and false positives",
  schedule: null,
  params,
  defaults: { retries: 0, timeout: "1h" },
})
  .task("sample", {
    run: async (ctx) => {
      const p = ctx.params;
      const all = pick(await getTable(ctx, p.data), [...p.features, ...p.extraColumns], p.data);
      // reference and pool are disjoint draws of the same data: clean batches are truly clean
      const both = sampleRows(all, p.referenceRows + p.poolRows, 1);
      const idx = (from: number, to: number): Table =>
        Object.fromEntries(Object.entries(both).map(([k, c]) => [k, c.slice(from, to)])) as Table;
      return {
        reference: await putTable(ctx, idx(0, p.referenceRows)),
        pool: await putTable(ctx, idx(p.referenceRows, p.referenceRows + p.poolRows)),
      };
    },
  })
  .task("grid", {
    run: (ctx) =>
      ctx.params.injections.flatMap((injection) =>
        ctx.params.batchSizes.flatMap((batchSize) =>
          Array.from(
            { length: ctx.params.seeds },
            (_, seed) => ({ injection: injection.name, batchSize, seed }),
          )
        )
      ),
  })
  .task("cell", {
    deps: ["sample", "grid"],
    expand: (ctx) => ctx.xcom("grid"),
    run: async (ctx, cell): Promise<CellResult[]> => {
      const p = ctx.params;
      const s = ctx.xcom("sample");
      const injection = p.injections.find((i) => i.name === cell.injection)!;
      return runCell(await getTable(ctx, s.reference), await getTable(ctx, s.pool), {
        injection,
        batchSize: cell.batchSize,
        seed: cell.seed,
        detectors: p.detectors as Detector[],
        features: p.features,
      });
    },
  })
  .task("summarise", {
    deps: ["cell"],
    run: async (ctx) => {
      const summary = summarise(ctx.xcom("cell").flat());
      const dir = `${ctx.params.out}/run-${ctx.runId}`;
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(`${dir}/summary.csv`, summaryCsv(summary));
      const html = renderExperimentHtml(summary, {
        title: `Drift detection experiment (run ${ctx.runId})`,
      });
      await Deno.writeTextFile(`${dir}/report.html`, html);
      const key = await ctx.putArtifact(html);
      ctx.log(`wrote ${dir}/summary.csv and ${dir}/report.html`);
      return {
        csv: `${dir}/summary.csv`,
        html: `${dir}/report.html`,
        artifact: key,
        cells: summary.length,
      };
    },
  });
