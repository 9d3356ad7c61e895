/**
 * The long-running processes: `deno task scheduler` and `deno task worker [--concurrency N]
 * [--pools a,b]` (`deno task serve --scheduler`, in web/, runs both with the web app). They stop on SIGTERM or SIGINT: the scheduler at once, a worker
 * after its running tries finish (within --grace seconds) or are released to other workers.
 *
 * @example
 * ```sh
 * DATABASE_URL=postgres://db/driftflow deno task worker --concurrency 8 --pools default_pool,gpu
 * ```
 */
import type { ArtifactStore } from "../artifacts/artifact_store.ts";
import type { DagDefinition } from "../dag.ts";
import { openLeaderLock } from "../leader.ts";
import type { Store } from "../store/store.ts";
import { Scheduler } from "../scheduler.ts";
import { Worker } from "../worker.ts";
import { intOption, loadAndSync, openStores, parse, UsageError } from "./common.ts";
import { positiveIntOption } from "./common.ts";

export const SCHEDULER_USAGE = "usage: deno task scheduler [--tick-ms N] [--zombie-after-s N]";
export const WORKER_USAGE =
  "usage: deno task worker [--concurrency N] [--pools a,b] [--heartbeat-ms N] [--poll-ms N] [--grace-s N]";

/** A scheduler for this process's store, leading through the server's advisory lock when there is one. */
export function makeScheduler(
  store: Store,
  dags: Map<string, DagDefinition>,
  artifacts: ArtifactStore,
  tickMs: number,
  zombieAfterMs?: number,
): Scheduler {
  return new Scheduler({
    store,
    dags,
    artifacts,
    leader: openLeaderLock(store.db.kind === "postgres" ? Deno.env.get("DATABASE_URL") : undefined),
    tickMs,
    zombieAfterMs,
  });
}

function stopSignal(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  for (const sig of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(sig, stop);
  return controller.signal;
}

const schedulerOptions = {
  "tick-ms": { type: "string" },
  "zombie-after-s": { type: "string" },
} as const;
const workerOptions = {
  concurrency: { type: "string" },
  pools: { type: "string" },
  "heartbeat-ms": { type: "string" },
  "poll-ms": { type: "string" },
  "grace-s": { type: "string" },
} as const;

async function start(args: string[], mode: "scheduler" | "worker"): Promise<number> {
  const { values, positionals } = parse(args, { ...schedulerOptions, ...workerOptions });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const concurrency = positiveIntOption("concurrency", values.concurrency, 4);
  const { store, artifacts } = await openStores();
  const stop = stopSignal();
  try {
    const loaded = await loadAndSync(store);
    for (const p of loaded.problems) console.error(`warning: ${p}`);
    const work: Promise<void>[] = [];
    if (mode !== "worker") {
      const scheduler = makeScheduler(
        store,
        loaded.dags,
        artifacts,
        intOption("tick-ms", values["tick-ms"], 1000),
        intOption("zombie-after-s", values["zombie-after-s"], 30) * 1000,
      );
      work.push(scheduler.run(stop));
    }
    if (mode !== "scheduler") {
      const worker = new Worker({
        store,
        dags: loaded.dags,
        artifacts,
        concurrency,
        pools: values.pools ? values.pools.split(",").map((p) => p.trim()).filter(Boolean) : null,
        heartbeatMs: intOption("heartbeat-ms", values["heartbeat-ms"], 5000),
        pollMs: intOption("poll-ms", values["poll-ms"], 1000),
        graceMs: intOption("grace-s", values["grace-s"], 30) * 1000,
      });
      work.push(worker.run(stop));
    }
    await Promise.all(work);
    return 0;
  } catch (e) {
    if (e instanceof Error && e.message.startsWith("workers need a PostgreSQL server")) {
      throw new UsageError(e.message);
    }
    throw e;
  } finally {
    await store.close();
  }
}

export const schedulerCommand = (args: string[]) => start(args, "scheduler");
export const workerCommand = (args: string[]) => start(args, "worker");
