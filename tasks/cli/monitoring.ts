/**
 * `deno task monitoring <stream> [--json] [--all]`: the monitored batches of a stream from the
 * monitoring table — a table for people (AUC on the reference and realized, the action and its
 * reason) or, with `--json`, the stable document of {@link MonitoringDocument} (version 1).
 *
 * @example
 * ```sh
 * deno task monitoring flights --json
 * ```
 */
import { parse, renderTable, UsageError } from "../../runner/cli/common.ts";
import { openStore } from "../../runner/store/open.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { monitoringDocument, monitoringTableRows } from "../monitoring/document.ts";
import { MonitoringTable } from "../monitoring/metrics_table.ts";

export const MONITORING_USAGE = `usage: deno task monitoring <stream> [--json] [--all] [--limit N]

The monitored batches of a stream (drift_monitoring's streamName, e.g. "flights").
  --json      print the stable JSON document {"version": 1, "stream", "batches": [...]}
  --all       every pass over the stream (default: the latest, from the last restart)
  --limit N   read at most the latest N rows of the table (default 10000)
  --help      this text`;

/** The report of a stream as text: the JSON document or a table. */
export async function monitoringReport(
  db: SqlClient,
  stream: string,
  { json = false, all = false, limit = 10_000 } = {},
): Promise<string> {
  const rows = await (await MonitoringTable.open(db)).list(stream, limit);
  const doc = monitoringDocument(stream, rows, { all });
  if (json) return JSON.stringify(doc, null, 2);
  if (doc.batches.length === 0) {
    return `no monitored batches of stream "${stream}" yet: \`deno task run drift_monitoring\` records them`;
  }
  const promoted = doc.batches.filter((b) => b.promoted).length;
  const retrained = doc.batches.filter((b) => b.retrained).length;
  return `${
    renderTable(monitoringTableRows(doc))
  }\n\n${doc.batches.length} batches of "${stream}": ${retrained} retrained, ${promoted} promoted (* = drift injected)`;
}

/** Runs the command; resolves to the exit code. */
export async function monitoringCommand(args: string[]): Promise<number> {
  let stream: string, json: boolean, all: boolean, limit: number;
  try {
    const { values, positionals } = parse(args, {
      json: { type: "boolean", default: false },
      all: { type: "boolean", default: false },
      limit: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    });
    if (values.help) {
      console.log(MONITORING_USAGE);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(`name one stream (got ${positionals.length}: ${positionals.join(" ")})`);
    }
    stream = positionals[0];
    json = values.json;
    all = values.all;
    limit = values.limit === undefined ? 10_000 : Number(values.limit);
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new UsageError(`--limit must be a positive integer, got "${values.limit}"`);
    }
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${MONITORING_USAGE}`);
    return 2;
  }
  const store = await openStore();
  try {
    console.log(await monitoringReport(store.db, stream, { json, all, limit }));
    return 0;
  } finally {
    await store.close();
  }
}

if (import.meta.main) Deno.exit(await monitoringCommand(Deno.args));
