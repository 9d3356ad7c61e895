/**
 * `deno task demo` (in dags/_demo, a folder the DAG loader skips): the main job on a fresh clone,
 * with no server and nothing configured (PGlite and local files). Prepares the data when missing, trains the first champion, runs `drift_monitoring`
 * over 12 weekly batches of the 2001 flights stream with a sudden covariate drift injected at batch
 * 6 (distance +1σ) on top of the natural drift of the season, and ends with a table and the paths
 * of the HTML reports. The history stays in the store: `deno task serve` shows it.
 *
 * @example
 * ```sh
 * deno task demo [--batches 12] [--batch-size 20000]
 * ```
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadAndSync, openStores, renderTable } from "../../runner/cli/common.ts";
import { Executor, type ExecutorEvent } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { dataHome } from "../../runner/store/open.ts";
import { dataDir, dataPaths, prepareAll } from "../../tasks/data/prepare.ts";
import { parquetRowCount } from "../../tasks/data/parquet.ts";
import { monitoringDocument, monitoringTableRows } from "../../tasks/monitoring/document.ts";
import { WEEK_OF_FLIGHTS } from "../../tasks/monitoring/flights.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
import { Timings } from "./timings.ts";

function say(text: string) {
  Deno.stderr.writeSync(new TextEncoder().encode(text));
}

export async function demo(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      batches: { type: "string", default: "12" },
      "batch-size": { type: "string", default: "20000" },
    },
  });
  const batches = Number(values.batches), batchSize = Number(values["batch-size"]);
  const t0 = performance.now();
  // performance.now() counts from the process's start: what ran before this is module loading
  const timings = new Timings(() => performance.now(), 0);
  timings.record("module loading", t0);
  const paths = dataPaths();
  await timings.phase("data", async () => {
    try {
      await Deno.stat(paths.flightsStream);
      say(`data: ${dataDir()}/ is prepared\n`);
    } catch {
      say(`data: preparing ${dataDir()}/ from the npm packages (once)…\n`);
      await prepareAll();
    }
  });
  const { store, artifacts } = await timings.phase("store: open, migrate", () => openStores());
  try {
    const loaded = await timings.phase("DAGs: load, sync", () => loadAndSync(store));
    const dag = (id: string) => {
      const d = loaded.dags.get(id);
      if (!d) {
        throw new Error(
          `the DAG "${id}" did not load: ${loaded.problems.join("; ")}`,
        );
      }
      return d;
    };
    let label = "";
    const tty = Deno.stderr.isTerminal();
    const onEvent = (e: ExecutorEvent) => {
      timings.onEvent(e);
      if (tty && e.kind === "task" && e.state === "running") {
        say(`\r${label}: ${e.taskId.padEnd(24)}`);
      }
    };
    const executor = new Executor({
      store,
      artifacts,
      resolveDag: (id) => loaded.dags.get(id),
      onEvent,
    });
    const run = async (id: string, params: Record<string, unknown>, logicalDate: Date) => {
      const r = await createDagRun(store, dag(id), { params, logicalDate, runType: "manual" });
      const result = await executor.runToEnd(dag(id), r.id);
      if (result.state !== "success") {
        throw new Error(`${id} run ${r.id} ${result.state}: see \`deno task runs ${id}\``);
      }
      return result;
    };
    const base = Date.now() - (batches + 1) * 3_600_000;
    label = "training the first champion";
    say(`${label}…${tty ? "" : "\n"}`);
    await timings.phase("training: first champion", () => run("training", {}, new Date(base)));
    say(`\r${label}: done${" ".repeat(24)}\n`);
    const total = await parquetRowCount(paths.flightsStream);
    const stride = Math.min(WEEK_OF_FLIGHTS, Math.floor(total / batches));
    const metrics = await MonitoringTable.open(store.db);
    const before = (await metrics.list("flights")).length;
    for (let b = 0; b < batches; b++) {
      label = `drift_monitoring batch ${b + 1}/${batches}`;
      say(tty ? `\r${label}` : `${label}\n`);
      await timings.phase(`drift_monitoring: batch ${b}`, () =>
        run("drift_monitoring", {
          restart: b === 0,
          batchSize,
          stride,
          window: stride,
          events: [{ atBatch: 6, drift: { kind: "mean_shift", column: "distance", k: 1 } }],
          // retrain on the latest weeks: the stream has moved on from January
          training: { window: "sliding", windowBatches: 3 },
        }, new Date(base + (b + 1) * 3_600_000)));
    }
    await executor.drain();
    const rows = (await metrics.list("flights")).slice(before);
    const weeks = rows.map((r) => (r.details.from as string | undefined)?.slice(0, 10))
      .filter((d): d is string => d !== undefined);
    const span = weeks.length ? ` (weeks of ${weeks[0]} … ${weeks[weeks.length - 1]})` : "";
    console.log(
      `\nDriftflow demo: ${rows.length} weekly batches of ${batchSize} flights${span}, distance +1σ injected from batch 6\n`,
    );
    const doc = monitoringDocument("flights", rows);
    console.log(renderTable(monitoringTableRows(doc, { width: 90 })));
    const retrained = doc.batches.filter((b) => b.retrained).length;
    const promoted = doc.batches.filter((b) => b.promoted).length;
    console.log(
      `\n${retrained} retrained, ${promoted} promoted; every batch's reasons: \`deno task monitoring flights\` (--json for the document)`,
    );
    // Reports as .html files a browser opens (the artifact store keeps them by content key).
    const reports = resolve(dataHome(), "reports");
    console.log("(* = batch with the injected drift)\n\nHTML reports (open in a browser):");
    await timings.phase("report files", async () => {
      await Deno.mkdir(reports, { recursive: true });
      for (const r of rows) {
        if (!r.reportHtml) continue;
        const file = `${reports}/flights-batch-${String(r.batch).padStart(2, "0")}.html`;
        await Deno.writeFile(file, await artifacts.get(r.reportHtml));
        console.log(`  batch ${r.batch}: ${file}`);
      }
    });
    console.log(
      "  (with `deno task serve`: http://127.0.0.1:8080/drift links each batch's report)",
    );
  } finally {
    await timings.phase("store: close", () => store.close());
  }
  console.log(
    `\nfinished in ${
      (performance.now() / 1000).toFixed(0)
    } s; the history is in ${dataHome()}/ — \`deno task serve\` shows it`,
  );
  say(`\nwhere the time went:\n${timings.render()}\n`);
}

if (import.meta.main) await demo(Deno.args);
