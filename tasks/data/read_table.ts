/**
 * Reads or writes a table by its file's extension: `.csv` or `.parquet`, local or `s3://`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTable, UnsupportedFormatError, writeTable } from "./read_table.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const table = { delay: Float64Array.of(3, 20), origin: ["SEA", "SFO"] };
 *   for (const name of ["train.csv", "train.parquet"]) {
 *     await writeTable(`${dir}/${name}`, table);
 *     const { rows, quarantined, total } = await readTable(`${dir}/${name}`);
 *     assert.deepEqual([rows, quarantined.length, total], [2, 0, 2]);
 *   }
 *   await assert.rejects(readTable(`${dir}/train.json`), UnsupportedFormatError);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { readCsv, type ReadOptions, type ReadResult, writeCsv } from "./csv.ts";
import { readParquet, writeParquet } from "./parquet.ts";
import type { Table } from "../../models/core/table.ts";

/** A file name whose format is not known (neither .csv nor .parquet). */
export class UnsupportedFormatError extends Error {
  override name = "UnsupportedFormatError";
}

function format(uri: string): "csv" | "parquet" {
  if (/\.csv(\.gz)?$/i.test(uri)) return "csv";
  if (/\.parquet$/i.test(uri)) return "parquet";
  throw new UnsupportedFormatError(`cannot tell the format of "${uri}": name it .csv or .parquet`);
}

/** Reads a table; `rows + quarantined.length === total`, bad rows with their reasons. */
export async function readTable(uri: string, opts: ReadOptions = {}): Promise<ReadResult> {
  return format(uri) === "csv" ? await readCsv(uri, opts) : await readParquet(uri, opts);
}

export async function writeTable(uri: string, table: Table): Promise<void> {
  return format(uri) === "csv" ? await writeCsv(uri, table) : await writeParquet(uri, table);
}
