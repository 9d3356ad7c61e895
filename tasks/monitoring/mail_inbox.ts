/**
 * `text_monitoring`'s `extract`: the mail CSV files that landed in the inbox (local or s3://) —
 * those the run's asset events name, else those modified in the run's data interval (a manual run
 * takes the hour from its logical date), or all of them — validated against the mail schema (bad
 * rows quarantined) and written as Parquet under the processed prefix.
 *
 * @example
 * ```ts
 * import { folderUri, landedFiles } from "./mail_inbox.ts";
 * if (folderUri("s3://mail/inbox") !== "s3://mail/inbox/") throw new Error("a folder URI ends in /");
 * if (!folderUri("data/text/inbox").startsWith("file:///")) throw new Error("a local path becomes a file URL");
 * const names = landedFiles({ assetEvents: [{ extra: { files: ["s3://mail/inbox/a.csv", "b.csv"] } }] });
 * if ([...names].join() !== "a.csv,b.csv") throw new Error([...names].join());
 * ```
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { readCsv } from "../data/csv.ts";
import { list } from "../data/location.ts";
import { writeParquet } from "../data/parquet.ts";
import { TableSchema } from "../data/schema.ts";
import type { TaskEnv } from "./task_env.ts";
import type { TextMonitorParams } from "./text_params.ts";

/** A mail file's columns: an id, the text, and (optionally) its spam/ham label. */
export const MAIL_SCHEMA = TableSchema.parse({
  columns: {
    id: { type: "categorical", required: true, nullable: false },
    text: { type: "text", required: true, nullable: false },
    label: { type: "categorical", required: false, values: ["spam", "ham"] },
  },
});

/** A folder as an asset URI: a URL kept as it is, a local path as a file URL; ending in `/`. */
export function folderUri(path: string): string {
  const uri = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? path : pathToFileURL(resolve(path)).href;
  return uri.endsWith("/") ? uri : `${uri}/`;
}

/** The files the run's asset events name (by base name), if any. */
export function landedFiles(conf: Readonly<Record<string, unknown>>): Set<string> {
  const events = Array.isArray(conf.assetEvents) ? conf.assetEvents : [];
  const names = new Set<string>();
  for (const e of events as { extra?: { files?: unknown } }[]) {
    const files = e.extra?.files;
    if (Array.isArray(files)) { for (const f of files) names.add(String(f).split("/").pop()!); }
  }
  return names;
}

/** What `extract` found and wrote. */
export interface ExtractedMails {
  files: number;
  /** The Parquet files written (files without valid rows are left out). */
  processed: string[];
  rows: number;
  quarantined: number;
}

/** Extracts the mail files of the run; see the module's doc. Logs each file. */
export async function extractMailFiles(
  ctx: Pick<TaskEnv<Pick<TextMonitorParams, "inbox" | "processed" | "allFiles">>, "params" | "log">,
  conf: Readonly<Record<string, unknown>>,
  dataInterval: { start: Date; end: Date },
): Promise<ExtractedMails> {
  const p = ctx.params;
  const landed = landedFiles(conf);
  const { start } = dataInterval;
  // a manual run (an empty interval) takes the hour from its logical date
  const end = dataInterval.end > start ? dataInterval.end : new Date(start.getTime() + 3_600_000);
  const files = (await list(p.inbox, { suffix: ".csv" }))
    .filter((f) =>
      f.uri.endsWith(".csv") &&
      (p.allFiles || landed.has(f.uri.split("/").pop()!) ||
        (landed.size === 0 && f.modified >= start && f.modified < end))
    )
    .sort((a, b) => (a.uri < b.uri ? -1 : 1));
  const processed: string[] = [];
  let rows = 0, quarantined = 0;
  for (const f of files) {
    const name = f.uri.split("/").pop()!.replace(/\.csv$/, "");
    const r = await readCsv(f.uri, {
      schema: MAIL_SCHEMA,
      quarantine: `${p.processed}/quarantine/${name}.csv`,
    });
    rows += r.rows;
    quarantined += r.quarantined.length;
    if (r.rows === 0) continue;
    const out = `${p.processed}/${name}.parquet`;
    if (!out.startsWith("s3://")) await Deno.mkdir(p.processed, { recursive: true });
    await writeParquet(out, r.table);
    processed.push(out);
    ctx.log(
      `${f.uri}: ${r.rows} rows${
        r.quarantined.length ? `, ${r.quarantined.length} quarantined → ${r.quarantineUri}` : ""
      }`,
    );
  }
  return { files: files.length, processed, rows, quarantined };
}
