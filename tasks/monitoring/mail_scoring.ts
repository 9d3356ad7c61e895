/**
 * `text_monitoring`'s `transform`: the extracted mails embedded and scored by the champion spam
 * filter; the predictions (id, p_spam, predicted at 0.5) written as a CSV and the scored
 * embeddings stored for `monitor`.
 *
 * @example
 * ```ts
 * import { spamPredictions } from "./mail_scoring.ts";
 * const t = spamPredictions(["m1", "m2"], Float64Array.of(0.9, 0.1));
 * if ((t.predicted as string[]).join() !== "spam,ham") throw new Error("0.5 splits spam from ham");
 * ```
 */
import { concatTables, rowCount, type Table } from "../../models/core/table.ts";
import { writeCsv } from "../data/csv.ts";
import { getTable, putTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import { embedMails, spamScores } from "./text.ts";
import { textChampion } from "./text_champion.ts";
import type { TextMonitorParams } from "./text_params.ts";

/** The predictions table: each mail's id, its spam probability and the label at 0.5. */
export function spamPredictions(id: Table[string], scores: Float64Array): Table {
  return {
    id,
    p_spam: scores,
    predicted: Array.from(scores, (s) => (s >= 0.5 ? "spam" : "ham")),
  };
}

/** Embeds and scores the extracted mails with champion `version`; writes the predictions CSV. */
export async function scoreMailFiles(
  ctx: TaskEnv<Pick<TextMonitorParams, "model" | "textModel" | "textModels" | "predictions">>,
  version: number,
  processed: string[],
) {
  const p = ctx.params;
  const { model, onnx } = await textChampion(ctx, p.model, version);
  const mails = concatTables(await Promise.all(processed.map((f) => getTable(ctx, f))));
  const embedded = await embedMails(mails, { model: p.textModel, localModelPath: p.textModels });
  const scores = await spamScores(model, onnx, embedded);
  const out = `${p.predictions}/run-${ctx.runId}.csv`;
  if (!out.startsWith("s3://")) await Deno.mkdir(p.predictions, { recursive: true });
  await writeCsv(out, spamPredictions(mails.id, scores));
  ctx.log(`scored ${rowCount(mails)} mails → ${out}`);
  return {
    predictions: out,
    embedded: await putTable(ctx, { ...embedded, p_spam: scores }),
    rows: rowCount(mails),
  };
}
