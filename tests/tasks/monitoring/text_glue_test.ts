// text_monitoring's task functions: mail files found and validated, the spam filter ensured, the
// mails scored, output and embedding drift measured, the alert.
import assert from "node:assert/strict";
import { ModelRegistry } from "../../../models/registry/registry.ts";
import { writeTinyTextModel } from "../../../models/text/tiny_model.ts";
import { Alerter } from "../../../tasks/alert/alerter.ts";
import { readCsv, writeCsv } from "../../../tasks/data/csv.ts";
import { loadEmails } from "../../../tasks/data/emails.ts";
import {
  ensureTextChampion,
  extractMailFiles,
  folderUri,
  getTable,
  landedFiles,
  monitorTextDrift,
  scoreMailFiles,
  sendTextAlert,
  spamPredictions,
  textAlert,
  textChampion,
  textDriftLevel,
  type TextMonitorParams,
} from "../../../tasks/monitoring/mod.ts";
import { openTestEnv } from "./task_env.ts";

Deno.test("folderUri, landedFiles, textDriftLevel, spamPredictions, textAlert", () => {
  assert.equal(folderUri("s3://b/inbox/"), "s3://b/inbox/");
  assert.match(folderUri("/tmp/inbox"), /^file:\/\/\/tmp\/inbox\/$/);
  assert.deepEqual([...landedFiles({})], []);
  assert.deepEqual(
    [...landedFiles({ assetEvents: [{ extra: { files: ["x/a.csv"] } }, { extra: {} }, {}] })],
    ["a.csv"],
  );
  const levels = { warning: 0.2, critical: 0.3 };
  assert.equal(textDriftLevel(0.1, false, levels), "OK");
  assert.equal(textDriftLevel(0.25, false, levels), "WARNING");
  assert.equal(textDriftLevel(0.1, true, levels), "WARNING");
  assert.equal(textDriftLevel(0.31, false, levels), "CRITICAL");
  assert.deepEqual(spamPredictions(["a", "b", "c"], Float64Array.of(0.5, 0.49, 1)).predicted, [
    "spam",
    "ham",
    "spam",
  ]);
  const m = {
    level: "CRITICAL" as const,
    psi: 0.4,
    ks: 0.3,
    ksP: 0.00012,
    embeddingAuc: 0.71,
    embeddingDrift: true,
    spamShareBaseline: 0.25,
    spamShareNow: 0.5,
  };
  const a = textAlert({ dagId: "text_monitoring", runId: 1, model: "f" }, m);
  assert.equal(a.level, "CRITICAL");
  assert.equal(a.title, "f: output PSI 0.400, embedding AUC 0.710");
  assert.equal(a.message, "spam share 25.0% → 50.0%; KS 0.300 (p 1.20e-4)");
  assert.deepEqual(a.details, m);
});

Deno.test("text_monitoring's functions: extract, ensure the filter, score, monitor, alert", async () => {
  const t = await openTestEnv();
  try {
    const mails = loadEmails();
    const of = (label: string) => mails.year2002.filter((m) => m.label === label).slice(0, 150);
    const ref = [...of("ham"), ...of("spam")];
    await writeCsv(`${t.dir}/reference.csv`, {
      id: ref.map((m) => m.id),
      text: ref.map((m) => m.text),
      label: ref.map((m) => m.label),
    });
    await writeTinyTextModel(`${t.dir}/models/tiny`, ref.map((m) => m.text), { dims: 16 });
    await Deno.mkdir(`${t.dir}/inbox`);
    const fresh = mails.year2003.filter((_, i) => i % 5 === 0).slice(0, 150);
    await writeCsv(`${t.dir}/inbox/a.csv`, {
      id: [...fresh.map((m) => m.id), "broken"],
      text: [...fresh.map((m) => m.text), null],
      label: [...fresh.map((m) => m.label), "ham"],
    });
    await writeCsv(`${t.dir}/inbox/b.csv`, { id: ["x"], text: [null], label: ["ham"] });
    const params: TextMonitorParams = {
      inbox: `${t.dir}/inbox`,
      processed: `${t.dir}/processed`,
      predictions: `${t.dir}/predictions`,
      reference: `${t.dir}/reference.csv`,
      textModels: `${t.dir}/models`,
      textModel: "tiny",
      model: "spam_filter",
      allFiles: false,
      warning: 0.2,
      critical: 0.3,
      seed: 0,
      alerts: { channels: [{ type: "log" }] },
    };
    const ctx = t.env(params, 11);

    // an interval the files were not modified in finds nothing; the files the events name are taken
    const past = { start: new Date(0), end: new Date(3_600_000) };
    assert.deepEqual(await extractMailFiles(ctx, {}, past), {
      files: 0,
      processed: [],
      rows: 0,
      quarantined: 0,
    });
    const named = await extractMailFiles(
      ctx,
      { assetEvents: [{ extra: { files: ["a.csv", "b.csv"] } }] },
      past,
    );
    assert.deepEqual(named, {
      files: 2,
      processed: [`${t.dir}/processed/a.parquet`],
      rows: 150,
      quarantined: 2,
    });
    assert.match(
      (await readCsv(`${t.dir}/processed/quarantine/a.csv`)).table._reason[0] as string,
      /text/,
    );
    // a manual run (an empty interval) takes the hour of its logical date
    const mtime = (await Deno.stat(`${t.dir}/inbox/a.csv`)).mtime!;
    const hour = new Date(mtime.getTime() - (mtime.getTime() % 3_600_000));
    const manual = await extractMailFiles(ctx, {}, { start: hour, end: hour });
    assert.equal(manual.files, 2);

    // no champion: one is trained on the reference and made champion; then it is the one
    const first = await ensureTextChampion(ctx);
    assert.equal(first.version, 1);
    assert.ok(t.lines.some((l) => l.startsWith("no champion for spam_filter: training one on")));
    assert.deepEqual(await ensureTextChampion(ctx), first);
    const registry = await ModelRegistry.open(t.store.db);
    assert.equal((await registry.resolve("spam_filter@champion")).version, 1);
    assert.equal((await textChampion(ctx, "spam_filter", 1)).version?.version, 1);

    // scored: the predictions file and the scored embeddings
    const scored = await scoreMailFiles(ctx, first.version, named.processed);
    assert.equal(scored.rows, 150);
    assert.equal(scored.predictions, `${t.dir}/predictions/run-11.csv`);
    const predictions = (await readCsv(scored.predictions)).table;
    assert.deepEqual(predictions.id, fresh.map((m) => m.id));
    const embedded = await getTable(ctx, scored.embedded);
    assert.ok(Object.keys(embedded).some((c) => c.startsWith("text_emb_")));
    assert.equal((embedded.p_spam as Float64Array).length, 150);

    // monitored against the baseline, then alerted
    const m = await monitorTextDrift(ctx, first, scored.embedded);
    assert.equal(m.level, textDriftLevel(m.psi, m.embeddingDrift, params));
    assert.ok(m.psi >= 0 && m.embeddingAuc >= 0 && m.embeddingAuc <= 1);
    assert.ok(m.spamShareNow >= 0 && m.spamShareNow <= 1);
    assert.deepEqual(JSON.parse(t.lines.at(-1)!), m);
    await sendTextAlert(ctx, m);
    const [sent] = await (await Alerter.open(t.store.db)).recent(1);
    assert.equal(sent.key, "text:spam_filter");
    assert.match(sent.title, /^spam_filter: output PSI \d\.\d{3}, embedding AUC \d\.\d{3}$/);
  } finally {
    await t.close();
  }
});
