/**
 * CSV files (csv-parse / csv-stringify), local or on S3, read as a stream row by row through a
 * schema (given, or inferred from the first 1,000 rows). Bad rows go to a quarantine CSV with their
 * line number and reason.
 *
 * @example
 * ```ts
 * import { readCsv, writeCsv } from "./csv.ts";
 * const { table, quarantined } = await readCsv("incoming/batch.csv", { schema, quarantine: "bad/batch.csv" });
 * await writeCsv("out/predictions.csv", table);
 * ```
 */
import { Readable } from "node:stream";
import { parse } from "csv-parse";
import { stringify } from "csv-stringify/sync";
import { readStream, writeBytes } from "./location.ts";
import { inferSchema, type Quarantined, TableBuilder, type TableSchema } from "./schema.ts";
import { isNumericColumn, rowCount, type Table } from "./table.ts";

/** What reading a file gives. */
export interface ReadResult {
  table: Table;
  schema: TableSchema;
  /** Rows read into the table. */
  rows: number;
  /** Rows that could not be read, with their reasons. */
  quarantined: Quarantined[];
  /** Where the quarantined rows were written, when they were. */
  quarantineUri?: string;
}

/** Writes quarantined rows as CSV with `_line` and `_reason` columns; nothing when there are none. */
export async function writeQuarantine(
  uri: string | undefined,
  rows: readonly Quarantined[],
): Promise<string | undefined> {
  if (!uri || rows.length === 0) return undefined;
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.values)))];
  const text = stringify([
    ["_line", "_reason", ...keys],
    ...rows.map((r) => [r.row, r.reason, ...keys.map((k) => String(r.values[k] ?? ""))]),
  ]);
  await writeBytes(uri, new TextEncoder().encode(text));
  return uri;
}

/** Reads a CSV with a header row. */
export async function readCsv(
  uri: string,
  opts: { schema?: TableSchema; quarantine?: string; delimiter?: string } = {},
): Promise<ReadResult> {
  const stream = Readable.fromWeb(
    await readStream(uri) as import("node:stream/web").ReadableStream,
  );
  const parser = stream.pipe(
    parse({
      columns: true,
      delimiter: opts.delimiter ?? ",",
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
    }),
  );
  let builder: TableBuilder | undefined;
  const pending: Record<string, string>[] = [];
  let header: string[] = [];
  let line = 1;
  const flush = () => {
    builder ??= new TableBuilder(opts.schema ?? inferSchema(header, pending), header, uri);
    for (const row of pending) builder.add(row, ++line);
    pending.length = 0;
  };
  for await (const record of parser as AsyncIterable<Record<string, string>>) {
    if (header.length === 0) header = Object.keys(record);
    pending.push(record);
    if (opts.schema || pending.length >= 1000) flush();
  }
  flush();
  const result = builder!;
  return {
    table: result.build(),
    schema: result.schema,
    rows: result.rows,
    quarantined: result.quarantined,
    quarantineUri: await writeQuarantine(opts.quarantine, result.quarantined),
  };
}

/** Writes a table as CSV (missing values as empty fields). */
export async function writeCsv(uri: string, table: Table): Promise<void> {
  const names = Object.keys(table);
  const n = rowCount(table);
  const rows: (string | number)[][] = [names];
  for (let i = 0; i < n; i++) {
    rows.push(names.map((name) => {
      const c = table[name];
      const v = c[i];
      if (isNumericColumn(c)) return Number.isNaN(v as number) ? "" : (v as number);
      return v === null ? "" : (v as string);
    }));
  }
  await writeBytes(uri, new TextEncoder().encode(stringify(rows)));
}
