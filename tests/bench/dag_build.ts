/**
 * `deno task bench dag-build [--tasks N]`: building and validating a chain of N tasks (default
 * 50,000) with the authoring API, beside a copy-on-add builder (each `.task` copies the task list,
 * as the builder did before it shared its tasks) as the reference. Prints a table, then JSON lines.
 *
 * @example
 * ```sh
 * deno task bench dag-build --tasks 50000
 * ```
 */
import { parseArgs } from "node:util";
import { buildChain } from "../runner/processes.ts";
import type { DagDefinition, TaskDef } from "../../runner/dag.ts";
import { validateDag } from "../../runner/validate.ts";
import { printFigures, progress } from "./report.ts";

/** Builds the chain with the API; returns the DAG. */
function buildShared(n: number): DagDefinition {
  return buildChain("bench_build", n, (i) => {
    if (i % 5000 === 0) progress("shared builder", i, n);
  });
}

/** The reference: the same task records, the list copied on every add. */
function buildCopying(n: number, defs: readonly TaskDef[]): number {
  let tasks: readonly TaskDef[] = [];
  for (let i = 0; i < n; i++) {
    tasks = [...tasks, defs[i]];
    if (i % 5000 === 0) progress("copy-on-add builder", i, n);
  }
  return tasks.length;
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { tasks: { type: "string" } } });
  const n = Number(values.tasks ?? 50_000);
  if (!Number.isInteger(n) || n < 2) throw new Error(`--tasks must be an integer ≥ 2, got ${n}`);
  let t = performance.now();
  const d = buildShared(n);
  const buildMs = performance.now() - t;
  t = performance.now();
  const problems = validateDag(d, "bench.ts");
  const validateMs = performance.now() - t;
  if (problems.length) throw new Error(`the bench DAG is invalid: ${problems[0]}`);
  t = performance.now();
  buildCopying(n, d.tasks);
  const copyMs = performance.now() - t;
  await Promise.resolve();
  console.log(`| figure (${n} tasks)    | shared builder | copy-on-add | ratio |`);
  console.log(
    `| build                  | ${buildMs.toFixed(0)} ms | ${copyMs.toFixed(0)} ms | ${
      (copyMs / buildMs).toFixed(1)
    }× |`,
  );
  console.log(`| validate               | ${validateMs.toFixed(0)} ms | - | - |`);
  printFigures([
    { metric: "dag.build_ms", value: buildMs, unit: "ms" },
    { metric: "dag.build_copy_on_add_ms", value: copyMs, unit: "ms" },
    { metric: "dag.validate_ms", value: validateMs, unit: "ms" },
  ]);
}
