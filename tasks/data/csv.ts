/**
 * CSV files (csv-parse / csv-stringify), local or on S3, read through a schema (given, or inferred
 * from all rows). Nothing is dropped silently: a row with a bad value, a ragged row (more or fewer
 * fields than the header) and a row csv-parse cannot split (a stray quote) go to the quarantine
 * with their line and reason, and `rows + quarantined.length === total`. A blank line is a row: a
 * missing value when the header has one column, else quarantined as blank. A file that cannot be
 * read at all — a quote still open at the end — is a {@link FileFormatError} naming the line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readCsv, writeCsv } from "./csv.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/batch.csv`, "delay,origin\n12,SEA\nsoon,SFO\n3,\n");
 *   const schema = {
 *     columns: {
 *       delay: { type: "numeric", required: true, nullable: true },
 *       origin: { type: "categorical", required: true, nullable: true },
 *     },
 *   } as const;
 *   const read = await readCsv(`${dir}/batch.csv`, { schema, quarantine: `${dir}/bad.csv` });
 *   assert.deepEqual([...read.table.delay], [12, 3]);
 *   assert.deepEqual(read.table.origin, ["SEA", null]);
 *   assert.equal(read.quarantined[0].row, 3); // line 3: "soon" is not a number
 *   assert.match(await Deno.readTextFile(`${dir}/bad.csv`), /_line,_reason/);
 *   await writeCsv(`${dir}/out.csv`, read.table);
 *   assert.equal((await readCsv(`${dir}/out.csv`)).rows, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { Readable } from "node:stream";
import { type CsvError, parse } from "csv-parse";
import { stringify } from "csv-stringify/sync";
import { readStream, writeBytes } from "./location.ts";
import {
  FileFormatError,
  type Quarantined,
  TableBuilder,
  type TableSchema,
  TypeTally,
} from "./schema.ts";
import { isNumericColumn, rowCount, type Table } from "../../models/core/table.ts";

/** What reading a file gives. */
export interface ReadResult {
  table: Table;
  schema: TableSchema;
  /** Rows read into the table. */
  rows: number;
  /** Rows that could not be read, with their reasons. */
  quarantined: Quarantined[];
  /** Every data row of the file (or of the range asked for): `rows + quarantined.length`. */
  total: number;
  /** Where the quarantined rows were written, when they were. */
  quarantineUri?: string;
}

/** Options of the readers. */
export interface ReadOptions {
  /** Read through this schema instead of inferring one. */
  schema?: TableSchema;
  /** Write quarantined rows here (CSV), when there are any. */
  quarantine?: string;
  /**
   * Share of non-numbers an inferred numeric column may hold (quarantined); default 0.01. 0: a
   * column is numeric only when every present value is a number.
   */
  tolerance?: number;
  /** Declared types for some columns; the others are inferred. */
  declared?: TableSchema["columns"];
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

/** The schema to read with: the given one, or the inferred one with the declared columns. */
export function resolveSchema(tally: TypeTally, opts: ReadOptions): TableSchema {
  if (opts.schema) return opts.schema;
  const inferred = tally.schema(opts.tolerance ?? 0.01);
  return { columns: { ...inferred.columns, ...opts.declared } };
}

/** Reads a CSV with a header row. */
export async function readCsv(
  uri: string,
  opts: ReadOptions & { delimiter?: string } = {},
): Promise<ReadResult> {
  const stream = Readable.fromWeb(
    await readStream(uri) as import("node:stream/web").ReadableStream,
  );
  // Records csv-parse could not split; told apart from the good ones by their position.
  const skipped: { line: number; reason: string; raw: string }[] = [];
  let lastLine = 0; // the line the last record ended on
  const parser = stream.pipe(
    parse({
      delimiter: opts.delimiter ?? ",",
      relax_column_count: true, // ragged rows reach us and are quarantined
      // blank lines reach us: a missing value in a one-column file, else a quarantined row
      skip_empty_lines: false,
      skip_records_with_error: true,
      raw: true,
      info: true,
      bom: true,
      relax_quotes: true, // a quote inside an unquoted field is kept as a character
      on_skip: (err: CsvError | undefined, raw: string | undefined) => {
        // A quote still open at the end swallowed the rest of the file: not one bad row.
        if (err?.code === "CSV_QUOTE_NOT_CLOSED") {
          throw new FileFormatError(
            `${uri}: a quoted field that starts after line ${lastLine} is never closed ` +
              `(the file ends inside it); close the quote or escape it as ""`,
          );
        }
        skipped.push({
          line: Number((err as { lines?: number } | undefined)?.lines ?? 0),
          reason: `cannot split the row: ${err?.message ?? "unknown error"}`,
          raw: raw ?? "",
        });
        return undefined;
      },
      // How many rows were skipped before this one (the parser runs ahead of the loop below).
      on_record: (record, context) => {
        lastLine = context.lines;
        return Object.assign(record as object, { skippedBefore: skipped.length }) as typeof record;
      },
    }),
  );
  let header: string[] | undefined;
  const rows: { line: number; fields: string[]; skippedBefore: number }[] = [];
  try {
    for await (
      const { record, info, skippedBefore } of parser as AsyncIterable<
        { record: string[]; info: { lines: number }; skippedBefore: number }
      >
    ) {
      if (!header) {
        if (record.length === 1 && record[0] === "") continue; // blank lines before the header
        header = record;
        const dup = header.find((h, i) => header!.indexOf(h) !== i);
        if (dup !== undefined) {
          throw new FileFormatError(`${uri}: the header names column "${dup}" twice`);
        }
        continue;
      }
      rows.push({ line: info.lines, fields: record, skippedBefore });
    }
  } catch (e) {
    if (e instanceof FileFormatError) throw e;
    const code = (e as { code?: string }).code;
    if (typeof code === "string" && code.startsWith("CSV_")) {
      throw new FileFormatError(`${uri}: not a readable CSV file: ${(e as Error).message}`);
    }
    throw e;
  }
  header ??= [];
  const asRecord = (fields: string[]) => {
    const values: Record<string, unknown> = {};
    header!.forEach((h, i) => {
      if (i < fields.length) values[h] = fields[i];
    });
    for (let i = header!.length; i < fields.length; i++) values[`_field${i + 1}`] = fields[i];
    return values;
  };
  const tally = new TypeTally(header);
  for (const r of rows) if (r.fields.length === header.length) tally.observe(asRecord(r.fields));
  const schema = resolveSchema(tally, opts);
  const builder = new TableBuilder(schema, header, uri);
  let s = 0;
  for (const r of rows) {
    for (; s < r.skippedBefore; s++) {
      builder.quarantine({ _raw: skipped[s].raw }, skipped[s].line, skipped[s].reason);
    }
    if (r.fields.length === 1 && r.fields[0] === "" && header!.length > 1) {
      builder.quarantine(
        {},
        r.line,
        `is a blank line (the header has ${header!.length} columns); a row needs a field for each`,
      );
    } else if (r.fields.length !== header!.length) {
      builder.quarantine(
        asRecord(r.fields),
        r.line,
        `has ${r.fields.length} field${r.fields.length === 1 ? "" : "s"}, the header has ${
          header!.length
        }`,
      );
    } else builder.add(asRecord(r.fields), r.line);
  }
  for (; s < skipped.length; s++) {
    builder.quarantine({ _raw: skipped[s].raw }, skipped[s].line, skipped[s].reason);
  }
  return {
    table: builder.build(),
    schema: builder.schema,
    rows: builder.rows,
    quarantined: builder.quarantined,
    total: builder.total,
    quarantineUri: await writeQuarantine(opts.quarantine, builder.quarantined),
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
