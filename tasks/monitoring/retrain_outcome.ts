/**
 * What a retraining did for a monitored batch: the champion before and after the `training` run,
 * recorded on the batch's monitoring row (retrained; promoted when the champion changed).
 *
 * @example
 * ```ts
 * import { recordRetrainOutcome } from "./retrain_outcome.ts";
 * import { MonitoringTable } from "./metrics_table.ts";
 * import { ModelRegistry } from "../../models/registry/registry.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * const store = await openStore({ memory: true });
 * const table = await MonitoringTable.open(store.db);
 * const row = await table.insert({ dagId: "d", runId: 1, stream: "s", batch: 0, rows: 10 });
 * // the registry has no champion: the outcome cannot be read and the row stays as it was
 * const failed = await recordRetrainOutcome(
 *   { db: store.db, params: { model: "nobody" }, log: () => {} }, { before: 1, row, training: null },
 * ).then(() => false, () => true);
 * if (!failed || (await table.list("s"))[0].retrained) throw new Error("no champion, no outcome");
 * await ModelRegistry.open(store.db);
 * await store.close();
 * ```
 */
import { ModelRegistry } from "../../models/registry/registry.ts";
import { MonitoringTable } from "./metrics_table.ts";
import type { TaskEnv } from "./task_env.ts";

/** The champion's version before and after a retraining, and the `training` run's result. */
export interface RetrainOutcome<T> {
  before: number;
  after: number;
  changed: boolean;
  training: T;
}

/**
 * Reads `model`'s champion after the retraining and marks `row` retrained (promoted when the
 * champion changed); logs which.
 */
export async function recordRetrainOutcome<T>(
  ctx: Pick<TaskEnv<{ model: string }>, "params" | "db" | "log">,
  o: { before: number; row: number; training: T },
): Promise<RetrainOutcome<T>> {
  const { before } = o;
  const after = (await (await ModelRegistry.open(ctx.db)).resolve(`${ctx.params.model}@champion`))
    .version;
  const changed = after !== before;
  await (await MonitoringTable.open(ctx.db)).update(o.row, { retrained: true, promoted: changed });
  ctx.log(changed ? `champion changed: v${before} → v${after}` : `champion kept: v${before}`);
  return { before, after, changed, training: o.training };
}
