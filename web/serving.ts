/**
 * The prediction service and log the app uses, made once per app on the runner's store, the
 * registry and the artifact store.
 *
 * @example
 * ```ts
 * const serving = servingFor(deps);
 * const { service } = await serving();
 * ```
 */
import { PredictionLog } from "../models/serving/prediction_log.ts";
import { PredictionService } from "../models/serving/service.ts";
import type { WebDeps } from "./deps.ts";

/** A lazy, shared { service, log } for the app. */
export function servingFor(
  deps: WebDeps,
): () => Promise<{ service: PredictionService; log: PredictionLog }> {
  let made: Promise<{ service: PredictionService; log: PredictionLog }> | undefined;
  return () =>
    made ??= (async () => {
      const log = await PredictionLog.open(deps.store.db);
      const service = new PredictionService({
        registry: await deps.registry(),
        artifacts: deps.artifacts,
        log,
      });
      return { service, log };
    })();
}
