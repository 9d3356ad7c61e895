// The monitoring table on both backends: opening it twice on one client migrates once; its readers
// (list, latest of each stream, streams, report key) return the rows with their json columns
// parsed; `existing` reads without creating the table.
import assert from "node:assert/strict";
import { tableExists } from "../../../runner/store/table_exists.ts";
import { type MetricPair, MonitoringTable } from "../../../tasks/monitoring/metrics_table.ts";
import { countingClient, storeTest } from "../../runner/helpers.ts";

storeTest("monitoring table: opening it twice on one client migrates once", async (store) => {
  const { client, statements } = countingClient(store.db);
  await MonitoringTable.open(client);
  assert.ok(statements.some((s) => s.includes("create table drift_metrics")));
  const sent = statements.length;
  const table = await MonitoringTable.open(client);
  assert.deepEqual(statements.slice(sent), [], "the second open sends nothing");
  await table.insert({ dagId: "d", runId: 1, stream: "s", batch: 0, rows: 10 });
  assert.equal((await table.list("s")).length, 1);
});

storeTest("monitoring table: readers, and existing() creates nothing", async (store) => {
  assert.equal(await MonitoringTable.existing(store.db), null);
  assert.equal(await tableExists(store.db, "drift_metrics"), false);
  const table = await MonitoringTable.open(store.db);
  const metrics: Record<string, MetricPair> = {
    roc_auc: { reference: 0.8, realized: 0.7, estimatedInterval: [0.6, 0.9] },
  };
  const details = { columns: { x: { test: "ks", statistic: 0.2, drifted: true } }, note: "text" };
  const ids: number[] = [];
  for (const [stream, batch] of [["b", 0], ["a", 0], ["b", 1], ["a", 1], ["b", 2]] as const) {
    ids.push(
      await table.insert({
        dagId: "d",
        runId: 1,
        stream,
        batch,
        rows: 100,
        details,
        reasons: ["drifted share 0.2", 'a "quoted" reason'],
        metrics,
        reportJson: batch === 2 ? "sha256:report" : undefined,
      }),
    );
  }
  const reader = await MonitoringTable.existing(store.db);
  assert.ok(reader);
  const b = await reader.list("b", 2);
  assert.deepEqual(b.map((r) => r.batch), [1, 2], "the latest 2 rows, oldest first");
  assert.deepEqual(b[0].details, details);
  assert.deepEqual(b[0].reasons, ["drifted share 0.2", 'a "quoted" reason']);
  assert.deepEqual(b[0].metrics, metrics);
  assert.equal((await reader.list()).length, 5);
  assert.deepEqual(await reader.streams(), ["a", "b"]);
  const latest = await reader.latestOfEachStream();
  assert.deepEqual(latest.map((r) => [r.stream, r.batch]), [["a", 1], ["b", 2]]);
  assert.deepEqual(latest[0].details, details);
  assert.equal(await reader.reportKey(ids[4]), "sha256:report");
  assert.equal(await reader.reportKey(ids[0]), null);
  assert.equal(await reader.reportKey(-1), null);
});
