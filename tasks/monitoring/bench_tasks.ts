/**
 * The detection benchmark's mapped work: the grid's chunks (one per batch size × seed), a chunk's
 * cells (every shift, clean batches, a later period, judged by every detector), a scenario of the
 * stream protocol, and the summary written out (text in the log, CSV, an HTML page with heatmaps).
 *
 * @example
 * ```ts
 * import { gridChunks } from "./bench_tasks.ts";
 * const chunks = gridChunks({ sizes: [100, 1000], seeds: 2 });
 * if (JSON.stringify(chunks[1]) !== '{"n":100,"seed":1}' || chunks.length !== 4) throw new Error("size × seed");
 * ```
 */
import { type BenchSetupKeys, loadBenchSetup } from "./bench_artifacts.ts";
import { benchGrid, type CellVerdict, runGridCell, summariseDetection } from "./detection.ts";
import {
  detectionCsv,
  detectionFigures,
  renderDetectionHtml,
  renderDetectionText,
  type StreamRun,
} from "./detection_report.tsx";
import type { ExperimentParams } from "./experiment_params.ts";
import { runStream, type Scenario } from "./stream_protocol.ts";
import type { TaskEnv } from "./task_env.ts";

type Env = Pick<TaskEnv<ExperimentParams>, "params" | "log" | "putArtifact" | "getArtifact">;

/** One mapped instance of the grid per batch size and seed. */
export function gridChunks(p: Pick<ExperimentParams, "sizes" | "seeds">) {
  return p.sizes.flatMap((n) => Array.from({ length: p.seeds }, (_, seed) => ({ n, seed })));
}

/** Judges every cell of one chunk (size `n`, seed `seed`) of the grid. */
export async function runCellChunk(
  ctx: Env,
  keys: BenchSetupKeys,
  chunk: { n: number; seed: number },
): Promise<CellVerdict[]> {
  const p = ctx.params;
  const setup = await loadBenchSetup(ctx, keys);
  const cells = benchGrid({
    shifts: p.shifts,
    sizes: [chunk.n],
    seeds: 1,
    clean: p.clean,
    later: setup.later.length > 0,
  }).map((c) => ({ ...c, seed: chunk.seed }));
  return cells.map((c) => runGridCell(setup, c, { shifts: p.shifts, policy: p.policy }));
}

/** Runs one scenario of the stream protocol over the later periods (seed 1). */
export async function runScenario(ctx: Env, keys: BenchSetupKeys, scenario: Scenario) {
  const setup = await loadBenchSetup(ctx, keys);
  return runStream(
    setup,
    scenario,
    { batchSize: ctx.params.streamBatch, seed: 1 },
    ctx.params.policy,
  );
}

/**
 * Summarises the cells and streams: the text to the log, `summary.csv` and `report.html` under
 * `<out>/run-<runId>`, the page and CSV as artifacts, and the headline figures.
 */
export async function writeDetectionSummary(
  ctx: Env & Pick<TaskEnv<ExperimentParams>, "runId">,
  cells: CellVerdict[],
  streams: StreamRun[],
) {
  const summary = summariseDetection(cells);
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
    cells: cells.length,
    figures: detectionFigures(summary, streams),
  };
}
