/**
 * `deno task serve [--host 127.0.0.1] [--port 8080] [--scheduler]`: the web app, and with
 * --scheduler a scheduler and a worker in the same process (on PGlite too). Binds 127.0.0.1 unless
 * told otherwise. Without DRIFTFLOW_TOKEN a random token is made and printed. SIGINT/SIGTERM stop it
 * at any moment, start-up included (in-flight requests finish; a second signal exits at once).
 * DRIFTFLOW_SERVE_MODEL names the model /health checks and /api/v1/predict serves when a request
 * names none (unset: no such model, and /health says so).
 *
 * @example
 * ```sh
 * DRIFTFLOW_TOKEN=s3cret DRIFTFLOW_SERVE_MODEL=my_model deno task serve --port 8080 --scheduler
 * ```
 */
import {
  intOption,
  loadAndSync,
  openStores,
  parse,
  positiveIntOption,
  UsageError,
} from "../runner/cli/common.ts";
import { makeScheduler } from "../runner/cli/processes.ts";
import { CHANNEL_SCHEDULER, TaskQueue } from "../runner/store/queue.ts";
import { Worker } from "../runner/worker.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import { createApp } from "./app.tsx";
import { openOnce, runThenClose, servingFor } from "./services/serving.ts";
import { NO_SERVE_MODEL } from "./services/deps.ts";

export const USAGE =
  "usage: deno task serve [--host 127.0.0.1] [--port 8080] [--scheduler] [--concurrency N]";

/** Resolves with "stopped" when `signal` aborts (at once if it already has). */
function stopped(signal: AbortSignal): Promise<"stopped"> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve("stopped");
    else signal.addEventListener("abort", () => resolve("stopped"), { once: true });
  });
}

/**
 * Start-up steps race the stop signal: a SIGINT/SIGTERM during start-up ends the command once the
 * step in progress has given back what it opened (bounded by `graceMs`), instead of being lost.
 */
async function step<T>(
  signal: AbortSignal,
  work: Promise<T>,
  dispose: (value: T) => Promise<void>,
  graceMs = 5_000,
): Promise<T | undefined> {
  const first = await Promise.race([work, stopped(signal)]);
  if (!signal.aborted) return first as T;
  // stopping: let the step finish (bounded) so what it opened is closed, not leaked
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), graceMs)));
  const value = await Promise.race([work.catch(() => undefined), late]);
  clearTimeout(timer);
  if (value !== undefined) await dispose(value as T).catch(() => {});
  return undefined;
}

export async function serveCommand(args: string[]): Promise<number> {
  // Listen first: a signal at any moment from here on stops the command (start-up included).
  // A second signal exits at once.
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) {
      console.error("driftflow serve: second signal, exiting now");
      Deno.exit(130);
    }
    console.error("driftflow serve: stopping");
    controller.abort();
  };
  const signals = ["SIGTERM", "SIGINT"] as const;
  for (const sig of signals) Deno.addSignalListener(sig, onSignal);
  try {
    return await serve(args, controller.signal);
  } finally {
    for (const sig of signals) Deno.removeSignalListener(sig, onSignal);
  }
}

async function serve(args: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(args, {
    host: { type: "string" },
    port: { type: "string" },
    scheduler: { type: "boolean" },
    concurrency: { type: "string" },
    "tick-ms": { type: "string" },
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const hostname = values.host ?? "127.0.0.1";
  const port = intOption("port", values.port, 8080);
  // Checked before anything starts: a bad value is a usage error (exit 2), never a hang.
  const tickMs = positiveIntOption("tick-ms", values["tick-ms"], 1000);
  const concurrency = positiveIntOption("concurrency", values.concurrency, 4);
  let token = Deno.env.get("DRIFTFLOW_TOKEN") ?? "";
  if (!token) {
    token = crypto.randomUUID().replaceAll("-", "");
    console.error(`DRIFTFLOW_TOKEN is not set; this server's token is ${token}`);
  }
  const opened = await step(signal, openStores(), (s) => s.store.close());
  if (!opened) return 0;
  const { store, artifacts } = opened;
  try {
    const loaded = await step(signal, loadAndSync(store), async () => {});
    if (!loaded) return 0;
    for (const p of loaded.problems) console.error(`warning: ${p}`);
    const queue = new TaskQueue(store.db);
    const deps = {
      store,
      registry: openOnce(() => ModelRegistry.open(store.db)),
      dags: () => loaded.dags,
      token,
      artifacts,
      onRunCreated: (id: number) => queue.notify(CHANNEL_SCHEDULER, String(id)),
      serveModel: Deno.env.get("DRIFTFLOW_SERVE_MODEL") || undefined,
    };
    if (!deps.serveModel) {
      console.error(`DRIFTFLOW_SERVE_MODEL is not set: ${NO_SERVE_MODEL}`);
    }
    const serving = servingFor(deps);
    const app = createApp({ ...deps, serving });
    if (signal.aborted) return 0;
    const server = Deno.serve({
      hostname,
      port,
      signal,
      onListen: () => console.error(`driftflow web on http://${hostname}:${port}`),
    }, app.fetch);
    const work: Promise<unknown>[] = [server.finished];
    if (values.scheduler) {
      const scheduler = makeScheduler(
        store,
        loaded.dags,
        artifacts,
        tickMs,
      );
      const worker = new Worker({
        store,
        dags: loaded.dags,
        artifacts,
        concurrency,
      }, true);
      work.push(scheduler.run(signal), worker.run(signal));
    }
    // every answered prediction is committed; this writes what requests that gave up left queued,
    // also when the scheduler or the worker fails (before the store closes)
    await runThenClose(work, serving);
    return 0;
  } finally {
    await store.close();
  }
}
