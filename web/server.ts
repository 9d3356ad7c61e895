/**
 * `deno task serve [--host 127.0.0.1] [--port 8080] [--scheduler]`: the web app, and with
 * --scheduler a scheduler and a worker in the same process (on PGlite too). Binds 127.0.0.1 unless
 * told otherwise. Without DRIFTFLOW_TOKEN a random token is made and printed.
 *
 * @example
 * ```sh
 * DRIFTFLOW_TOKEN=s3cret deno task serve --port 8080 --scheduler
 * ```
 */
import { intOption, loadAndSync, openStores, parse, UsageError } from "../runner/cli/common.ts";
import { makeScheduler } from "../runner/cli/processes.ts";
import { CHANNEL_SCHEDULER, TaskQueue } from "../runner/store/queue.ts";
import { Worker } from "../runner/worker.ts";
import { ModelRegistry } from "../models/registry/registry.ts";
import { createApp } from "./app.tsx";

export const USAGE =
  "usage: deno task serve [--host 127.0.0.1] [--port 8080] [--scheduler] [--concurrency N]";

export async function serveCommand(args: string[]): Promise<number> {
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
  let token = Deno.env.get("DRIFTFLOW_TOKEN") ?? "";
  if (!token) {
    token = crypto.randomUUID().replaceAll("-", "");
    console.error(`DRIFTFLOW_TOKEN is not set; this server's token is ${token}`);
  }
  const { store, artifacts } = await openStores();
  const controller = new AbortController();
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    Deno.addSignalListener(sig, () => controller.abort());
  }
  try {
    const loaded = await loadAndSync(store);
    for (const p of loaded.problems) console.error(`warning: ${p}`);
    const queue = new TaskQueue(store.db);
    let registry: Promise<ModelRegistry> | undefined;
    const app = createApp({
      store,
      registry: () => (registry ??= ModelRegistry.open(store.db)),
      dags: () => loaded.dags,
      token,
      artifacts,
      onRunCreated: (id) => queue.notify(CHANNEL_SCHEDULER, String(id)),
      serveModel: Deno.env.get("DRIFTFLOW_SERVE_MODEL") ?? "flights_delay",
    });
    const server = Deno.serve({
      hostname,
      port,
      signal: controller.signal,
      onListen: () => console.error(`driftflow web on http://${hostname}:${port}`),
    }, app.fetch);
    const work: Promise<unknown>[] = [server.finished];
    if (values.scheduler) {
      const scheduler = makeScheduler(
        store,
        loaded.dags,
        artifacts,
        intOption("tick-ms", values["tick-ms"], 1000),
      );
      const worker = new Worker({
        store,
        dags: loaded.dags,
        artifacts,
        concurrency: intOption("concurrency", values.concurrency, 4),
      }, true);
      work.push(scheduler.run(controller.signal), worker.run(controller.signal));
    }
    await Promise.all(work);
    return 0;
  } finally {
    await store.close();
  }
}
