/**
 * The big DAG of `deno task bench engine`, built the way a DAG file builds one — with the authoring
 * builder, one `.task` call per task: a root, a fan-out of n − n/50 − 1 no-op tasks after it and a
 * mapped task of n/50 items after it, n task instances in all (50,000: a 1,000-wide mapped task).
 * Kept apart from the bench so that a DAG file can import it without the engine.
 *
 * @example
 * ```ts
 * import { bigDag } from "./big_dag.ts";
 * export default bigDag(50_000); // in a DAG file: `deno task dags validate` loads it
 * ```
 */
import { dag, type DagDefinition } from "../../runner/dag.ts";

/** The builder with its per-task typing erased: a loop of `.task` calls cannot be typed call by call. */
interface LooseDag {
  task(
    id: string,
    spec: { deps?: string[]; expand?: () => number[]; run: (...args: never[]) => unknown },
  ): LooseDag;
}

/** How wide the mapped task of an n-instance big DAG is. */
export function mappedWidth(n: number): number {
  return Math.max(1, Math.round(n / 50));
}

/** A DAG of n task instances (n ≥ 3): root, fan-out, and a mapped task. */
export function bigDag(n: number, id = `bench_big_${n}`): DagDefinition {
  const width = mappedWidth(n);
  let d = dag({ id, maxActiveTasks: 64 }) as unknown as LooseDag;
  d = d.task("root", { run: () => {} });
  for (let i = 1; i < n - width; i++) d = d.task(`t${i}`, { deps: ["root"], run: () => {} });
  d = d.task("mapped", {
    deps: ["root"],
    expand: () => Array.from({ length: width }, (_, i) => i),
    run: () => {},
  });
  return d as unknown as DagDefinition;
}
