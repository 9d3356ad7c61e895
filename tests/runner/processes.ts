/**
 * Real processes for the distributed tests: schedulers and workers spawned from the CLI against a
 * fresh PostgreSQL database, killed as a test needs, their output kept in files to read on failure.
 */
import { freshDatabase } from "./helpers.ts";
import { openPostgres } from "../../runner/store/postgres.ts";
import { Store } from "../../runner/store/store.ts";
import { dag, type DagDefinition } from "../../runner/dag.ts";
import { createDagRun } from "../../runner/runs.ts";
import { CHANNEL_SCHEDULER, TaskQueue } from "../../runner/store/queue.ts";
import type { DagRun } from "../../runner/store/types.ts";

export interface Proc {
  name: string;
  child: Deno.ChildProcess;
  logFile: string;
  /** SIGKILL (no clean-up) or SIGTERM (graceful). */
  kill(signal?: Deno.Signal): Promise<void>;
  output(): Promise<string>;
}

export interface Cluster {
  url: string;
  store: Store;
  env: Record<string, string>;
  spawn(name: string, args: string[], env?: Record<string, string>): Proc;
  close(): Promise<void>;
}

/** A fresh database (on `server`, default the test server) and a way to spawn CLI processes on it. */
export async function cluster(
  dagsDir = "tests/fixtures/dags_dist",
  server?: string,
): Promise<Cluster> {
  const db = await freshDatabase(server);
  const home = await Deno.makeTempDir({ prefix: "driftflow-dist-" });
  const store = new Store(await openPostgres(db.url, 4));
  await store.migrate();
  const env = {
    DATABASE_URL: db.url,
    DRIFTFLOW_DAGS: dagsDir,
    DRIFTFLOW_HOME: home,
    NO_COLOR: "1",
  };
  const procs: Proc[] = [];
  return {
    url: db.url,
    store,
    env,
    spawn(name, args, extra = {}) {
      const logFile = `${home}/${name}.log`;
      // The process writes straight to its log files (bash redirects, then execs deno: same pid).
      const child = new Deno.Command("bash", {
        args: [
          "-c",
          'exec "$@" 2>"$LOG" >"$LOG.stdout"',
          "--",
          Deno.execPath(),
          "run",
          "-A",
          "runner/cli/main.ts",
          ...args,
        ],
        env: { ...env, ...extra, LOG: logFile },
        stdout: "null",
        stderr: "null",
      }).spawn();
      let done = false;
      const status = child.status.finally(() => (done = true));
      const proc: Proc = {
        name,
        child,
        logFile,
        async kill(signal = "SIGKILL") {
          if (!done) {
            try {
              child.kill(signal);
            } catch { /* gone */ }
          }
          await status;
        },
        output: () => Deno.readTextFile(logFile),
      };
      procs.push(proc);
      return proc;
    },
    async close() {
      await Promise.all(procs.map((p) => p.kill("SIGKILL")));
      await store.close();
      await db.drop();
      await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

/** Polls `fn` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`,
  );
}

/** What a command printed and how it exited. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Driftflow command as a user would (`deno run -A <entry> …args`, default the runner's CLI)
 * with `env`, bounded by `timeoutMs` (every process a test starts is bounded), and returns what it
 * printed.
 */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  { entry = "runner/cli/main.ts", timeoutMs = 120_000 } = {},
): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", entry, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The worker and scheduler options the fault tests use: quick heartbeats, quick reaping. */
export const FAST_SCHEDULER = ["scheduler", "--tick-ms", "100", "--zombie-after-s", "2"];
export const FAST_WORKER = [
  "worker",
  "--heartbeat-ms",
  "200",
  "--poll-ms",
  "100",
  "--concurrency",
  "2",
];

/** A distributed run of `dag`, announced to the scheduler. */
export async function startRun(
  store: Store,
  dag: DagDefinition,
  params: Record<string, unknown> = {},
): Promise<DagRun> {
  const run = await createDagRun(store, dag, { params, executor: "distributed" });
  await new TaskQueue(store.db).notify(CHANNEL_SCHEDULER, String(run.id));
  return run;
}

/** The run once it has ended (success or failed), polled; fails after `timeoutMs`. */
export async function finished(store: Store, runId: number, timeoutMs = 60_000): Promise<DagRun> {
  return await eventually(`run ${runId} to finish`, async () => {
    const r = await store.getRun(runId);
    return r?.state === "success" || r?.state === "failed" ? r : undefined;
  }, timeoutMs);
}

/** The last lines each process wrote, for an assertion's message. */
export async function dump(procs: Proc[]): Promise<string> {
  return (await Promise.all(
    procs.map(async (p) => `--- ${p.name}\n${(await p.output().catch(() => "")).slice(-3000)}`),
  )).join("\n");
}

/**
 * A DAG builder seen through the one call a loop makes. The typed builder's type grows with every
 * `.task` (each id joins the type), which a loop cannot express; tests that build thousands of tasks
 * in a loop use this view instead of `any`.
 */
export interface LoopBuilder {
  task(id: string, def: { deps?: string[]; run: () => number }): LoopBuilder;
}

/** Builds the chain t0 → t1 → … → t(n−1) with the real builder, calling `onTask` after each. */
export function buildChain(
  id: string,
  n: number,
  onTask: (i: number) => void = () => {},
): DagDefinition {
  let d = dag({ id }).task("t0", { run: () => 0 }) as unknown as LoopBuilder;
  for (let i = 1; i < n; i++) {
    d = d.task(`t${i}`, { deps: [`t${i - 1}`], run: () => i });
    onTask(i);
  }
  return d as unknown as DagDefinition;
}
