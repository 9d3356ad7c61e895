/**
 * `deno task serve` as a real process for fault tests: a home folder with a champion model
 * registered (on PostgreSQL at a URL, or on PGlite in the home), the server started on a free port
 * with its output in a log file, killed with any signal, and every wait bounded.
 *
 * @example
 * ```ts
 * const home = await serveHome({ databaseUrl: db.url });
 * const server = startServe(home);
 * try {
 *   await server.ready();
 *   const { ids } = await predictions(server, 100, 8);
 * } finally {
 *   await server.kill("SIGKILL");
 *   await home.remove();
 * }
 * ```
 */
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { openStore } from "../../runner/store/open.ts";
import type { Store } from "../../runner/store/store.ts";
import { fakeFlights } from "../dags/helpers.ts";
import { freePort, waitForHttp } from "../net.ts";

export const TOKEN = "serve-test-token";
export const AUTH = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const FEATURES = ["day_of_week", "hour", "distance", "origin", "destination"];
export const ROW = { day_of_week: 4, hour: 17, distance: 1200, origin: "ORD", destination: "SEA" };

export interface ServeHome {
  home: string;
  dagsDir: string;
  databaseUrl?: string;
  env: Record<string, string>;
  /** Opens the store the server uses (only while the server is not running, for PGlite). */
  openStore(): Promise<Store>;
  remove(): Promise<void>;
}

/**
 * A home folder (empty DAGs folder) with a champion `flights_delay` registered in the store, and
 * the environment that serves it (DRIFTFLOW_SERVE_MODEL).
 */
export async function serveHome(
  opts: { databaseUrl?: string; champion?: boolean } = {},
): Promise<ServeHome> {
  const home = await Deno.makeTempDir({ prefix: "driftflow-serve-" });
  const dagsDir = `${home}/dags`;
  await Deno.mkdir(dagsDir);
  const env: Record<string, string> = {
    DRIFTFLOW_HOME: home,
    DRIFTFLOW_DAGS: dagsDir,
    DRIFTFLOW_TOKEN: TOKEN,
    DRIFTFLOW_SERVE_MODEL: "flights_delay",
    NO_COLOR: "1",
  };
  if (opts.databaseUrl) env.DATABASE_URL = opts.databaseUrl;
  const open = () =>
    opts.databaseUrl
      ? openStore({ databaseUrl: opts.databaseUrl, poolSize: 2 })
      : openStore({ pgliteDir: `${home}/pgdata` });
  if (opts.champion !== false) {
    const store = await open();
    try {
      const data = fakeFlights(1500, 1);
      const table = Object.fromEntries([...FEATURES, "late"].map((c) => [c, data[c]]));
      const { model } = trainModel(table, { target: "late", seed: 1, params: { nEstimators: 10 } });
      const registry = await ModelRegistry.open(store.db);
      const artifacts = openArtifactStore(home, () => undefined);
      const v = await registerModel({ registry, artifacts }, model, {
        name: "flights_delay",
        fingerprint: await fingerprintTable(table),
      });
      await registry.setAlias("flights_delay", "champion", v.version, { reason: "test" });
    } finally {
      await store.close();
    }
  }
  return {
    home,
    dagsDir,
    databaseUrl: opts.databaseUrl,
    env,
    openStore: open,
    remove: () => Deno.remove(home, { recursive: true }).catch(() => {}),
  };
}

export interface ServeProcess {
  port: number;
  base: string;
  pid: number;
  /** Waits until /health answers (any status) within `timeoutMs`. */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends `signal` (no-op once exited). */
  signal(signal: Deno.Signal): void;
  /** Sends `signal` and waits for the exit (SIGKILL after `timeoutMs`). */
  kill(signal?: Deno.Signal, timeoutMs?: number): Promise<Deno.CommandStatus>;
  /** The exit status, or "running" if it has not exited within `timeoutMs`. */
  exited(timeoutMs: number): Promise<Deno.CommandStatus | "running">;
  output(): Promise<string>;
}

/** Starts `deno run -A web/main.ts --port P` (what `deno task serve` runs) in the home. */
export function startServe(
  home: ServeHome,
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): ServeProcess {
  const port = freePort();
  const logFile = `${home.home}/serve-${port}.log`;
  // bash redirects the output to the log file, then execs deno: the pid is the server's
  const child = new Deno.Command("bash", {
    args: [
      "-c",
      'exec "$@" >"$LOG" 2>&1',
      "--",
      Deno.execPath(),
      "run",
      "-A",
      "web/main.ts",
      "--port",
      String(port),
      ...args,
    ],
    env: { ...home.env, ...extraEnv, LOG: logFile },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let status: Deno.CommandStatus | undefined;
  const done = child.status.then((s) => (status = s));
  const base = `http://127.0.0.1:${port}`;
  const proc: ServeProcess = {
    port,
    base,
    pid: child.pid,
    ready: (timeoutMs = 60_000) => waitForHttp(`${base}/health`, () => true, timeoutMs),
    signal(signal) {
      if (status) return;
      try {
        child.kill(signal);
      } catch { /* gone */ }
    },
    async kill(signal = "SIGKILL", timeoutMs = 20_000) {
      proc.signal(signal);
      const s = await proc.exited(timeoutMs);
      if (s !== "running") return s;
      proc.signal("SIGKILL");
      return await done;
    },
    async exited(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"running">((
        r,
      ) => (timer = setTimeout(() => r("running"), timeoutMs)));
      const s = await Promise.race([done, late]);
      clearTimeout(timer);
      return s;
    },
    output: () => Deno.readTextFile(logFile).catch(() => "(no output)"),
  };
  return proc;
}

/** Outcome of a bounded load of single-row predictions. */
export interface Load {
  /** Ids of predictions answered 200. */
  acknowledged: string[];
  /** Count of answers by status (0: no answer, e.g. the connection died). */
  statuses: Map<number, number>;
}

/**
 * Sends `total` single-row predictions over `concurrency` parallel loops (each request bounded by
 * `requestTimeoutMs`); `onAck` sees the running count of acknowledged ones.
 */
export async function predictions(
  server: { base: string },
  total: number,
  concurrency: number,
  opts: { onAck?: (n: number) => void; requestTimeoutMs?: number; row?: unknown } = {},
): Promise<Load> {
  const acknowledged: string[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const body = JSON.stringify({ rows: [opts.row ?? ROW] });
  const loop = async () => {
    while (next < total) {
      next++;
      let status = 0;
      try {
        const res = await fetch(`${server.base}/api/v1/predict`, {
          method: "POST",
          headers: AUTH,
          body,
          signal: AbortSignal.timeout(opts.requestTimeoutMs ?? 30_000),
        });
        status = res.status;
        const json = await res.json();
        if (res.status === 200) {
          acknowledged.push(json.results[0].id);
          opts.onAck?.(acknowledged.length);
        }
      } catch { /* no answer: the server died or the request timed out */ }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { acknowledged, statuses };
}

/** The ids among `ids` that the store does not have. */
export async function missingPredictions(store: Store, ids: string[]): Promise<string[]> {
  const found = await store.db.query<{ id: string }>(
    "select id from predictions where id in (select jsonb_array_elements_text($1::text::jsonb))",
    [JSON.stringify(ids)],
  );
  const have = new Set(found.map((r) => r.id));
  return ids.filter((id) => !have.has(id));
}
