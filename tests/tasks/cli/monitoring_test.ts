// `deno task monitoring`: the stable JSON document and the table, from the monitoring table of a
// PGlite home, spawned as a user would run it (bounded by a timeout).
import assert from "node:assert/strict";
import { runCli } from "../../runner/processes.ts";
import { openStore } from "../../../runner/store/open.ts";
import { MonitoringDocument, monitoringDocument } from "../../../tasks/monitoring/document.ts";
import { MonitoringTable } from "../../../tasks/monitoring/metrics_table.ts";

const cli = (home: string, args: string[]) =>
  runCli(args, { DRIFTFLOW_HOME: home }, { entry: "tasks/cli/monitoring.ts", timeoutMs: 60_000 });

const base = { dagId: "drift_monitoring", stream: "small", model: "m" };

/** A small stream: a clean batch, a labelled batch with drift and a retrain, one without labels. */
async function seed(table: MonitoringTable) {
  await table.insert({
    ...base,
    runId: 1,
    batch: 0,
    rows: 500,
    championVersion: 1,
    severity: "none",
    action: "log",
    reasons: ["no column changed significantly (Holm, α 0.05)"],
    metrics: { roc_auc: { reference: 0.7, realized: 0.69 } },
    details: {
      from: "2001-02-01T00:00:00.000Z",
      drifted: [],
      truth: { drifted: false, events: [] },
    },
  });
  await table.insert({
    ...base,
    runId: 2,
    batch: 1,
    rows: 500,
    championVersion: 1,
    severity: "major",
    action: "retrain",
    retrained: true,
    promoted: true,
    reasons: ["distance moved by 1.0σ"],
    metrics: {
      roc_auc: { reference: 0.7, realized: 0.66 },
      log_loss: { reference: 0.45, realized: 0.5 },
    },
    details: {
      from: "2001-02-08T00:00:00.000Z",
      drifted: ["distance"],
      truth: { drifted: true, events: [{ kind: "mean_shift" }] },
    },
  });
  await table.insert({
    ...base,
    runId: 3,
    batch: 2,
    rows: 400,
    championVersion: 2,
    severity: "none",
    action: "log",
    metrics: { roc_auc: { reference: 0.71, realized: null } },
    details: { from: null, drifted: [] },
  });
  await table.insert({ ...base, stream: "other", runId: 4, batch: 0, rows: 10 });
}

Deno.test({
  name: "monitoring CLI: --json prints the version-1 document of one stream; the table; usage",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "driftflow-monitoring-cli-" });
    try {
      const store = await openStore({ pgliteDir: `${home}/pgdata` });
      try {
        await seed(await MonitoringTable.open(store.db));
      } finally {
        await store.close();
      }
      const json = await cli(home, ["small", "--json"]);
      assert.equal(json.code, 0, json.stderr);
      const doc = MonitoringDocument.parse(JSON.parse(json.stdout));
      assert.equal(doc.version, 1);
      assert.equal(doc.stream, "small");
      assert.deepEqual(doc.batches.map((b) => b.batch), [0, 1, 2]);
      const [b0, b1, b2] = doc.batches;
      assert.deepEqual(Object.keys(b1).sort(), [
        "action",
        "batch",
        "championVersion",
        "driftedColumns",
        "from",
        "metrics",
        "promoted",
        "reasons",
        "retrained",
        "rows",
        "sequential",
        "severity",
        "truth",
        "verdicts",
      ]);
      // rows written without the detectors or verdicts: null and [] (the document only grows)
      assert.equal(b1.sequential, null);
      assert.deepEqual(b1.verdicts, []);
      assert.equal(b0.truth, null, "a batch with nothing injected has no truth");
      assert.deepEqual(b1.driftedColumns, ["distance"]);
      assert.equal(b1.retrained && b1.promoted, true);
      assert.deepEqual(b1.metrics.roc_auc, { reference: 0.7, realized: 0.66 });
      assert.equal(b2.metrics.roc_auc.realized, null, "no labels: realized is null");
      assert.equal(b2.from, null);

      const table = await cli(home, ["small"]);
      assert.equal(table.code, 0, table.stderr);
      assert.match(
        table.stdout,
        /1\*\s+2001-02-08\s+500\s+major\s+retrain \(promoted\)\s+v1\s+0\.700\s+–\s+0\.660/,
      );
      assert.match(table.stdout, /3 batches of "small": 1 retrained, 1 promoted/);

      const none = await cli(home, ["nothing-here", "--json"]);
      assert.deepEqual(JSON.parse(none.stdout), {
        version: 1,
        stream: "nothing-here",
        batches: [],
      });
      const help = await cli(home, ["--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /usage: deno task monitoring <stream>/);
      const bad = await cli(home, []);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /name one stream/);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test("monitoring document: only the latest pass after a restart, all with `all`", () => {
  const row = (id: number, batch: number) => ({
    id,
    at: new Date(0),
    dagId: "d",
    runId: id,
    stream: "s",
    batch,
    rows: 1,
    driftedShare: null,
    datasetDrift: null,
    severity: null,
    action: null,
    model: null,
    championVersion: null,
    rocAuc: id === 4 ? 0.6 : null,
    reportHtml: null,
    reportJson: null,
    details: {},
    reasons: [],
    metrics: {},
    retrained: false,
    promoted: false,
  });
  const rows = [row(1, 0), row(2, 1), row(3, 0), row(4, 1)];
  assert.deepEqual(monitoringDocument("s", rows).batches.map((b) => b.batch), [0, 1]);
  assert.equal(monitoringDocument("s", rows, { all: true }).batches.length, 4);
  assert.deepEqual(monitoringDocument("s", rows).batches[1].metrics, {
    roc_auc: { reference: null, realized: 0.6 },
  });
});
