/**
 * Tables between tasks: a task stores a table as a Parquet artifact and hands its content key to the
 * next task through XCom (small), instead of the rows (large).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { getTable, putTable } from "./tables.ts";
 * // a task's context stores artifacts; here a local store in a temp dir stands in for it
 * const dir = await Deno.makeTempDir();
 * try {
 *   const artifacts = new LocalArtifactStore(dir);
 *   const ctx = {
 *     putArtifact: (d: Uint8Array | string) =>
 *       artifacts.put(typeof d === "string" ? new TextEncoder().encode(d) : d),
 *     getArtifact: (key: string) => artifacts.get(key),
 *   };
 *   const table = { delay: Float64Array.of(3, 20), origin: ["SEA", "SFO"] };
 *   const key = await putTable(ctx, table); // "sha256:…": small enough for XCom
 *   assert.match(key, /^sha256:/);
 *   const again = await getTable(ctx, key);
 *   assert.deepEqual(again.origin, ["SEA", "SFO"]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { parquetBytes, readParquet } from "../data/parquet.ts";
import { readTable } from "../data/read_table.ts";
import type { Table } from "../../models/core/table.ts";

interface ArtifactAccess {
  putArtifact(data: Uint8Array | string): Promise<string>;
  getArtifact(key: string): Promise<Uint8Array>;
}

/** Stores a table as a Parquet artifact; resolves to its key. */
export function putTable(ctx: ArtifactAccess, table: Table): Promise<string> {
  return ctx.putArtifact(parquetBytes(table));
}

/** Reads a table from an artifact key (sha256:…) or a file path / s3:// URI. */
export async function getTable(ctx: ArtifactAccess, ref: string): Promise<Table> {
  if (ref.startsWith("sha256:")) return (await readParquet(await ctx.getArtifact(ref))).table;
  return (await readTable(ref)).table;
}

/** The named columns of a table, checking each is there. */
export function pick(table: Table, columns: string[], where: string): Table {
  const out: Record<string, Table[string]> = {};
  for (const c of columns) {
    if (!(c in table)) {
      throw new Error(
        `${where}: column "${c}" is missing (the data has ${Object.keys(table).join(", ")})`,
      );
    }
    out[c] = table[c];
  }
  return out;
}
