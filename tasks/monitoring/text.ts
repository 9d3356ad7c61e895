/**
 * The text pipeline's model work: a spam filter trained on text embeddings (GBDT over
 * `text_emb_<k>` columns), its baseline (held-out embeddings and scores, what later hours are
 * compared with), and scoring of new mails.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportOnnx } from "../../models/export_onnx.ts";
 * import { writeTinyTextModel } from "../../models/text/tiny_model.ts";
 * import { embedMails, spamScores, trainTextModel } from "./text.ts";
 * const spam = ["free money now", "win cash prize", "cheap pills offer", "claim your free prize"];
 * const ham = ["lunch at noon", "meeting notes attached", "see you at the game", "project update"];
 * const reference = {
 *   text: Array.from({ length: 80 }, (_, i) => (i % 2 ? spam : ham)[(i >> 1) % 4]),
 *   label: Array.from({ length: 80 }, (_, i) => (i % 2 ? "spam" : "ham")),
 * };
 * const dir = await Deno.makeTempDir(); // an offline text model: <dir>/tiny
 * try {
 *   await writeTinyTextModel(`${dir}/tiny`, reference.text, { dims: 8 });
 *   const o = { model: "tiny", localModelPath: dir, rounds: 10 };
 *   const { model, baseline } = await trainTextModel(reference, o);
 *   assert.equal(baseline.label.length, 16); // 20 % held out, embedded
 *   const mails = await embedMails({ text: ["win free cash", "notes from the meeting"] }, o);
 *   const p = await spamScores(model, exportOnnx(model), mails); // P(spam)
 *   assert.ok(p[0] > p[1]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
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
