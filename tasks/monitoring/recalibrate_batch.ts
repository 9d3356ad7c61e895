/**
 * `drift_monitoring`'s `recalibrate`: a prior-shift grade given with labels moves the champion's
 * log-odds to the labelled batch's positive share (through the gate, on that batch's held-out
 * rows); the new version keeps the champion's reference rows, monitored at the new prior; the
 * outcome is recorded on the batch's monitoring row.
 *
 * @example
 * ```ts
 * import { labelledPathOf } from "./recalibrate_batch.ts";
 * if (labelledPathOf({ batch: 4, path: "b4.parquet" }, 0) !== "b4.parquet") throw new Error("labelled");
 * // a verdict given before the labels landed has no labelled batch to recalibrate on
 * let refused = false;
 * try {
 *   labelledPathOf({ batch: 4, path: null }, 2);
 * } catch (e) {
 *   refused = e instanceof Error && e.message.includes("has no labels yet");
 * }
 * if (!refused) throw new Error("recalibration needs labels");
 * ```
 * ```
 */
import { recalibrateChampion } from "../../models/recalibrate.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { championReference } from "./champion.ts";
import { MonitoringTable } from "./metrics_table.ts";
import type { StreamMonitorParams } from "./stream_params.ts";
import { getTable, pick, putTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";

type Params = Pick<
  StreamMonitorParams,
  "model" | "streamName" | "features" | "target" | "labelsDelay"
>;

/** The labelled file of the batch a verdict acted on; throws when its labels have not landed. */
export function labelledPathOf(
  acted: { batch: number; path: string | null },
  labelsDelay: number,
): string {
  if (acted.path === null) {
    throw new Error(
      `recalibrate: batch ${acted.batch} has no labels yet (labelsDelay ${labelsDelay}); ` +
        "only a verdict given with labels can recalibrate",
    );
  }
  return acted.path;
}

/**
 * Recalibrates `model`'s champion on the batch the verdict acted on (its file with labels); `reason`
 * is the verdict's first reason. Throws when that batch has no labels yet.
 */
export async function recalibrateOnBatch(
  ctx: TaskEnv<Params>,
  acted: { batch: number; row: number; path: string | null },
  reason: string,
) {
  const p = ctx.params;
  const path = labelledPathOf(acted, p.labelsDelay);
  const labelledBatch = pick(await getTable(ctx, path), [...p.features, p.target], path);
  const registry = await ModelRegistry.open(ctx.db);
  // the new version keeps the champion's reference rows (at the new prior), not this one batch
  const champion = await championReference(registry, p.model);
  const referenceTable = champion.kind === "holdout"
    ? await getTable(ctx, champion.reference)
    : undefined;
  const r = await recalibrateChampion({
    registry,
    referenceTable,
    artifacts: ctx.artifacts,
    model: p.model,
    newPrior: "labels",
    labelledBatch,
    labelledBatchKey: await putTable(ctx, labelledBatch),
    reason: `${p.streamName} batch ${acted.batch}: ${reason}`,
    runId: ctx.runId,
  });
  await (await MonitoringTable.open(ctx.db)).update(acted.row, { promoted: r.promoted });
  ctx.log(r.verdict.reason);
  return { version: r.version, promoted: r.promoted, shift: r.shift, prior: r.prior };
}
