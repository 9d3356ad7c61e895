/**
 * The text pipeline's model work: a spam filter trained on text embeddings (GBDT over
 * `text_emb_<k>` columns), its baseline (held-out embeddings and scores, what later hours are
 * compared with), and scoring of new mails.
 *
 * @example
 * ```ts
 * import { trainTextModel } from "./text.ts";
 * const { model, baseline } = await trainTextModel(reference, { model: "tiny-text", localModelPath: "data/models" });
 * ```
 */
import { type TrainedModel, trainModel } from "../../models/model.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import type { EmbeddingOptions } from "../../models/text/embeddings.ts";
import { rowCount, type Table, takeRows } from "../../models/core/table.ts";
import { Random } from "../../models/core/random.ts";

/**
 * Embeds `text`, keeps `label` when present. The embedding library (transformers.js) is loaded on
 * first use, so the DAGs that import the monitoring entry without embedding anything do not load it.
 */
export async function embedMails(mails: Table, o: EmbeddingOptions): Promise<Table> {
  const { embedColumn } = await import("../../models/text/embeddings.ts");
  const keep: Record<string, Table[string]> = { text: mails.text };
  if (mails.label) keep.label = mails.label;
  return await embedColumn(keep, "text", o);
}

/** P(spam) of embedded mails through the model's ONNX graph. */
export async function spamScores(
  model: TrainedModel,
  onnx: Uint8Array,
  embedded: Table,
): Promise<Float64Array> {
  const out = await runOnnx(onnx, embedded, model.spec);
  const k = model.spec.target.classes!.indexOf("spam");
  return Float64Array.from(
    { length: rowCount(embedded) },
    (_, i) => out.probabilities![i * out.width + k],
  );
}

/** Trains the filter on 80% of the reference; the other 20% (embedded) is the baseline. */
export async function trainTextModel(
  reference: Table,
  o: EmbeddingOptions & { seed?: number; rounds?: number },
): Promise<{ model: TrainedModel; baseline: Table }> {
  const embedded = await embedMails(reference, o);
  const n = rowCount(embedded);
  const order = new Random(o.seed ?? 0).permutation(n);
  const cut = Math.round(n * 0.2);
  const train = takeRows(embedded, order.subarray(cut)),
    baseline = takeRows(embedded, order.subarray(0, cut));
  const { model } = trainModel(train, {
    target: "label",
    seed: o.seed ?? 0,
    validFraction: 0.2,
    params: { nEstimators: o.rounds ?? 100 },
  });
  return { model, baseline };
}
