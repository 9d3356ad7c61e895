// training and drift_monitoring end to end on small data (both store backends): the branch taken,
// the retraining triggered, the promotion decision, the alerts at a local webhook receiver.
import assert from "node:assert/strict";
import driftMonitoring from "../../dags/drift_monitoring.ts";
import training from "../../dags/training.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { monitoringReport } from "../../tasks/cli/monitoring.ts";
import { MonitoringDocument } from "../../tasks/monitoring/document.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
import type { Store } from "../../runner/store/store.ts";
import { storeTest } from "../runner/helpers.ts";
import { runDag, webhookReceiver, writeFakeFlights } from "./helpers.ts";

const DAGS = [training, driftMonitoring];

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "driftflow-dags-" });
  // a holdout over 1000 rows: the reference takes Evidently's large-sample tests (Wasserstein, JS)
  const data = await writeFakeFlights(`${dir}/data`, 8000, 12_000);
  const hook = webhookReceiver();
  const alerts = { channels: [{ type: "webhook", url: hook.url, retries: 0 }], cooldown: "0s" };
  const trainingParams = { data: data.reference, initialRows: 7000, trials: 2, rounds: 30, alerts };
  /** Runs drift_monitoring once per batch, hour `b` of day `day` of `month`; each run must succeed. */
  const monitor = async (
    store: Store,
    params: Record<string, unknown>,
    at: { month: number; day?: number },
    batches: number,
  ) => {
    const runs = [];
    for (let b = 0; b < batches; b++) {
      const r = await runDag(store, driftMonitoring, params, {
        dags: DAGS,
        artifactsDir: `${dir}/a`,
        logicalDate: new Date(Date.UTC(2026, at.month, at.day ?? 1, b)),
      });
      const failed = r.taskInstances.filter((t) => t.state === "failed");
      assert.equal(r.state, "success", `batch ${b}: ${JSON.stringify(failed)}`);
      runs.push(r);
    }
    return runs;
  };
  /**
   * A named stream of the small flights data in contiguous batches of `batchSize` (this data is
   * far shorter than the default window of a week of flights), alerting the receiver.
   */
  const stream = (name: string, batchSize: number) => ({
    stream: data.stream,
    streamName: name,
    batchSize,
    window: batchSize,
    batchDir: `${dir}/batches-${name}`,
    alerts,
  });
  /** The first champion, from `training`. */
  const train = (store: Store) =>
    runDag(store, training, trainingParams, { artifactsDir: `${dir}/a` });
  return { dir, data, hook, alerts, trainingParams, monitor, stream, train };
}

storeTest(
  "training: first model becomes champion; a retrain is gated; alerts go out",
  async (store) => {
    const s = await setup();
    try {
      const first = await runDag(store, training, s.trainingParams, { artifactsDir: `${s.dir}/a` });
      assert.equal(first.state, "success");
      assert.equal(
        first.taskInstances.filter((t) => t.taskId === "trial" && t.mapIndex >= 0).length,
        2,
      );
      const registry = await ModelRegistry.open(store.db);
      const champion = await registry.resolve("flights_delay@champion");
      assert.equal(champion.version, 1);
      assert.ok(champion.metrics.roc_auc > 0.7, `holdout AUC ${champion.metrics.roc_auc}`);
      assert.equal(champion.lineage?.taskId, "fit_best");
      const again = await runDag(store, training, {
        ...s.trainingParams,
        batches: [s.data.stream],
        window: "sliding",
      }, {
        artifactsDir: `${s.dir}/a`,
      });
      assert.equal(again.state, "success");
      const history = await registry.aliasHistory("flights_delay");
      assert.ok(history.some((h) => h.alias === "challenger" && h.toVersion === 2));
      assert.ok(s.hook.received.length >= 2);
      assert.match(s.hook.received[0].title, /flights_delay v1 promoted to champion/);
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: clean batches log, an injected drift at batch k is flagged at k and retrains",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      const params = {
        stream: s.data.stream,
        batchSize: 2000,
        window: 2000,
        batchDir: `${s.dir}/batches`,
        alerts: s.alerts,
        training: { data: s.data.reference, initialRows: 7000, trials: 1, rounds: 20 },
        events: [{ atBatch: 3, drift: { kind: "mean_shift", column: "distance", k: 2 } }],
        // graded by impact alone: the labels come with each batch and the champion's AUC holds on
        // this small data, which the default caps at moderate (warn; the next test checks that)
        policy: { severity: { capWhenAucHeld: false } },
      };
      const routes: string[] = [];
      for (const r of await s.monitor(store, params, { month: 0 }, 7)) {
        const taken = ["log_only", "warn", "alert", "end_pipeline"].find((t) =>
          r.stateOf(t) === "success"
        )!;
        routes.push(taken);
        if (taken === "alert") {
          assert.equal(r.stateOf("retrain"), "success");
          assert.equal(r.stateOf("record_outcome"), "success");
        }
      }
      assert.deepEqual(routes.slice(0, 3), ["log_only", "log_only", "log_only"], routes.join(", "));
      assert.equal(routes[3], "alert", `the injected batch: ${routes.join(", ")}`);
      assert.equal(routes[6], "end_pipeline", "12k rows / 2k per batch: batch 6 finds no rows");
      const rows = await (await MonitoringTable.open(store.db)).list("flights");
      assert.equal(rows.length, 6);
      assert.equal(rows[3].severity, "major", rows[3].reasons.join("; "));
      assert.equal(rows[3].action, "retrain");
      assert.equal(rows[3].retrained, true);
      assert.ok((rows[3].details.drifted as string[]).includes("distance"));
      assert.ok(rows[3].reasons.some((r) => /distance/.test(r)), rows[3].reasons.join("; "));
      for (const r of rows.slice(0, 3)) {
        assert.ok(["none", "minor"].includes(r.severity ?? ""), `${r.batch}: ${r.reasons}`);
        assert.equal(r.action, "log");
      }
      assert.ok(rows.every((r) => r.reportHtml?.startsWith("sha256:")));
      // the document `deno task monitoring flights --json` prints, on this small stream
      const doc = MonitoringDocument.parse(
        JSON.parse(await monitoringReport(store.db, "flights", { json: true })),
      );
      assert.equal(doc.version, 1);
      assert.deepEqual(doc.batches.map((b) => b.batch), [0, 1, 2, 3, 4, 5]);
      const b3 = doc.batches[3];
      assert.equal(b3.retrained, true);
      assert.ok(b3.truth !== null && doc.batches[0].truth === null);
      assert.ok(b3.reasons.length > 0);
      for (const b of doc.batches) {
        const auc = b.metrics.roc_auc;
        assert.ok(auc && auc.reference! > 0.5 && auc.realized! > 0.5, JSON.stringify(b.metrics));
        assert.ok(b.championVersion! >= 1);
      }
      assert.ok(s.hook.received.some((a) => a.level === "CRITICAL" && /retraining/.test(a.title)));
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: a large covariate change whose labels show the AUC held warns, not retrains",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      const params = {
        ...s.stream("held", 2000),
        events: [{ atBatch: 1, drift: { kind: "mean_shift", column: "distance", k: 2 } }],
      };
      const runs = await s.monitor(store, params, { month: 5 }, 2);
      const rows = await (await MonitoringTable.open(store.db)).list("held");
      assert.equal(rows[1].severity, "moderate", rows[1].reasons.join("; "));
      assert.equal(rows[1].action, "warn");
      assert.match(rows[1].reasons[0], /would be major, but with labels ROC AUC held/);
      assert.equal(runs[1].stateOf("warn"), "success");
      assert.equal(runs[1].stateOf("retrain"), "skipped");
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: streams monitored from one home each go on from their own batch",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      await s.monitor(store, s.stream("alpha", 2000), { month: 6, day: 1 }, 2);
      const [beta] = await s.monitor(store, s.stream("beta", 2000), { month: 6, day: 2 }, 1);
      const [alpha] = await s.monitor(store, s.stream("alpha", 2000), { month: 6, day: 3 }, 1);
      const table = await MonitoringTable.open(store.db);
      assert.deepEqual((await table.list("alpha")).map((r) => r.batch), [0, 1, 2]);
      assert.deepEqual((await table.list("beta")).map((r) => r.batch), [0], "beta starts at 0");
      const [record] = await store.xcoms(alpha.run.id, ["save_state"]);
      const state = record.value as { byKey: Record<string, unknown> };
      assert.deepEqual(Object.keys(state.byKey).sort(), ["alpha", "beta"]);
      const saved = state.byKey.alpha as { index: number; batches: string[] };
      assert.equal(saved.index, 2);
      assert.ok(saved.batches.every((b) => b.includes("/alpha-batch-")), saved.batches.join());
      assert.equal(beta.stateOf("save_state"), "success");
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: no retraining on clean control batches over several seeds",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      for (const seed of [1, 2, 3]) {
        const control = {
          ...s.stream(`control-${seed}`, 2000),
          seed,
        };
        for (
          const [b, r] of (await s.monitor(store, control, { month: 0, day: seed }, 3)).entries()
        ) {
          assert.equal(r.stateOf("retrain"), "skipped", `seed ${seed} batch ${b}`);
          assert.equal(r.stateOf("recalibrate"), "skipped", `seed ${seed} batch ${b}`);
        }
      }
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: a prior shift is graded prior and recalibrated (a new version), not retrained",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      const params = {
        ...s.stream("prior", 3000),
        events: [{
          atBatch: 1,
          drift: { kind: "prior_shift", target: "late", positiveShare: 0.6 },
        }],
      };
      const runs = await s.monitor(store, params, { month: 1 }, 3);
      assert.equal(runs[0].stateOf("log_only"), "success");
      assert.equal(runs[1].state, "success");
      const rows = await (await MonitoringTable.open(store.db)).list("prior");
      assert.equal(rows[1].severity, "prior", rows[1].reasons.join("; "));
      assert.equal(rows[1].action, "recalibrate");
      assert.equal(runs[1].stateOf("recalibrate"), "success");
      assert.equal(runs[1].stateOf("retrain"), "skipped");
      assert.equal(rows[1].retrained, false);
      const registry = await ModelRegistry.open(store.db);
      const versions = (await registry.models()).find((m) => m.name === "flights_delay")!.versions;
      const recal = versions.find((v) => v.params.recalibration !== undefined);
      assert.ok(recal, "a recalibrated version is registered");
      assert.equal(
        (recal.params.recalibration as { parentVersion: number }).parentVersion,
        1,
      );
      const champion = await registry.resolve("flights_delay@champion");
      assert.equal(champion.version, recal.version, "the log loss on the batch improved: promoted");
      assert.equal(rows[1].promoted, true);
      // the next batch at the same prior is judged against the recalibrated champion's prior
      assert.equal(rows[2].championVersion, recal.version);
      assert.ok(
        ["none", "minor"].includes(rows[2].severity ?? ""),
        `${rows[2].severity}: ${rows[2].reasons.join("; ")}`,
      );
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: labelsDelay 2 — judged first without labels, again when they land",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      const params = {
        ...s.stream("late", 2000),
        labelsDelay: 2,
      };
      const table = await MonitoringTable.open(store.db);
      const runBatch = async (b: number) => {
        const r = await runDag(store, driftMonitoring, params, {
          dags: DAGS,
          artifactsDir: `${s.dir}/a`,
          logicalDate: new Date(Date.UTC(2026, 2, 1, b)),
        });
        assert.equal(r.state, "success", `batch ${b}`);
        return r;
      };
      await runBatch(0);
      let rows = await table.list("late");
      // first verdict: no labels — estimate with interval, realized null, no concept/prior grade
      const first = rows[0].metrics.roc_auc;
      assert.equal(first.realized, null);
      assert.equal(rows[0].rocAuc, null);
      assert.ok(first.estimated! > 0.5 && first.estimated! < 1, JSON.stringify(first));
      const [lo, hi] = first.estimatedInterval!;
      assert.ok(lo < first.estimated! && first.estimated! < hi, JSON.stringify(first));
      assert.ok(first.reference! > 0.5, "the reference AUC is known");
      assert.ok(!["concept", "prior"].includes(rows[0].severity ?? ""), rows[0].severity ?? "");
      await runBatch(1);
      await runBatch(2);
      rows = await table.list("late");
      // batch 0's labels landed with batch 2: realized filled, a second verdict beside the first
      const b0 = rows[0].metrics.roc_auc;
      assert.ok(b0.realized! > 0.5, JSON.stringify(b0));
      assert.equal(rows[0].rocAuc, b0.realized);
      assert.equal(typeof b0.departed, "boolean");
      const v0 = rows[0].details.verdicts as { kind: string; reasons: string[] }[];
      assert.deepEqual(v0.map((v) => v.kind), ["batch", "labels"]);
      assert.ok(v0[1].reasons.some((r) => /estimated .* vs realized/.test(r)), v0[1].reasons[0]);
      assert.equal(rows[1].metrics.roc_auc.realized, null, "batch 1's labels land with batch 3");
      assert.equal(rows[2].metrics.roc_auc.realized, null);
      await runBatch(3);
      const doc = MonitoringDocument.parse(
        JSON.parse(await monitoringReport(store.db, "late", { json: true })),
      );
      assert.equal(doc.version, 1);
      assert.deepEqual(doc.batches.map((b) => b.batch), [0, 1, 2, 3]);
      for (const [i, b] of doc.batches.entries()) {
        const auc = b.metrics.roc_auc!;
        assert.ok(auc.estimated! > 0.5 && auc.estimatedInterval!.length === 2, JSON.stringify(auc));
        assert.equal(auc.realized === null, i >= 2, `batch ${i}: ${JSON.stringify(auc)}`);
        assert.equal(b.verdicts!.length, i >= 2 ? 1 : 2, `batch ${i}`);
        // the detectors' state carried from batch to batch through the store (one run each)
        assert.equal(b.sequential!.batches, i + 1, `batch ${i}`);
        assert.ok(b.sequential!.detectors.roc_auc_estimated, JSON.stringify(b.sequential));
        assert.match(b.sequential!.falseAlarmRate, /ARL0/);
      }
      // the departure detector saw the two labelled batches (0 and 1), stored with batch 3
      const dep = doc.batches[3].sequential!.detectors.roc_auc_departure;
      assert.equal(dep.kind, "page_hinkley");
      const state = (await table.list("late"))[3].details.sequentialState as {
        detectors: Record<string, { batches: number }>;
      };
      assert.equal(state.detectors.roc_auc_departure.batches, 2);
      assert.equal(state.detectors.prediction.batches, 4);
      // batch 3's HTML report charts the stream's estimated vs realized ROC AUC so far
      const html = new TextDecoder().decode(
        await new LocalArtifactStore(`${s.dir}/a`).get((await table.list("late"))[3].reportHtml!),
      );
      assert.match(html, /ROC AUC over the stream/);
      assert.match(html, /aria-label="estimated vs realized ROC AUC by batch"/);
      assert.equal((html.match(/batch \d: realized /g) ?? []).length, 2, "batches 0 and 1 landed");
      assert.equal((html.match(/batch \d: estimated /g) ?? []).length, 4);
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: a concept change is caught when the labels land, and that verdict retrains",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      const params = {
        ...s.stream("late-concept", 2000),
        labelsDelay: 1,
        training: { data: s.data.reference, initialRows: 7000, trials: 1, rounds: 20 },
        events: [{
          atBatch: 1,
          // finite bounds: the defaults (±Infinity) do not survive the params' JSON
          drift: {
            kind: "label_flip",
            target: "late",
            column: "distance",
            min: 0,
            max: 1e9,
            share: 0.5,
            positiveShare: "free",
          },
        }],
      };
      const runs = await s.monitor(store, params, { month: 3 }, 3);
      const rows = await (await MonitoringTable.open(store.db)).list("late-concept");
      // batch 1 came with the same covariates and no labels: nothing to see on its first verdict
      assert.equal(runs[1].stateOf("retrain"), "skipped", rows[1].reasons.join("; "));
      assert.notEqual(rows[1].severity, "concept");
      // its labels landed with batch 2: the second verdict is a concept change and retrains
      const v1 = rows[1].details.verdicts as { kind: string; severity: string; action: string }[];
      assert.deepEqual(v1.map((v) => v.kind), ["batch", "labels"]);
      assert.equal(v1[1].severity, "concept", JSON.stringify(v1[1]));
      assert.equal(v1[1].action, "retrain");
      assert.equal(runs[2].stateOf("alert"), "success");
      assert.equal(runs[2].stateOf("retrain"), "success");
      assert.equal(rows[1].retrained, true, "the outcome is recorded on the batch it concerns");
      const auc = rows[1].metrics.roc_auc;
      assert.ok(auc.realized! < auc.estimated!, JSON.stringify(auc));
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: a prior shift seen when the labels land recalibrates on that batch",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      const params = {
        ...s.stream("late-prior", 3000),
        labelsDelay: 1,
        events: [{
          atBatch: 1,
          drift: { kind: "prior_shift", target: "late", positiveShare: 0.6 },
        }],
      };
      const runs = await s.monitor(store, params, { month: 4 }, 3);
      const rows = await (await MonitoringTable.open(store.db)).list("late-prior");
      assert.notEqual(rows[1].severity, "prior", "no labels on the first verdict: no prior grade");
      const v1 = rows[1].details.verdicts as { kind: string; severity: string; action: string }[];
      assert.deepEqual(v1.map((v) => v.kind), ["batch", "labels"]);
      assert.equal(v1[1].severity, "prior", JSON.stringify(v1[1]));
      assert.equal(runs[2].stateOf("recalibrate"), "success");
      assert.equal(runs[2].stateOf("retrain"), "skipped");
      const registry = await ModelRegistry.open(store.db);
      const versions = (await registry.models()).find((m) => m.name === "flights_delay")!.versions;
      const recal = versions.find((v) => v.params.recalibration !== undefined);
      assert.ok(recal, "a recalibrated version is registered from batch 1's labels");
    } finally {
      await s.hook.close();
    }
  },
);

storeTest(
  "drift_monitoring: a champion without an out-of-time holdout gets no label-based grade (its training rows are no honest reference)",
  async (store) => {
    const s = await setup();
    try {
      await s.train(store);
      // an older version: only its training rows are recorded
      await store.db.query(
        `update model_versions set params = params - 'reference' - 'holdoutData'
         where params ? 'trainingData'`,
      );
      const params = {
        ...s.stream("legacy", 3000),
        events: [{
          atBatch: 0,
          drift: { kind: "prior_shift", target: "late", positiveShare: 0.6 },
        }],
      };
      const r = await runDag(store, driftMonitoring, params, {
        dags: DAGS,
        artifactsDir: `${s.dir}/a`,
        logicalDate: new Date(Date.UTC(2026, 2, 1)),
      });
      assert.equal(r.state, "success");
      const [row] = await (await MonitoringTable.open(store.db)).list("legacy");
      assert.ok(
        !["prior", "concept"].includes(row.severity ?? ""),
        `${row.severity}: ${row.reasons.join("; ")}`,
      );
      assert.equal(r.stateOf("recalibrate"), "skipped");
      assert.equal(r.stateOf("retrain"), "skipped");
    } finally {
      await s.hook.close();
    }
  },
);
