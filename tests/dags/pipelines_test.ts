// text_monitoring, feedback_loop and drift_experiment end to end on small data.
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import driftExperiment from "../../dags/drift_experiment.ts";
import feedbackLoop from "../../dags/feedback_loop.ts";
import textMonitoring from "../../dags/text_monitoring.ts";
import training from "../../dags/training.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { PredictionLog } from "../../models/serving/prediction_log.ts";
import { PredictionService } from "../../models/serving/service.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { writeTinyTextModel } from "../../models/text/tiny_model.ts";
import { writeCsv } from "../../tasks/data/csv.ts";
import { loadEmails } from "../../tasks/data/emails.ts";
import { writeParquet } from "../../tasks/data/parquet.ts";
import { concatTables, sliceRows } from "../../models/core/table.ts";
import { monitoringReport } from "../../tasks/cli/monitoring.ts";
import { MonitoringDocument } from "../../tasks/monitoring/document.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
import { storeTest } from "../runner/helpers.ts";
import { fakeFlights, runDag, webhookReceiver, writeFakeFlights } from "./helpers.ts";

const mails = loadEmails();

storeTest(
  "text_monitoring: the hour's files are validated, scored and monitored; 2003 mail drifts from 2002",
  async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-text-" });
    const hook = webhookReceiver();
    try {
      const pick = (list: typeof mails.year2002, n: number, step: number) =>
        list.filter((_, i) => i % step === 0).slice(0, n);
      const ref = pick(mails.year2002, 600, 5);
      await writeCsv(`${dir}/reference.csv`, {
        id: ref.map((m) => m.id),
        text: ref.map((m) => m.text),
        label: ref.map((m) => m.label),
      });
      await writeTinyTextModel(`${dir}/models/tiny`, ref.map((m) => m.text), { dims: 16 });
      await Deno.mkdir(`${dir}/inbox`);
      const fresh = pick(mails.year2003, 300, 4);
      await writeCsv(`${dir}/inbox/hour-001.csv`, {
        id: [...fresh.map((m) => m.id), "broken-row"],
        text: [...fresh.map((m) => m.text), null],
        label: [...fresh.map((m) => m.label), "ham"],
      });
      const params = {
        inbox: `${dir}/inbox`,
        processed: `${dir}/processed`,
        predictions: `${dir}/predictions`,
        reference: `${dir}/reference.csv`,
        textModels: `${dir}/models`,
        textModel: "tiny",
        warning: 0.05,
        alerts: { channels: [{ type: "webhook", url: hook.url, retries: 0 }] },
      };
      // the run of the hour the file arrived in (an @hourly interval runs to the next full hour)
      const arrived = (await Deno.stat(`${dir}/inbox/hour-001.csv`)).mtime!.getTime();
      const now = new Date(arrived - (arrived % 3_600_000));
      const r = await runDag(store, textMonitoring, params, {
        artifactsDir: `${dir}/a`,
        logicalDate: now,
      });
      assert.equal(r.state, "success");
      assert.equal(r.stateOf("ensure_model"), "success");
      assert.equal(r.stateOf("alert"), "success", "2003 mail vs the 2002 baseline");
      const registry = await ModelRegistry.open(store.db);
      assert.equal((await registry.resolve("spam_filter@champion")).version, 1);
      const quarantine = await Deno.readTextFile(`${dir}/processed/quarantine/hour-001.csv`);
      assert.match(quarantine, /_reason/);
      assert.ok(
        (await Deno.readTextFile(`${dir}/predictions/run-${r.run.id}.csv`)).split("\n").length >
          300,
      );
      assert.match(hook.received[0].title, /spam_filter: output PSI/);
      // an hour later with no new files: nothing to do
      const later = await runDag(store, textMonitoring, params, {
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(now.getTime() + 2 * 3_600_000),
      });
      assert.equal(later.stateOf("nothing_new"), "success");
      assert.equal(later.stateOf("ensure_model"), "skipped");
    } finally {
      await hook.close();
    }
  },
);

storeTest(
  "feedback_loop: waits for labels, keeps a healthy champion, retrains on degraded feedback",
  async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-feedback-" });
    const hook = webhookReceiver();
    try {
      const data = await writeFakeFlights(`${dir}/data`, 8000, 100);
      const alerts = { channels: [{ type: "webhook", url: hook.url, retries: 0 }], cooldown: "0s" };
      await runDag(store, training, {
        data: data.reference,
        initialRows: 7000,
        trials: 1,
        rounds: 30,
        alerts,
      }, { artifactsDir: `${dir}/a` });
      const feedback = `${dir}/feedback.parquet`;
      const good = fakeFlights(1000, 77);
      const params = {
        feedback,
        minRows: 300,
        minAccuracy: 0.7,
        batchDir: `${dir}/batches`,
        alerts,
        training: { data: data.reference, initialRows: 7000, trials: 1, rounds: 30 },
      };
      const dags = [training, feedbackLoop];
      await writeParquet(feedback, sliceRows(good, 0, 100));
      const few = await runDag(store, feedbackLoop, params, {
        dags,
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(Date.UTC(2026, 1, 1)),
      });
      assert.equal(few.stateOf("wait_for_more"), "success");
      await writeParquet(feedback, good);
      const healthy = await runDag(store, feedbackLoop, params, {
        dags,
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(Date.UTC(2026, 1, 2)),
      });
      assert.equal(healthy.stateOf("healthy"), "success");
      // labels flipped: the world changed; accuracy collapses and the loop retrains
      const fresh = fakeFlights(1000, 78);
      const flipped = {
        ...fresh,
        late: (fresh.late as string[]).map((v) => (v === "yes" ? "no" : "yes")),
      };
      await writeParquet(feedback, concatTables([good, flipped]));
      const bad = await runDag(store, feedbackLoop, params, {
        dags,
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(Date.UTC(2026, 1, 3)),
      });
      assert.equal(bad.stateOf("retrain"), "success");
      assert.equal(bad.stateOf("notify"), "success");
      assert.ok(
        hook.received.some((a) => /feedback accuracy 0\.[0-4]/.test(a.title)),
        JSON.stringify(hook.received.map((a) => a.title)),
      );
      // another feedback file is read from its own first row, not from the first file's offset
      const other = `${dir}/other.parquet`;
      await writeParquet(other, fakeFlights(500, 79));
      const second = await runDag(store, feedbackLoop, { ...params, feedback: other }, {
        dags,
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(Date.UTC(2026, 1, 4)),
      });
      assert.equal(second.stateOf("evaluate"), "success", "500 new rows of its own");
      // and the first file goes on where it was: nothing new there
      const again = await runDag(store, feedbackLoop, params, {
        dags,
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(Date.UTC(2026, 1, 5)),
      });
      assert.equal(again.stateOf("wait_for_more"), "success");
    } finally {
      await hook.close();
    }
  },
);

storeTest(
  "drift_experiment: a small benchmark gives power, false-positive rates, the stream protocol and heatmaps",
  async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-exp-" });
    const data = await writeFakeFlights(`${dir}/data`, 8000, 6000);
    const r = await runDag(store, driftExperiment, {
      data: data.reference,
      stream: data.stream,
      referenceRows: 2000,
      trainRows: 3000,
      periodRows: 1500,
      periods: 4,
      shifts: [
        { name: "distance +1σ", drift: { kind: "mean_shift", column: "distance", k: 1 } },
        { name: "nothing", drift: { kind: "mean_shift", column: "distance", k: 0 } },
      ],
      sizes: [500],
      seeds: 2,
      clean: 2,
      scenarios: [{ name: "clean" }],
      streamBatch: 1000,
      out: `${dir}/out`,
    }, { artifactsDir: `${dir}/a` });
    assert.equal(r.state, "success");
    assert.equal(r.taskInstances.filter((t) => t.taskId === "cells" && t.mapIndex >= 0).length, 2);
    assert.equal(
      r.taskInstances.filter((t) => t.taskId === "streams" && t.mapIndex >= 0).length,
      1,
    );
    const csv = await Deno.readTextFile(`${dir}/out/run-${r.run.id}/summary.csv`);
    const rows = parse(csv) as string[][];
    const rate = (kind: string, shift: string, det: string) =>
      Number(
        rows.find((r) => r[0] === kind && r[1] === shift && r[2] === "500" && r[3] === det)![5],
      );
    assert.equal(
      rate("power", "distance +1σ", "policy"),
      1,
      "a 1σ shift is always caught at 500 rows",
    );
    assert.equal(rate("power", "distance +1σ", "per_column"), 1);
    assert.ok(rate("fpr", "", "severity") <= 0.25, csv);
    assert.ok(rate("power", "nothing", "policy") <= 0.5, "a zero shift is a second control");
    const html = await Deno.readTextFile(`${dir}/out/run-${r.run.id}/report.html`);
    assert.equal(
      (html.match(/<svg /g) ?? []).length,
      2,
      "a power heatmap per size and the FPR map",
    );
    assert.match(html, /Stream protocol/);
  },
);

storeTest(
  "feedback_loop reads the labels sent for served predictions (feedback=served:<model>)",
  async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-served-" });
    const data = await writeFakeFlights(`${dir}/data`, 8000, 10);
    await runDag(store, training, {
      data: data.reference,
      initialRows: 7000,
      trials: 1,
      rounds: 20,
    }, { artifactsDir: `${dir}/a` });
    const log = await PredictionLog.open(store.db);
    const service = new PredictionService({
      registry: await ModelRegistry.open(store.db),
      artifacts: new LocalArtifactStore(`${dir}/a`),
      log,
    });
    // serve 120 predictions and send their labels (flipped: the world changed, P(y | x) too)
    const serve = async (seed: number, flip: boolean) => {
      const live = fakeFlights(120, seed);
      const rows = Array.from({ length: 120 }, (_, i) => ({
        day_of_week: (live.day_of_week as Float64Array)[i],
        hour: (live.hour as Float64Array)[i],
        distance: (live.distance as Float64Array)[i],
        origin: (live.origin as string[])[i],
        destination: (live.destination as string[])[i],
      }));
      const served = await service.predict("flights_delay@champion", rows);
      for (const [i, r] of served.results.entries()) {
        const late = (live.late as string[])[i];
        await log.feedback(r.id, flip ? (late === "yes" ? "no" : "yes") : late);
      }
    };
    // accuracy alone never retrains here: only the late-labels judgement can
    const params = {
      feedback: "served:flights_delay",
      minRows: 100,
      minAccuracy: 0,
      maxDrop: 1,
      batchDir: `${dir}/batches`,
      // served rows carry the time they were served as `date`: the retraining holds out the latest
      training: {
        data: data.reference,
        initialRows: 7000,
        trials: 1,
        rounds: 20,
      },
    };
    const run = (day: number) =>
      runDag(store, feedbackLoop, params, {
        dags: [training, feedbackLoop],
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(Date.UTC(2026, 1, day)),
      });
    await serve(9, false);
    const r = await run(1);
    assert.equal(r.stateOf("evaluate"), "success");
    assert.equal(r.stateOf("healthy"), "success");
    // recorded as the stream served:<model>, as `deno task monitoring served:flights_delay --json`
    const doc = () =>
      monitoringReport(store.db, "served:flights_delay", { json: true }).then((t) =>
        MonitoringDocument.parse(JSON.parse(t))
      );
    const first = (await doc()).batches;
    assert.equal(first.length, 1);
    const auc = first[0].metrics.roc_auc!;
    assert.ok(auc.realized! > 0.5 && auc.reference! > 0.5, JSON.stringify(auc));
    const [lo, hi] = auc.estimatedInterval!;
    assert.ok(lo < auc.estimated! && auc.estimated! < hi, JSON.stringify(auc));
    assert.equal(auc.departed, false, first[0].reasons.join("; "));
    assert.equal(first[0].rows, 120);
    assert.deepEqual(first[0].verdicts!.map((v) => [v.kind, v.action]), [["labels", "log"]]);
    assert.match(first[0].reasons[0], /estimated .* vs realized .*: consistent/);
    const dep = first[0].sequential!.detectors.roc_auc_departure;
    assert.equal(dep.kind, "page_hinkley");
    assert.match(first[0].sequential!.falseAlarmRate, /ARL0/);
    // flipped labels: realized parts from the estimate — the second verdict retrains
    await serve(10, true);
    const bad = await run(2);
    assert.equal(bad.stateOf("retrain"), "success");
    assert.equal(bad.stateOf("notify"), "success");
    const batches = (await doc()).batches;
    assert.deepEqual(batches.map((b) => b.batch), [0, 1]);
    const b1 = batches[1];
    assert.equal(b1.metrics.roc_auc!.departed, true, JSON.stringify(b1.metrics.roc_auc));
    assert.ok(b1.metrics.roc_auc!.realized! < 0.5);
    assert.deepEqual(b1.verdicts!.map((v) => [v.kind, v.severity, v.action]), [[
      "labels",
      "concept",
      "retrain",
    ]]);
    assert.match(b1.reasons[0], /they parted/);
    // the departure detector resumed from the state stored with the first evaluation
    const stored = await (await MonitoringTable.open(store.db)).list("served:flights_delay");
    const state = stored[1].details.sequentialState as {
      detectors: Record<string, { batches: number }>;
    };
    assert.equal(state.detectors.roc_auc_departure.batches, 2);
  },
);
