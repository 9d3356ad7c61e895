/**
 * How benchmarks report: a table, then one JSON line per figure.
 *
 * @example
 * ```ts
 * import { printFigures } from "./report.ts";
 * printFigures([{ metric: "engine.tasks_per_s.postgres", value: 812.3, unit: "tasks/s" }]);
 * ```
 */

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
