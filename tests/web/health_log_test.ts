// /health while the prediction log's commits hang (throw nothing, never return): predictions are
// refused with 503, so /health must say "degraded" (503) too — it used to answer 200 "ok".
import assert from "node:assert/strict";
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { PredictionLog } from "../../models/serving/prediction_log.ts";
import { PredictionService } from "../../models/serving/service.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { createApp } from "../../web/app.tsx";
import type { Serving } from "../../web/services/serving.ts";
import { fakeFlights } from "../dags/helpers.ts";
import { storeTest } from "../runner/helpers.ts";
import { eventually } from "../runner/processes.ts";
import { AUTH, ROW } from "./serve_process.ts";

const FEATURES = ["day_of_week", "hour", "distance", "origin", "destination"];

/** The client, with inserts into predictions that wait while `hang.on` is set. */
function hanging(db: SqlClient, hang: { on: boolean }): SqlClient {
  const held = async (text: string) => {
    while (hang.on && text.includes("insert into predictions")) {
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    kind: db.kind,
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      await held(text);
      return await db.query<T>(text, params);
    },
    async exec(text) {
      await held(text);
      await db.exec(text);
    },
    transaction: (fn) => db.transaction(fn),
    listen: (c, fn) => db.listen(c, fn),
    close: () => db.close(),
  };
}

storeTest("/health is degraded while the prediction log's commits hang", async (store) => {
  const dir = await Deno.makeTempDir();
  const hang = { on: false };
  try {
    const artifacts = new LocalArtifactStore(dir);
    const registry = await ModelRegistry.open(store.db);
    const data = fakeFlights(1500, 1);
    const table = Object.fromEntries([...FEATURES, "late"].map((c) => [c, data[c]]));
    const { model } = trainModel(table, { target: "late", seed: 1, params: { nEstimators: 10 } });
    const v = await registerModel({ registry, artifacts }, model, {
      name: "flights_delay",
      fingerprint: await fingerprintTable(table),
    });
    await registry.setAlias("flights_delay", "champion", v.version, { reason: "test" });
    const log = await PredictionLog.open(hanging(store.db, hang), {
      ackTimeoutMs: 200,
      retryMs: 10,
    });
    const service = new PredictionService({ registry, artifacts, log });
    const serving = Object.assign(() => Promise.resolve({ service, log }), {
      close: (ms?: number) => log.close(ms),
      logHealth: () => log.health(),
    }) as Serving;
    const app = createApp({
      store,
      registry: () => Promise.resolve(registry),
      dags: () => new Map(),
      token: "serve-test-token",
      artifacts,
      serving,
      serveModel: "flights_delay",
    });
    const predict = () =>
      app.request("/api/v1/predict", {
        method: "POST",
        headers: AUTH,
        body: JSON.stringify({ rows: [ROW] }),
      });
    const ok = await predict();
    assert.equal(ok.status, 200, await ok.text());
    assert.equal((await app.request("/health")).status, 200);

    hang.on = true;
    const answers = await Promise.all([predict(), predict()]);
    for (const res of answers) assert.equal(res.status, 503, await res.text());
    const health = await app.request("/health");
    const body = await health.json();
    assert.equal(health.status, 503, JSON.stringify(body));
    assert.equal(body.status, "degraded");
    assert.equal(body.predictionLog.queued, 2);

    hang.on = false;
    const back = await predict();
    assert.equal(back.status, 200, await back.text());
    // the two refused writes stayed queued: stored once commits return, then /health is ok
    await eventually(
      "the queued rows committed",
      () => Promise.resolve(log.health().queued === 0 ? true : undefined),
      10_000,
    );
    assert.equal((await app.request("/health")).status, 200);
    await log.close();
  } finally {
    hang.on = false;
    await Deno.remove(dir, { recursive: true });
  }
});
