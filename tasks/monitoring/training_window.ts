/**
 * `training`'s `load`: the training window — a sample of the initial data plus the batches named
 * in conf (cumulative, or a sliding window of the latest once it is big enough) — split out of
 * time: the latest part is held out (the monitoring reference and the gate's test set), never a
 * random share of it. Both parts are stored as Parquet artifacts.
 *
 * @example
 * ```ts
 * import { windowBatches } from "./training_window.ts";
 * const b = ["b1", "b2", "b3", "b4"];
 * if (windowBatches({ window: "sliding", windowBatches: 2, batches: b }).join() !== "b3,b4") throw new Error("latest two");
 * if (windowBatches({ window: "cumulative", windowBatches: 2, batches: b }).length !== 4) throw new Error("all");
 * ```
 */
import { concatTables, rowCount, sampleRows, type Table } from "../../models/core/table.ts";
import { fingerprintTable } from "../../models/package.ts";
import { timeRange } from "../../models/reference.ts";
import { outOfTimeSplit } from "../../models/split.ts";
import { getTable, pick, putTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import type { TrainingParams } from "./training_params.ts";

/** The batches a training run learns from: all of them, or the latest `windowBatches` (sliding). */
export function windowBatches(
  p: Pick<TrainingParams, "window" | "windowBatches" | "batches">,
): string[] {
  return p.window === "sliding" ? p.batches.slice(-p.windowBatches) : p.batches;
}

/** The window as stored: the training rows' and holdout's keys, and what they hold. */
export interface TrainingWindow {
  train: string;
  holdout: string;
  rows: number;
  batches: string[];
  holdoutFrom: string | null;
  holdoutTo: string | null;
  /** The training rows' fingerprint (the registry's lineage). */
  fingerprint: { rows: number; sha256: string };
}

/** Reads, splits and stores the window; see the module's doc. Logs the split. */
export async function loadTrainingWindow(
  ctx: Pick<
    TaskEnv<
      Pick<
        TrainingParams,
        | "data"
        | "features"
        | "target"
        | "timeColumn"
        | "initialRows"
        | "seed"
        | "window"
        | "windowBatches"
        | "batches"
        | "holdoutFraction"
        | "holdoutRows"
      >
    >,
    "params" | "log" | "putArtifact" | "getArtifact"
  >,
): Promise<TrainingWindow> {
  const p = ctx.params;
  const time = p.timeColumn;
  const columns = [...p.features, p.target, ...(time === null ? [] : [time])];
  const chosen = windowBatches(p);
  const parts: Table[] = [];
  for (const b of chosen) parts.push(pick(await getTable(ctx, b), columns, b));
  // sliding: the window alone once it is big enough (the initial data, large, is then not read);
  // cumulative: everything
  const windowRows = parts.reduce((s, t) => s + rowCount(t), 0);
  const all = p.window === "sliding" && windowRows >= p.initialRows / 2
    ? concatTables(parts)
    : concatTables([
      sampleRows(pick(await getTable(ctx, p.data), columns, p.data), p.initialRows, p.seed),
      ...parts,
    ]);
  const n = rowCount(all);
  // out of time: the latest part of the window is held out (never a random share of it)
  const split = outOfTimeSplit(all, {
    timeColumn: time,
    fraction: p.holdoutFraction,
    rows: p.holdoutRows,
  });
  // the time column is not a feature: training sees the features and the target only
  const train = pick(split.train, [...p.features, p.target], "training rows");
  const nHold = rowCount(split.holdout);
  const range = timeRange(split.holdout, time);
  const held = range.from ? `from ${range.from} to ${range.to}` : "(the last rows in order)";
  ctx.log(
    `training rows ${n - nHold}, out-of-time holdout ${nHold} ${held} ` +
      `(${chosen.length} batches, ${p.window})`,
  );
  return {
    train: await putTable(ctx, train),
    holdout: await putTable(ctx, split.holdout),
    rows: n,
    batches: chosen,
    holdoutFrom: range.from,
    holdoutTo: range.to,
    fingerprint: await fingerprintTable(train),
  };
}
