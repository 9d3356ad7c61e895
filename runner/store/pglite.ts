/**
 * The embedded backend: PGlite (PostgreSQL compiled to WebAssembly), persisted in a directory or
 * kept in memory. The default, so Driftflow runs with no server. One process only.
 *
 * @example
 * ```ts
 * import { openPglite } from "./pglite.ts";
 * const db = await openPglite(".driftflow/pgdata");
 * ```
 */
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { SqlClient } from "./sql_client.ts";

type Queryable = Pick<PGlite, "query" | "exec"> | Transaction;

function wrap(q: Queryable, db: PGlite): SqlClient {
  return {
    kind: "pglite",
    async query<T>(text: string, params: readonly unknown[] = []) {
      const result = await q.query<T>(text, params as unknown[]);
      return result.rows;
    },
    async exec(text: string) {
      await q.exec(text);
    },
    transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      // PGlite serialises transactions; a nested one runs inside the outer one.
      if (q !== db) return fn(wrap(q, db));
      return db.transaction((tx) => fn(wrap(tx, db)));
    },
    listen: (channel, fn) => db.listen(channel, fn),
    close: () => db.close(),
  };
}

/** Opens PGlite at `dataDir` (created when missing), or in memory when `dataDir` is undefined. */
export async function openPglite(dataDir?: string): Promise<SqlClient> {
  if (dataDir) await Deno.mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  return wrap(db, db);
}
