/**
 * The prediction service and log the app uses, made once per app on the runner's store, the
 * registry and the artifact store; `close()` lets the log finish its queued writes at shutdown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ModelRegistry } from "../../models/registry/registry.ts";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { servingFor } from "./serving.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const serving = servingFor({
 *     store,
 *     dags: () => new Map(),
 *     token: "s3cret",
 *     artifacts: new LocalArtifactStore(dir),
 *     registry: () => ModelRegistry.open(store.db),
 *   });
 *   assert.equal(serving.logHealth(), undefined); // nothing opened yet
 *   const { service, log } = await serving(); // opened at the first prediction
 *   assert.equal((await serving()).service, service); // and shared after
 *   assert.ok(log.health());
 *   await serving.close(); // at shutdown: the log writes the rows it holds
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { PredictionLog, type PredictionLogHealth } from "../../models/serving/prediction_log.ts";
import { PredictionService } from "../../models/serving/service.ts";
import type { WebDeps } from "./deps.ts";

/** A lazy, shared { service, log }, and close() for shutdown. */
export interface Serving {
  (): Promise<{ service: PredictionService; log: PredictionLog }>;
  /** Waits (bounded) for the log's queued rows to be written; a no-op when never opened. */
  close(timeoutMs?: number): Promise<void>;
  /** The log's health if it has been opened (without opening it). */
  logHealth(): PredictionLogHealth | undefined;
}

/**
 * `open` made once and shared — but a failed attempt is forgotten, so the next call tries again
 * (a database that was down at the first request must not stop serving until a restart).
 */
export function openOnce<T>(open: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | undefined;
  return () =>
    made ??= open().catch((e) => {
      made = undefined;
      throw e;
    });
}

/**
 * Waits for `work` (the HTTP server, scheduler, worker); however it ends — a rejection included —
 * the prediction log then writes the rows it holds (bounded by its close) before the caller
 * closes the store, so a failing scheduler never drops queued predictions without a word.
 */
export async function runThenClose(
  work: Promise<unknown>[],
  serving: Pick<Serving, "close">,
): Promise<void> {
  try {
    await Promise.all(work);
  } finally {
    await serving.close();
  }
}

/** A lazy, shared { service, log } for the app. */
export function servingFor(deps: Omit<WebDeps, "serving">): Serving {
  let made: Promise<{ service: PredictionService; log: PredictionLog }> | undefined;
  let opened: PredictionLog | undefined;
  const open = openOnce(async () => {
    const log = await PredictionLog.open(deps.store.db);
    const service = new PredictionService({
      registry: await deps.registry(),
      artifacts: deps.artifacts,
      log,
    });
    opened = log;
    return { service, log };
  });
  const serving = (() => made = open()) as Serving;
  serving.logHealth = () => opened?.health();
  serving.close = async (timeoutMs = 5_000) => {
    const opened = await made?.catch(() => undefined);
    await opened?.log.close(timeoutMs);
  };
  return serving;
}
