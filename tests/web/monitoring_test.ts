// The drift dashboard, experiments page, monitoring API, and the prediction and feedback services,
// through app.request on both store backends.
import assert from "node:assert/strict";
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import type { Store } from "../../runner/store/store.ts";
import { Alerter } from "../../tasks/alert/alerter.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
import { createApp } from "../../web/app.tsx";
import type { AlertRow } from "../../web/services/monitoring_data.ts";
import { foldAlerts } from "../../web/pages/drift_alerts.tsx";
import { fakeFlights } from "../dags/helpers.ts";
import { storeSuite } from "../runner/helpers.ts";

const TOKEN = "test-token";
const XSS = "<script>alert(1)</script>";
const auth = { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" };
const FEATURES = ["day_of_week", "hour", "distance", "origin", "destination"];

async function setup(store: Store) {
  const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
  let registry: Promise<ModelRegistry> | undefined;
  const app = createApp({
    store,
    registry: () => (registry ??= ModelRegistry.open(store.db)),
    dags: () => new Map(),
    token: TOKEN,
    artifacts,
    serveModel: "flights_delay", // as DRIFTFLOW_SERVE_MODEL would set it
  });
  return { app, artifacts, registry: () => (registry ??= ModelRegistry.open(store.db)) };
}

async function withChampion(artifacts: LocalArtifactStore, registry: ModelRegistry) {
  const data = fakeFlights(3000, 1);
  const table = Object.fromEntries([...FEATURES, "late"].map((c) => [c, data[c]]));
  const { model } = trainModel(table, { target: "late", seed: 1, params: { nEstimators: 20 } });
  const v = await registerModel({ registry, artifacts }, model, {
    name: "flights_delay",
    fingerprint: await fingerprintTable(table),
  });
  await registry.setAlias("flights_delay", "champion", v.version, { reason: "test" });
  return v;
}

storeSuite("web monitoring", {
  "drift dashboard: chart, column heatmap, report links, alerts; user text stays inert": async (
    store,
  ) => {
    const { app, artifacts } = await setup(store);
    const metrics = await MonitoringTable.open(store.db);
    const report = await artifacts.put(
      new TextEncoder().encode(JSON.stringify({ version: 1, columns: [] })),
    );
    for (let b = 0; b < 3; b++) {
      await metrics.insert({
        dagId: "drift_monitoring",
        runId: 1,
        stream: "flights",
        batch: b,
        rows: 100,
        driftedShare: b / 4,
        severity: ["none", "prior", "major"][b],
        action: "log",
        model: "flights_delay",
        championVersion: 1,
        rocAuc: 0.7,
        reportHtml: report,
        reportJson: report,
        details: {
          from: `2001-02-${String(6 + 7 * b).padStart(2, "0")}T00:00:00.000Z`,
          columns: {
            distance: { test: "wasserstein", statistic: 0.05 * b, drifted: b === 2 },
            [XSS]: { test: "psi", statistic: 0.1, drifted: false },
          },
        },
      });
    }
    const alerter = await Alerter.open(store.db, { channels: [{ type: "log" }] });
    await alerter.send({
      level: "WARNING",
      key: "drift:flights",
      title: `drift ${XSS}`,
      message: "m",
    });
    const res = await app.request("/drift");
    assert.equal(res.status, 200);
    const page = await res.text();
    assert.match(page, /aria-label="drifted share per batch"/);
    // one heatmap per statistic, each with its own scale and legend; the x-axis is the batch date
    assert.match(page, /aria-label="per-column drift over batches: wasserstein"/);
    assert.match(page, /aria-label="per-column drift over batches: psi"/);
    const heatmaps = [...page.matchAll(/<svg[^>]*data-statistic="(\w+)"[^>]*>(.*?)<\/svg>/gs)];
    assert.deepEqual(heatmaps.map((m) => m[1]), ["wasserstein", "psi"]);
    for (const [, test, svg] of heatmaps) {
      assert.match(svg, /<g class="legend">/, test);
      assert.match(
        svg,
        /drifted \(the test&#39;s decision\)|drifted \(the test's decision\)/,
        test,
      );
      const tests = [...svg.matchAll(/<title>[^<]*: (\w+) [\d.e-]+/g)].map((m) => m[1]);
      assert.ok(tests.length > 0 && tests.every((t) => t === test), `${test}: one statistic`);
    }
    assert.match(page, /2001-02-06/);
    assert.match(page, /batch date \(start of batch\)/);
    assert.match(page, /class="cell drifted"/);
    // the prior grade has its own colour, not the fallback grey
    assert.match(page, /background:#0277bd">prior</);
    assert.match(page, new RegExp(`/artifacts/${report}\\?type=html`));
    assert.ok(
      !page.includes(XSS) && page.includes("&lt;script&gt;"),
      "column names and alert titles are escaped",
    );
    const api = await (await app.request("/api/v1/drift?stream=flights")).json();
    assert.equal(api.batches.length, 3);
    assert.equal(api.batches[2].severity, "major");
    const one = await app.request(`/api/v1/drift/${api.batches[0].id}/report`);
    assert.deepEqual(await one.json(), { version: 1, columns: [] });
    assert.equal((await app.request("/api/v1/drift/999999/report")).status, 404);
    const alerts = await (await app.request("/api/v1/alerts")).json();
    assert.equal(alerts.alerts[0].level, "WARNING");
    const metricsText = await (await app.request("/metrics")).text();
    assert.match(
      metricsText,
      /driftflow_drift_score\{stream="flights",column="distance",test="wasserstein"\} 0\.1/,
    );
    assert.match(metricsText, /driftflow_drift_batch\{stream="flights"\} 2/);
    assert.doesNotMatch(metricsText, /batch="/);
    assert.match(metricsText, /driftflow_severity\{stream="flights"\} 3/);
    assert.match(metricsText, /4 prior, 5 concept/);
    assert.match(metricsText, /driftflow_alerts_total\{level="WARNING"\} 1/);
    assert.equal((await app.request("/experiments")).status, 200);
  },

  "drift page: the champion's AUC over time, with and without estimates; action, reasons; folded alerts":
    async (store) => {
      const { app } = await setup(store);
      const table = await MonitoringTable.open(store.db);
      // a first pass that a restart replaced: not charted, but said
      await table.insert({
        dagId: "drift_monitoring",
        runId: 9,
        stream: "delays",
        batch: 0,
        rows: 50,
        details: {},
      });
      const reference = 0.72;
      for (let b = 0; b < 6; b++) {
        const estimated = b >= 3; // the later batches were also estimated without labels
        await table.insert({
          dagId: "drift_monitoring",
          runId: 10 + b,
          stream: "delays",
          batch: b,
          rows: 1000,
          driftedShare: b === 3 ? 0.4 : 0,
          severity: ["none", "minor", "none", "concept", "none", "prior"][b],
          action: ["log", "log", "log", "retrain", "log", "recalibrate"][b],
          retrained: b === 3 || b === 5,
          promoted: b === 3,
          model: "flights_delay",
          championVersion: b <= 3 ? 1 : 2,
          rocAuc: b === 5 ? null : 0.7 - (b === 3 ? 0.1 : 0),
          metrics: {
            roc_auc: {
              reference,
              realized: b === 5 ? null : 0.7 - (b === 3 ? 0.1 : 0),
              ...(estimated
                ? { estimated: 0.69, estimatedInterval: [0.66, 0.72], departed: b === 3 }
                : {}),
            } as { reference: number; realized: number | null },
          },
          reasons: b === 3
            ? ["ROC AUC fell 0.120 below the reference (DeLong p = 0.001)", "persisted 2 batches"]
            : b === 5
            ? ["late share moved 19% → 30% while ROC AUC held"]
            : [],
          details: {
            from: new Date(Date.UTC(2001, 1, 6 + 7 * b)).toISOString(),
            truth: b === 3
              ? { drifted: true, events: [{ kind: "boundary_rotation" }] }
              : { drifted: false, events: [] },
            drifted: b === 3 ? ["distance", "late_prob (prediction)"] : [],
            verdict: { errorRate: "family-wise error rate (Holm) ≤ 0.05 over 12 checks" },
            ...(b === 3
              ? {
                sequential: { alarms: ["roc_auc_departure"], falseAlarmRate: "ARL0 500" },
                verdicts: [
                  { at: "x", kind: "batch", severity: "none", action: "log", reasons: [] },
                  { at: "y", kind: "labels", severity: "concept", action: "retrain", reasons: [] },
                ],
              }
              : {}),
          },
        });
      }
      const alerter = await Alerter.open(store.db, { channels: [{ type: "log" }] });
      for (let k = 0; k < 4; k++) {
        await alerter.send({
          level: "WARNING",
          key: "drift:delays",
          title: "concept drift on delays",
          message: "m",
        });
      }
      const res = await app.request("/drift?stream=delays");
      assert.equal(res.status, 200);
      const page = await res.text();
      const chart = page.match(
        /<svg[^>]*aria-label="champion ROC AUC per batch over time"[^>]*>(.*?)<\/svg>/s,
      )?.[1];
      assert.ok(chart, "the AUC chart is on the page");
      // axes with labels, a legend naming every series shown, dates on the x-axis
      assert.match(chart, /class="axis-title">batch date \(start of batch\)</);
      assert.match(chart, /class="axis-title">champion&#39;s ROC AUC<|champion's ROC AUC</);
      assert.match(chart, />2001-02-06</);
      assert.match(chart, />0\.70</, "y ticks");
      for (const item of ["realized", "estimated", "reference", "champion-change", "injected"]) {
        assert.match(chart, new RegExp(`class="legend-item ${item}"`), item);
      }
      assert.match(chart, /realized \(labels\)/);
      assert.match(chart, /estimated \(no labels\) ± interval/);
      // markers: one champion change (v1→v2), one injection onset; three estimate intervals
      assert.equal([...chart.matchAll(/class="marker champion-change"/g)].length, 1);
      assert.match(chart, /v1→v2/);
      assert.equal([...chart.matchAll(/class="marker injected"/g)].length, 1);
      assert.match(chart, /injected: boundary_rotation/);
      assert.equal([...chart.matchAll(/class="estimated-interval"/g)].length, 3);
      // batch 3: the estimate and the realized value parted; the sequential detector alarmed
      assert.equal([...chart.matchAll(/class="marker departed"/g)].length, 1);
      assert.equal([...chart.matchAll(/class="marker sequential-alarm"/g)].length, 1);
      assert.match(chart, /class="legend-item departed"/);
      assert.match(chart, /class="legend-item sequential-alarm"/);
      assert.match(chart, /sequential alarm — roc_auc_departure/);
      // realized: five points (batch 5 has no labels), the line broken nowhere else
      assert.equal([...chart.matchAll(/class="realized-point"/g)].length, 5);
      assert.match(chart, /batch 5 \(2001-03-13\): estimated 0\.690 \[0\.660, 0\.720\]/);
      assert.match(chart, /fill="#0277bd"/, "the prior grade has its colour in the severity strip");
      // the table: AUC reference / realized / estimated, the action as the CLI prints it, reasons
      for (const h of ["AUC reference", "AUC realized", "AUC estimated", "action"]) {
        assert.match(page, new RegExp(`>${h}</th>`), h);
      }
      assert.match(page, /class="action">retrain \(promoted\)</);
      assert.match(page, /class="action">recalibrate \(kept\)</);
      assert.match(page, /ROC AUC fell 0\.120 below the reference \(DeLong p = 0\.001\)/);
      assert.match(page, /\(\+1 more\)/);
      assert.match(page, /class="reasons-row"/, "reasons sit under their batch, across the table");
      assert.match(
        page,
        /the grade&#39;s error rate: family-wise error rate \(Holm\) ≤ 0\.05 over 12 checks|the grade's error rate: family-wise error rate \(Holm\) ≤ 0\.05 over 12 checks/,
        "the grade states the error rate it controls",
      );
      // both verdicts of the batch whose labels came late
      assert.match(page, /when the batch came \(no labels\):<\/span> none → log/);
      assert.match(page, /when its labels landed:<\/span> concept → retrain/);
      assert.match(page, /no labels yet/, "batch 5's realized AUC is pending, and says so");
      assert.match(page, /late share moved 19% → 30% while ROC AUC held/);
      assert.match(page, /distance, late_prob \(prediction\)/);
      assert.match(page, />0\.720</);
      assert.match(page, />0\.600</);
      assert.match(page, /1 rows of earlier passes/);
      // the alerts: one sent, three suppressed repeats folded into one row with their span
      assert.match(page, /<th>time \(UTC\)<\/th>/);
      assert.match(page, /suppressed ×3 \(cooldown: repeats folded\)/);
      assert.equal([...page.matchAll(/concept drift on delays/g)].length, 2);
      const api = await (await app.request("/api/v1/drift?stream=delays")).json();
      assert.deepEqual(api.batches[6].metrics.roc_auc, {
        reference,
        referenceInterval: null,
        realized: null,
        estimated: 0.69,
        estimatedInterval: [0.66, 0.72],
        departed: false,
      });
      assert.equal(api.batches[3].metrics.roc_auc.estimated, null, "batch 2: no estimate");
    },

  "drift page: rows without estimates or references still chart the realized AUC": async (
    store,
  ) => {
    const { app } = await setup(store);
    const table = await MonitoringTable.open(store.db);
    for (let b = 0; b < 3; b++) {
      await table.insert({
        dagId: "drift_monitoring",
        runId: 30,
        stream: "old",
        batch: b,
        rows: 10,
        severity: "none",
        action: "log",
        championVersion: 1,
        rocAuc: 0.6 + b / 100, // a row from before the metrics column: the AUC alone
        details: {},
      });
    }
    const page = await (await app.request("/drift?stream=old")).text();
    const chart = page.match(/aria-label="champion ROC AUC per batch over time"[^>]*>(.*?)<\/svg>/s)
      ?.[1];
    assert.ok(chart);
    assert.equal([...chart.matchAll(/class="realized-point"/g)].length, 3);
    assert.doesNotMatch(chart, /class="legend-item estimated"/);
    assert.doesNotMatch(chart, /class="estimated-interval"/);
    assert.doesNotMatch(chart, /class="marker/, "no champion change, injection, alarm or parting");
    assert.doesNotMatch(page, /when its labels landed/);
    assert.match(chart, /class="axis-title">batch</, "no dates: the x-axis is the batch number");
    assert.match(page, /No label-free estimate stored/);
    // one batch with neither labels nor an estimate: the page says what the chart needs
    await table.insert({
      dagId: "drift_monitoring",
      runId: 31,
      stream: "unlabelled",
      batch: 0,
      rows: 10,
      severity: "minor",
      action: "log",
      details: { from: "2001-02-06T00:00:00.000Z" },
    });
    const lone = await (await app.request("/drift?stream=unlabelled")).text();
    assert.doesNotMatch(lone, /aria-label="champion ROC AUC per batch over time"/);
    assert.match(lone, /No ROC AUC recorded for these batches/);
    assert.match(lone, /aria-label="drifted share per batch"/);
  },

  "foldAlerts: suppressed repeats of one key fold until a sent alert of that key": () => {
    const a = (id: number, key: string, suppressed: boolean): AlertRow => ({
      id,
      at: `2026-01-01T00:00:${String(id).padStart(2, "0")}.000Z`,
      level: "WARNING",
      key,
      title: `t ${key}`,
      message: "",
      dagId: null,
      runId: id,
      suppressed,
    });
    // newest first: x suppressed ×2 (with a y between), x sent, x suppressed, x sent
    const groups = foldAlerts([
      a(9, "x", true),
      a(8, "y", true),
      a(7, "x", true),
      a(6, "x", false),
      a(5, "x", true),
      a(4, "x", false),
    ]);
    assert.deepEqual(
      groups.map((g) => [g.latest.id, g.count, g.firstAt.slice(17, 19), g.suppressed]),
      [[9, 2, "07", true], [8, 1, "08", true], [6, 1, "06", false], [5, 1, "05", true], [
        4,
        1,
        "04",
        false,
      ]],
    );
    return Promise.resolve();
  },

  "predict: validated rows, ids, logged; feedback and evaluation; health checks the champion":
    async (store) => {
      const { app, artifacts, registry } = await setup(store);
      const before = await (await app.request("/health")).json();
      assert.equal(before.model, null);
      await withChampion(artifacts, await registry());
      const health = await (await app.request("/health")).json();
      assert.equal(health.model, "flights_delay@1");
      const rows = [
        { day_of_week: 4, hour: 18, distance: 1500, origin: "ORD", destination: "SEA" },
        { day_of_week: 1, hour: 6, distance: null, origin: "never-seen", destination: null },
      ];
      assert.equal(
        (await app.request("/api/v1/predict", {
          method: "POST",
          body: JSON.stringify({ rows }),
          headers: { "content-type": "application/json" },
        })).status,
        401,
      );
      const res = await app.request("/api/v1/predict", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ rows }),
      });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.version, 1);
      assert.equal(body.results.length, 2);
      assert.ok(["yes", "no"].includes(body.results[0].label));
      assert.ok(
        Math.abs(body.results[0].probabilities.yes + body.results[0].probabilities.no - 1) < 1e-6,
      );
      const bad = await app.request("/api/v1/predict", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          rows: [{ day_of_week: "Monday", hour: 3, origin: 7, destination: "SEA", colour: "red" }],
        }),
      });
      assert.equal(bad.status, 422);
      const errors = (await bad.json()).fields.map((f: { field: string }) => f.field).sort();
      assert.deepEqual(errors, [
        "rows.0.colour",
        "rows.0.day_of_week",
        "rows.0.distance",
        "rows.0.origin",
      ]);
      const missing = await app.request("/api/v1/predict", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ model: "nope@champion", rows }),
      });
      assert.equal(missing.status, 404);
      const fb = await app.request("/api/v1/feedback", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ predictionId: body.results[0].id, label: body.results[0].label }),
      });
      assert.equal(fb.status, 201);
      await app.request("/api/v1/feedback", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          predictionId: body.results[1].id,
          label: body.results[1].label === "yes" ? "no" : "yes",
        }),
      });
      assert.equal(
        (await app.request("/api/v1/feedback", {
          method: "POST",
          headers: auth,
          body: JSON.stringify({ predictionId: "nope", label: "yes" }),
        })).status,
        404,
      );
      const maybe = await app.request("/api/v1/feedback", {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ predictionId: body.results[0].id, label: "maybe" }),
      });
      assert.equal(maybe.status, 422, "a label outside the model's classes is refused");
      assert.match(
        (await maybe.json()).fields[0].message,
        /"maybe" is not a class of .*"no", "yes"/,
      );
      const evaluation = await (await app.request("/api/v1/evaluation")).json();
      assert.equal(evaluation.rows, 2);
      assert.equal(evaluation.accuracy, 0.5);
      assert.ok(
        Object.keys(evaluation.confusion).every((k) => k === "no" || k === "yes"),
        "the refused label did not become a class",
      );
      const nope = await app.request("/api/v1/evaluation?model=nope");
      assert.equal(nope.status, 404);
      assert.match((await nope.json()).error, /no model "nope"/);
      assert.match(
        await (await app.request("/metrics")).text(),
        /driftflow_predictions_total\{model="flights_delay"\} 2/,
      );
      const doc = await (await app.request("/api/v1/openapi.json")).json();
      for (
        const path of [
          "/predict",
          "/feedback",
          "/evaluation",
          "/alerts",
          "/drift",
          "/drift/{id}/report",
        ]
      ) {
        assert.ok(doc.paths[path], `openapi has ${path}`);
      }
    },
});
