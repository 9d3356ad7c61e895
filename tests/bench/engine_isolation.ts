/**
 * The cost of isolating function tasks (isolated_task.ts): `tries` sequential tries of a no-op
 * task of a DAG file, each in a fresh isolate (a Deno Worker that imports the file; one spare is
 * started ahead), against the same calls in this process. The difference is what a worker pays
 * per try of a task with a timeout (isolation "timeout", the default) or of every function task
 * (isolation "always").
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { IsolatePool } from "../../runner/isolated_task.ts";
import type { DagRun } from "../../runner/store/types.ts";
import { progress } from "./report.ts";

const FILE = pathToFileURL(resolve("tests/fixtures/dags_bench/chain.ts")).href;

/** Milliseconds per try: in an isolate, and in this process. */
export async function measureIsolation(
  tries = 100,
): Promise<{ isolated: number; inProcess: number }> {
  const now = new Date();
  const run: DagRun = {
    id: 1,
    dagId: "bench_chain",
    logicalDate: now,
    dataIntervalStart: now,
    dataIntervalEnd: now,
    runType: "manual",
    state: "running",
    conf: {},
    params: {},
    structureHash: "bench",
    triggeredBy: null,
    executor: "distributed",
    queuedAt: now,
    startDate: now,
    endDate: null,
  };
  const pool = new IsolatePool();
  const signal = new AbortController().signal;
  try {
    // The first import compiles the module graph; it is not a per-try cost.
    const message = (i: number) => ({
      kind: "run" as const,
      dagId: "bench_chain",
      run,
      taskId: "t0",
      mapIndex: -1,
      tryNumber: i + 1,
      item: undefined,
      tis: [],
      outputs: new Map(),
      hostname: "bench",
      databaseUrl: "postgres://unused@127.0.0.1:1/unused",
      home: ".driftflow",
    });
    await pool.run(FILE, message(0), signal, () => {});
    const t0 = performance.now();
    for (let i = 0; i < tries; i++) {
      await pool.run(FILE, message(i), signal, () => {});
      progress("isolated tries", i + 1, tries);
    }
    const isolated = (performance.now() - t0) / tries;
    const { default: dag } = await import(FILE);
    const task = dag.tasks[0];
    const t1 = performance.now();
    for (let i = 0; i < tries; i++) await Promise.resolve().then(() => task.run({}, undefined));
    const inProcess = (performance.now() - t1) / tries;
    return { isolated, inProcess };
  } finally {
    pool.close();
  }
}
