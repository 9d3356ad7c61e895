/**
 * The data library's public entry: where the prepared data lives (`dataDir`, `dataPaths`), where a
 * home's runs write what they generate (`homePaths`), and reading and writing tables (CSV with a schema and quarantine, Parquet, any location — local or
 * s3:// — by extension).
 *
 * @example
 * ```ts
 * import { dataPaths, homePaths, readTable, writeParquet } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await writeParquet(`${dir}/t.parquet`, { x: Float64Array.of(1, 2, 3) });
 * const { table } = await readTable(`${dir}/t.parquet`);
 * if ((table.x as Float64Array)[2] !== 3) throw new Error("read back");
 * if (!dataPaths(dir).flightsStream.startsWith(dir)) throw new Error("paths under the data dir");
 * if (!homePaths(dir).batches.startsWith(dir)) throw new Error("batches under the home");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export { dataDir, dataPaths, homePaths } from "./prepare.ts";
export { readCsv, writeCsv } from "./csv.ts";
export { parquetBytes, parquetRowCount, readParquet, writeParquet } from "./parquet.ts";
export { readTable, writeTable } from "./read_table.ts";
export { list } from "./location.ts";
export { TableSchema } from "./schema.ts";
