/**
 * Whether a table exists: for readers that show what a component has stored without creating its
 * tables (the UI before any monitoring run, alert or prediction).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "./pglite.ts";
 * import { tableExists } from "./table_exists.ts";
 * const db = await openPglite();
 * assert.equal(await tableExists(db, "alerts"), false);
 * await db.exec("create table alerts (id int)");
 * assert.equal(await tableExists(db, "alerts"), true);
 * await db.close();
 * ```
 */
import type { SqlClient } from "./sql_client.ts";

/** True when `table` (a name as `to_regclass` reads it, e.g. "alerts") exists in `db`. */
export async function tableExists(db: SqlClient, table: string): Promise<boolean> {
  const rows = await db.query<{ t: string | null }>("select to_regclass($1)::text as t", [table]);
  return rows[0]?.t != null;
}
