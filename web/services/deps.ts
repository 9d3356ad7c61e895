/**
 * What the web app is given: the runner's store and DAG definitions, the token that guards every
 * mutating request, and where artifacts live. The web app talks to the runner, never to tasks.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ModelRegistry } from "../../models/registry/registry.ts";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { dag } from "../../runner/dag.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import type { WebDeps } from "./deps.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const etl = dag({ id: "etl" }).task("extract", { run: () => 1 });
 *   let registry: Promise<ModelRegistry> | undefined;
 *   const deps: WebDeps = {
 *     store,
 *     dags: () => new Map([[etl.id, etl]]), // read at each request, so a reload shows at once
 *     token: "s3cret", // guards every mutating request
 *     artifacts: new LocalArtifactStore(dir),
 *     registry: () => (registry ??= ModelRegistry.open(store.db)), // opened once, when first used
 *   };
 *   assert.deepEqual([...deps.dags().keys()], ["etl"]);
 *   assert.equal(await deps.registry(), await deps.registry());
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "../../runner/artifacts/artifact_store.ts";
import type { DagDefinition } from "../../runner/dag.ts";
import type { ModelRegistry } from "../../models/registry/registry.ts";
import type { Store } from "../../runner/store/store.ts";
import type { Serving } from "./serving.ts";

export interface WebDeps {
  store: Store;
  /** The loaded DAGs (a function, so a reload shows at once). */
  dags: () => Map<string, DagDefinition>;
  /** Bearer token for mutating requests and the UI's session. */
  token: string;
  artifacts: ArtifactStore;
  /** The model registry on the same store (opened once, lazily). */
  registry: () => Promise<ModelRegistry>;
  /** Called after a run was created from the UI or API (wakes the scheduler). */
  onRunCreated?: (runId: number) => void | Promise<void>;
  /** The largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /**
   * The model /health checks and /api/v1/predict serves when a request names none (the server reads
   * DRIFTFLOW_SERVE_MODEL). Unset: none — /health says so, and a prediction must name its model.
   */
  serveModel?: string;
  /** The prediction service and log (default: made by the app from these deps). */
  serving?: Serving;
}

/** What to do when no serving model is configured (said by /health, the API and the server). */
export const NO_SERVE_MODEL =
  "set DRIFTFLOW_SERVE_MODEL to the model /health checks and /api/v1/predict serves when a request names none (unset, the one registered model with a champion alias is served)";
