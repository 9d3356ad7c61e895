/**
 * How benchmarks report: a table, then one JSON line per figure.
 *
 * @example
 * ```ts
 * import { printFigures } from "./report.ts";
 * printFigures([{ metric: "engine.tasks_per_s.postgres", value: 812.3, unit: "tasks/s" }]);
 * ```
 */
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { Executor } from "../../runner/executor.ts";
import type { Store } from "../../runner/store/store.ts";

/** One figure of a benchmark. */
export interface Figure {
  metric: string;
  value: number;
  unit: string;
}

/** Prints each figure as a JSON line on stdout. */
export function printFigures(figures: readonly Figure[]): void {
  for (const f of figures) {
    console.log(JSON.stringify({ metric: f.metric, value: round(f.value), unit: f.unit }));
  }
}

/** Rounds to 4 significant digits. */
export function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
}

/** A counter on stderr: "label 12/100". */
export function progress(label: string, done: number, total: number): void {
  if (
    !Deno.stderr.isTerminal() && done !== total && done % Math.max(1, Math.floor(total / 10)) !== 0
  ) return;
  const text = `\r${label} ${done}/${total}${done === total ? "\n" : ""}`;
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

/**
 * An in-process executor for the engine benches (64 task slots, artifacts in a temp dir) that
 * counts finished tasks on stderr as `label: tasks done/total`.
 */
export async function countingExecutor(
  store: Store,
  label: string,
  total: number,
): Promise<Executor> {
  const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
  let done = 0;
  return new Executor({
    store,
    artifacts,
    concurrency: 64,
    onEvent: (e) => {
      if (e.kind === "task" && e.state === "success") progress(`${label}: tasks`, ++done, total);
    },
  });
}
