/**
 * The labelled rows `feedback_loop` judges the champion on: a CSV or Parquet file, or
 * `served:<model>` — the predictions the web API served for that model with the labels sent to
 * /api/v1/feedback, in the order they arrived — and the new ones since the previous evaluation.
 *
 * @example
 * ```ts
 * import { collectFeedback } from "./feedback_rows.ts";
 * import { writeParquet } from "../data/parquet.ts";
 * const dir = await Deno.makeTempDir();
 * await writeParquet(`${dir}/f.parquet`, { x: Float64Array.of(1, 2, 3), late: ["no", "yes", "no"] });
 * const artifacts = new Map<string, Uint8Array | string>();
 * const ctx = {
 *   params: { feedback: `${dir}/f.parquet`, target: "late", minRows: 2, training: {} },
 *   log: () => {},
 *   putArtifact: (d: Uint8Array | string) => { artifacts.set(`k${artifacts.size}`, d); return Promise.resolve(`k${artifacts.size - 1}`); },
 *   getArtifact: () => Promise.reject(new Error("unused")),
 *   db: undefined as never,
 * };
 * const c = await collectFeedback(ctx, { offset: 1, accuracy: 0.8, version: 1 });
 * if (c.fresh !== 2 || c.rows === null || c.previous !== 0.8) throw new Error(JSON.stringify(c));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import { rowCount, sliceRows, type Table } from "../../models/core/table.ts";
import { PredictionLog } from "../../models/serving/prediction_log.ts";
import type { FeedbackParams } from "./feedback_params.ts";
import { getTable, putTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";

/**
 * The labelled rows of `ref` (a file, or `served:<model>`): served rows become columns of their
 * inputs, the label in `target`, and — unless `timeColumn` is null or an input — the time served.
 */
export async function feedbackRows(
  ctx: Pick<TaskEnv<unknown>, "db" | "putArtifact" | "getArtifact">,
  ref: string,
  target: string,
  timeColumn: string | null,
): Promise<Table> {
  if (!ref.startsWith("served:")) return await getTable(ctx, ref);
  const rows = await (await PredictionLog.open(ctx.db)).labelled(ref.slice("served:".length));
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.input)))];
  const out: Record<string, Table[string]> = {};
  for (const n of names) {
    const values = rows.map((r) => r.input[n] ?? null);
    out[n] = values.every((v) => v === null || typeof v === "number")
      ? Float64Array.from(values, (v) => (v === null ? NaN : (v as number)))
      : values.map((v) => (v === null ? null : String(v)));
  }
  out[target] = rows.map((r) => r.label);
  // Served rows carry the time they were served, so retraining can hold out the latest in time.
  if (timeColumn !== null && !(timeColumn in out)) {
    out[timeColumn] = Float64Array.from(rows, (r) => r.at.getTime());
  }
  return out;
}

/** The previous evaluation: how far the feedback was read, its accuracy and the version judged. */
export interface FeedbackEvaluation {
  offset: number;
  accuracy: number | null;
  version: number | null;
}

/** The feedback collected for this run: the new rows' artifact when there are enough of them. */
export interface CollectedFeedback {
  offset: number;
  total: number;
  fresh: number;
  /** The new rows (a Parquet artifact), or null when fewer than `minRows`. */
  rows: string | null;
  /** The previous evaluation's accuracy. */
  previous: number | null;
}

/**
 * Reads the feedback and keeps the rows past the previous evaluation's offset (a missing file is
 * no feedback yet); the time column is `training.timeColumn` (default `date`; null: none).
 */
export async function collectFeedback(
  ctx: Pick<
    TaskEnv<Pick<FeedbackParams, "feedback" | "target" | "minRows" | "training">>,
    "params" | "log" | "db" | "putArtifact" | "getArtifact"
  >,
  prior: FeedbackEvaluation | undefined,
): Promise<CollectedFeedback> {
  const p = ctx.params;
  const offset = prior?.offset ?? 0;
  let all: Table | null = null;
  try {
    all = await feedbackRows(
      ctx,
      p.feedback,
      p.target,
      p.training.timeColumn === null ? null : String(p.training.timeColumn ?? "date"),
    );
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const total = all ? rowCount(all) : 0;
  const fresh = Math.max(0, total - offset);
  ctx.log(`${fresh} new feedback rows (of ${total}; evaluated up to row ${offset})`);
  // the new rows, read once here, go to evaluate as a Parquet artifact
  const rows = all && fresh >= p.minRows
    ? await putTable(ctx, sliceRows(all, offset, total))
    : null;
  return { offset, total, fresh, rows, previous: prior?.accuracy ?? null };
}

/** The state a run leaves for the next: past the judged rows, or where it was when too few came. */
export function feedbackState(
  c: Pick<CollectedFeedback, "offset" | "total" | "previous">,
  e: { accuracy: number; version: number } | undefined,
): FeedbackEvaluation {
  // not enough rows: keep the offset so they count next time
  return e
    ? { offset: c.total, accuracy: e.accuracy, version: e.version }
    : { offset: c.offset, accuracy: c.previous, version: null };
}
