/**
 * The inside of a task isolate (a Deno Worker, see isolated_task.ts): it imports one DAG file,
 * then runs one try of one function task of it with a context of its own — its own connection to
 * the PostgreSQL server (`DATABASE_URL`, opened on first use) and the artifact store the
 * environment names — and posts back log lines and the outcome. The parent terminates the isolate
 * when the try is aborted, so code that ignores `ctx.signal` stops there.
 *
 * Messages in: `{ kind: "load", file }`, `{ kind: "run", … }`, `{ kind: "abort", name, message }`.
 * Messages out: `loaded`, `log`, `done`, `error` (see {@link IsolateOut}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { IsolateOut } from "./isolate_entry.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(
 *   `${dir}/example.ts`,
 *   `import { dag } from "${new URL("./dag.ts", import.meta.url).href}";
 * export default dag({ id: "example" }).task("hello", { run: () => "hi" });`,
 * );
 * const w = new Worker(new URL("./isolate_entry.ts", import.meta.url), { type: "module" });
 * const next = () =>
 *   new Promise<IsolateOut>((resolve) => (w.onmessage = (e) => resolve(e.data)));
 * try {
 *   w.postMessage({ kind: "load", file: `file://${dir}/example.ts` });
 *   assert.deepEqual(await next(), { kind: "loaded" });
 *   const at = new Date("2026-01-01T00:00:00Z");
 *   w.postMessage({
 *     kind: "run",
 *     dagId: "example",
 *     run: {
 *       id: 1, dagId: "example", logicalDate: at, dataIntervalStart: at, dataIntervalEnd: at,
 *       runType: "manual", state: "running", conf: {}, params: {}, structureHash: "",
 *       triggeredBy: null, executor: "distributed", queuedAt: at, startDate: at, endDate: null,
 *     },
 *     taskId: "hello",
 *     mapIndex: -1,
 *     tryNumber: 1,
 *     item: undefined,
 *     tis: [],
 *     outputs: new Map(),
 *     hostname: "box",
 *     databaseUrl: "postgres://db.invalid/driftflow", // opened only when the task queries
 *     home: dir,
 *   });
 *   assert.deepEqual(await next(), { kind: "done", value: "hi" });
 * } finally {
 *   w.terminate();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
/// <reference lib="deno.worker" />
// Heavy modules (postgres.js, the S3 client) are imported on first use only: an isolate starts
// for every try, and a try that does not use them should not pay for loading them.
import { join } from "node:path";
import type { ArtifactStore } from "./artifacts/artifact_store.ts";
import { LocalArtifactStore } from "./artifacts/local.ts";
import { systemClock } from "./clock.ts";
import type { DagDefinition } from "./dag.ts";
import { RunDecisions, type Ti } from "./run_decisions.ts";
import type { SqlClient } from "./store/sql_client.ts";
import { Store } from "./store/store.ts";
import type { DagRun } from "./store/types.ts";
import { TaskContexts } from "./task_context.ts";

/** What one try needs to run in an isolate. */
export interface IsolateRun {
  kind: "run";
  dagId: string;
  run: DagRun;
  taskId: string;
  mapIndex: number;
  tryNumber: number;
  item: unknown;
  /** The task instances the try reads (its ancestors and itself). */
  tis: Ti[];
  /** Their outputs: task id → map index → value. */
  outputs: Map<string, Map<number, unknown>>;
  hostname: string;
  databaseUrl: string;
  /** The data home (for the local artifact store). */
  home: string;
}

/** What an isolate posts. */
export type IsolateOut =
  | { kind: "loaded" }
  | { kind: "log"; line: string }
  | { kind: "done"; value: unknown }
  | { kind: "error"; name: string; message: string; stack?: string };

type In =
  | { kind: "load"; file: string }
  | IsolateRun
  | { kind: "abort"; name: string; message: string };

const post = (m: IsolateOut) => self.postMessage(m);
let dags: Promise<Map<string, DagDefinition>> | null = null;
const controller = new AbortController();

/** A PostgreSQL client that connects on first use (a try that never queries opens nothing). */
function lazyPostgres(url: string): SqlClient {
  let client: Promise<SqlClient> | null = null;
  const get = () =>
    client ??= import("./store/postgres.ts").then(({ openPostgres }) => openPostgres(url, 2));
  return {
    kind: "postgres",
    query: async (text, params) => await (await get()).query(text, params),
    exec: async (text) => await (await get()).exec(text),
    transaction: async (fn) => await (await get()).transaction(fn),
    listen: async (channel, fn) => await (await get()).listen(channel, fn),
    close: async () => {
      if (client) await (await client).close();
    },
  };
}

/** The artifact store the environment names (S3 only when DRIFTFLOW_S3_BUCKET is set). */
async function artifactStore(home: string): Promise<ArtifactStore> {
  if (!Deno.env.get("DRIFTFLOW_S3_BUCKET")) return new LocalArtifactStore(join(home, "artifacts"));
  const { openArtifactStore } = await import("./artifacts/open.ts");
  return openArtifactStore(home);
}

async function runTry(m: IsolateRun): Promise<unknown> {
  const dag = (await dags!).get(m.dagId);
  if (!dag) throw new Error(`the DAG file loaded in the isolate has no dag "${m.dagId}"`);
  const task = dag.tasks.find((t) => t.id === m.taskId);
  if (!task?.run) throw new Error(`dag "${m.dagId}" has no function task "${m.taskId}"`);
  const db = lazyPostgres(m.databaseUrl);
  const env = { store: new Store(db), clock: systemClock, artifacts: await artifactStore(m.home) };
  const decisions = new RunDecisions(dag);
  for (const ti of m.tis) decisions.put(ti);
  const contexts = new TaskContexts(env, m.run, decisions);
  for (const [id, values] of m.outputs) {
    for (const [i, v] of values) contexts.setOutput(id, i, v);
  }
  const ctx = contexts.context(
    task,
    m.mapIndex,
    m.tryNumber,
    controller.signal,
    (line) => post({ kind: "log", line }),
  );
  try {
    return await task.run(ctx, m.item);
  } finally {
    await db.close().catch(() => {});
  }
}

self.onmessage = (e: MessageEvent<In>) => {
  const m = e.data;
  if (m.kind === "load") {
    dags = import(m.file).then((mod) => {
      const dag = mod.default as DagDefinition;
      return new Map([[dag.id, dag]]);
    });
    dags.then(() => post({ kind: "loaded" }), () => post({ kind: "loaded" }));
  } else if (m.kind === "abort") {
    const reason = new Error(m.message);
    reason.name = m.name;
    controller.abort(reason);
  } else {
    runTry(m).then(
      (value) => {
        try {
          post({ kind: "done", value });
        } catch (e) {
          post({
            kind: "error",
            name: "Error",
            message: `the task's return value cannot leave its isolate: ${(e as Error).message}`,
          });
        }
      },
      (e) => {
        const err = e instanceof Error ? e : new Error(String(e));
        post({ kind: "error", name: err.name, message: err.message, stack: err.stack });
      },
    );
  }
};
