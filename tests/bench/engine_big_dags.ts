/**
 * Big DAGs in `deno task bench engine`: the per-task cost of a DAG of 1,000 task instances and of
 * one of 50,000 (big_dag.ts: a fan-out and a mapped task n/50 wide), each built with the authoring
 * builder, validated, given a run and run to the end in one process on PostgreSQL — cost = that
 * wall time ÷ task instances; the goal is the 50,000 cost within 1.5× the 1,000 cost — and the time
 * of `deno task dags validate` on a folder holding the 50,000-task DAG file (a child process, as a
 * user runs it; goal under 1 s).
 *
 * @example
 * ```ts
 * import { measureBigDags } from "./engine_big_dags.ts";
 * const { rows, validateS, figures } = await measureBigDags();
 * ```
 */
import { fileURLToPath } from "node:url";
import { createDagRun } from "../../runner/runs.ts";
import { openPostgres } from "../../runner/store/postgres.ts";
import { Store } from "../../runner/store/store.ts";
import { validateDag } from "../../runner/validate.ts";
import { freshDatabase } from "../runner/helpers.ts";
import { bigDag } from "./big_dag.ts";
import { countingExecutor, type Figure, round } from "./report.ts";

/** Task instances of the small and the big DAG. */
export const SIZES = [1_000, 50_000] as const;
const VALIDATE_TIMEOUT_MS = 300_000;

/** Build, validate, create a run and run to the end: ms per task instance. */
async function runBig(store: Store, n: number): Promise<{ ms: number; buildMs: number }> {
  const ex = await countingExecutor(store, `big DAG ${n}`, n);
  const t0 = performance.now();
  const d = bigDag(n);
  const problems = validateDag(d, "bench");
  if (problems.length) throw new Error(`the big DAG is invalid: ${problems[0]}`);
  const buildMs = performance.now() - t0;
  const run = await createDagRun(store, d);
  const r = await ex.runToEnd(d, run.id);
  if (r.state !== "success") throw new Error(`${d.id} ended ${r.state}`);
  return { ms: performance.now() - t0, buildMs };
}

/** `deno task dags validate` over a folder with the 50,000-task DAG file: wall seconds. */
async function validateTime(n: number): Promise<number> {
  const dir = await Deno.makeTempDir({ prefix: "driftflow-big-dag-" });
  try {
    const lib = new URL("./big_dag.ts", import.meta.url).href;
    await Deno.writeTextFile(
      `${dir}/big.ts`,
      `import { bigDag } from "${lib}";\nexport default bigDag(${n});\n`,
    );
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "runner/cli/main.ts", "dags", "validate"],
      cwd: root,
      env: { DRIFTFLOW_DAGS: dir },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(VALIDATE_TIMEOUT_MS),
    }).output();
    const s = (performance.now() - t0) / 1000;
    const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    if (!out.success || !said.includes("1 valid DAG(s)")) {
      throw new Error(`dags validate of the ${n}-task DAG failed:\n${said}`);
    }
    return s;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs the big-DAG measurements; returns table rows, the validate seconds and figures. */
export async function measureBigDags(): Promise<
  { rows: string[][]; validateS: number; figures: Figure[] }
> {
  const db = await freshDatabase();
  const store = new Store(await openPostgres(db.url, 10));
  const cost: Record<number, { perTask: number; buildMs: number }> = {};
  try {
    await store.migrate();
    for (const n of SIZES) {
      const m = await runBig(store, n);
      cost[n] = { perTask: m.ms / n, buildMs: m.buildMs };
    }
  } finally {
    await store.close();
    await db.drop();
  }
  console.error("dags validate of the 50,000-task DAG…");
  const validateS = await validateTime(SIZES[1]);
  const [small, big] = SIZES;
  const ratio = cost[big].perTask / cost[small].perTask;
  const rows = [
    ["task instances", "build + validate ms", "ms/task (all)", "vs 1,000"],
    ...SIZES.map((n) => [
      n.toLocaleString("en"),
      String(round(cost[n].buildMs)),
      String(round(cost[n].perTask)),
      `${round(cost[n].perTask / cost[small].perTask)}×`,
    ]),
  ];
  const figures: Figure[] = [
    { metric: "engine.big_dag_ms_per_task.1000", value: cost[small].perTask, unit: "ms" },
    { metric: "engine.big_dag_ms_per_task.50000", value: cost[big].perTask, unit: "ms" },
    { metric: "engine.big_dag_cost_ratio", value: ratio, unit: "ratio" },
    { metric: "engine.big_dag_validate_s", value: validateS, unit: "s" },
  ];
  return { rows, validateS, figures };
}
