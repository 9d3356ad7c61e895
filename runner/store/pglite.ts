/**
 * The embedded backend: PGlite (PostgreSQL compiled to WebAssembly), persisted in a directory or
 * kept in memory. The default, so Driftflow runs with no server. One process per folder: opening a
 * folder takes its lock (see pglite_lock.ts), and a second process is refused with a
 * {@link PgliteLockedError} naming the owner.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite, PgliteLockedError } from "./pglite.ts";
 * const dir = await Deno.makeTempDir();
 * const db = await openPglite(`${dir}/pgdata`); // persisted; the folder is locked while open
 * try {
 *   await assert.rejects(openPglite(`${dir}/pgdata`), PgliteLockedError); // one opener per folder
 *   assert.deepEqual(await db.query("select 1 + 1 as two"), [{ two: 2 }]);
 * } finally {
 *   await db.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { lockPgliteFolder } from "./pglite_lock.ts";
import type { SqlClient } from "./sql_client.ts";

export { PgliteLockedError } from "./pglite_lock.ts";

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
  if (!dataDir) {
    const mem = await PGlite.create();
    return wrap(mem, mem);
  }
  const lock = await lockPgliteFolder(dataDir);
  let db: PGlite;
  try {
    await Deno.mkdir(dataDir, { recursive: true });
    db = await PGlite.create(dataDir);
  } catch (e) {
    lock.release();
    throw e;
  }
  const client = wrap(db, db);
  return {
    ...client,
    async close() {
      try {
        await db.close();
      } finally {
        lock.release();
      }
    },
  };
}
