/**
 * The monitoring document of a stream: its monitored batches as a stable JSON contract (version 1,
 * only ever extended) and as a table for people. Built from the monitoring table's rows; a metric's
 * `realized` value is null where the batch had no labels.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { monitoringDocument, monitoringTableRows } from "./document.ts";
 * import { MonitoringTable } from "./metrics_table.ts";
 * const db = await openPglite(); // in memory
 * try {
 *   const table = await MonitoringTable.open(db);
 *   const row = { dagId: "drift_monitoring", runId: 1, stream: "flights", rows: 5000 };
 *   const metrics = { roc_auc: { reference: 0.71, realized: 0.7 } };
 *   await table.insert({ ...row, batch: 0, metrics });
 *   await table.insert({ ...row, batch: 1, severity: "minor", action: "log" });
 *   const doc = monitoringDocument("flights", await table.list("flights"));
 *   assert.equal(doc.batches[0].metrics.roc_auc?.realized, 0.7);
 *   const [header, first] = monitoringTableRows(doc); // for people: a table
 *   assert.equal(first[header.indexOf("AUC realized")], "0.700");
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import { z } from "zod";
import type { MetricsRow } from "./metrics_table.ts";

/** One metric of the champion on the reference and realized on the batch. */
export const MetricPairSchema = z.object({
  reference: z.number().nullable(),
  realized: z.number().nullable(),
  /** CBPE's estimate from the batch's scores, without labels. */
  estimated: z.number().optional(),
  /** The estimate's (1 − α) prediction interval for the realized value. */
  estimatedInterval: z.tuple([z.number(), z.number()]).optional(),
  /** The estimated-vs-realized test said they parted (a concept signal); null without labels. */
  departed: z.boolean().nullable().optional(),
});

/** The sequential detectors' state after the batch: alarms, and each detector's evidence. */
export const SequentialSummary = z.object({
  alarms: z.array(z.string()),
  falseAlarmRate: z.string(),
  /** Batches the detectors have seen since the stream (or the champion) started. */
  batches: z.number().int().nonnegative(),
  detectors: z.record(
    z.string(),
    z.object({
      kind: z.string(),
      cumulative: z.number(),
      threshold: z.number(),
      alarms: z.number().int(),
      lastAlarm: z.number().nullable(),
    }),
  ),
});

/** One verdict of a batch: when it came (`batch`), and again when its labels landed (`labels`). */
export const BatchVerdict = z.object({
  at: z.string(),
  kind: z.enum(["batch", "labels"]),
  severity: z.string(),
  action: z.string(),
  reasons: z.array(z.string()),
});

/** One monitored batch. */
export const MonitoredBatch = z.object({
  batch: z.number().int().nonnegative(),
  /** First timestamp of the batch (ISO), when the data has dates. */
  from: z.string().nullable(),
  rows: z.number().int().nonnegative(),
  severity: z.string().nullable(),
  action: z.string().nullable(),
  retrained: z.boolean(),
  promoted: z.boolean(),
  championVersion: z.number().int().nullable(),
  driftedColumns: z.array(z.string()),
  reasons: z.array(z.string()),
  metrics: z.record(z.string(), MetricPairSchema),
  /** What was injected into the batch (ground truth), or null for a batch as it came. */
  truth: z.unknown().nullable(),
  /** The sequential detectors after this batch (absent on rows written before them). */
  sequential: SequentialSummary.nullable().optional(),
  /** Every verdict, oldest first: a second one when the labels came late. */
  verdicts: z.array(BatchVerdict).optional(),
});
export type MonitoredBatch = z.infer<typeof MonitoredBatch>;

/** The document `deno task monitoring <stream> --json` prints. */
export const MonitoringDocument = z.object({
  version: z.literal(1),
  stream: z.string(),
  batches: z.array(MonitoredBatch),
});
export type MonitoringDocument = z.infer<typeof MonitoringDocument>;

/**
 * The rows of the latest pass over the stream: a run with `restart` starts the batches again at 0,
 * so only the rows after the last restart are kept (all of them with `all`).
 */
export function latestPass<T extends { batch: number }>(rows: readonly T[]): T[] {
  let start = 0;
  for (let i = 1; i < rows.length; i++) if (rows[i].batch <= rows[i - 1].batch) start = i;
  return rows.slice(start);
}

/** The strings of a JSON value that should be a list of strings (anything else: none). */
export const asStrings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** One row as a document batch. */
function monitoredBatch(r: MetricsRow): MonitoredBatch {
  const metrics: MonitoredBatch["metrics"] = { ...r.metrics };
  // rows written before the metrics column existed: the AUC alone, reference unknown
  if (!metrics.roc_auc && r.rocAuc !== null) {
    metrics.roc_auc = { reference: null, realized: r.rocAuc };
  }
  const truth = r.details.truth as { drifted?: boolean } | undefined;
  const seq = SequentialSummary.safeParse(r.details.sequential);
  const verdicts = z.array(BatchVerdict).safeParse(r.details.verdicts ?? []);
  return {
    batch: r.batch,
    from: typeof r.details.from === "string" ? r.details.from : null,
    rows: r.rows,
    severity: r.severity,
    action: r.action,
    retrained: r.retrained,
    promoted: r.promoted,
    championVersion: r.championVersion,
    driftedColumns: asStrings(r.details.drifted),
    reasons: r.reasons,
    metrics,
    truth: truth && truth.drifted !== false ? truth : null,
    sequential: seq.success ? seq.data : null,
    verdicts: verdicts.success ? verdicts.data : [],
  };
}

/** The document of a stream from its monitoring rows (oldest first). */
export function monitoringDocument(
  stream: string,
  rows: readonly MetricsRow[],
  { all = false } = {},
): MonitoringDocument {
  const own = rows.filter((r) => r.stream === stream);
  return { version: 1, stream, batches: (all ? own : latestPass(own)).map(monitoredBatch) };
}

const num = (v: number | null | undefined, digits = 3) =>
  v === null || v === undefined ? "–" : v.toFixed(digits);

/**
 * The document as table rows (header first): AUC (reference, estimated without labels, realized),
 * the action and its first reason.
 */
export function monitoringTableRows(doc: MonitoringDocument, { width = 70 } = {}): string[][] {
  const cut = (s: string) => (s.length > width ? `${s.slice(0, width - 1)}…` : s);
  return [
    [
      "batch",
      "from",
      "rows",
      "severity",
      "action",
      "champion",
      "AUC ref",
      "AUC est",
      "AUC realized",
      "drifted columns",
      "reason",
    ],
    ...doc.batches.map((b) => [
      String(b.batch) + (b.truth ? "*" : ""),
      b.from?.slice(0, 10) ?? "",
      String(b.rows),
      b.severity ?? "",
      (b.action ?? "") + (b.promoted ? " (promoted)" : b.retrained ? " (kept)" : ""),
      b.championVersion === null ? "" : `v${b.championVersion}`,
      num(b.metrics.roc_auc?.reference),
      num(b.metrics.roc_auc?.estimated),
      num(b.metrics.roc_auc?.realized),
      b.driftedColumns.join(", "),
      cut(b.reasons[0] ?? ""),
    ]),
  ];
}
