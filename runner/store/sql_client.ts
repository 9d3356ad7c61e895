/**
 * The one interface the store speaks SQL through, so PGlite and a real PostgreSQL server run the
 * same statements (`$1`-style parameters, JSON passed as text and cast with `::jsonb`) and hand back
 * the same values: a `json` or `jsonb` column arrives parsed (an object, array, string, number,
 * boolean or null — never its text) on both backends, so no reader parses JSON itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "./pglite.ts";
 * import type { SqlClient } from "./sql_client.ts";
 * const db: SqlClient = await openPglite(); // in memory
 * try {
 *   assert.deepEqual(await db.query<{ x: number }>("select $1::int as x", [1]), [{ x: 1 }]);
 * } finally {
 *   await db.close();
 * }
 * ```
 */

/** A connection (or pool) to PostgreSQL. */
export interface SqlClient {
  /** "pglite" (embedded, one process) or "postgres" (a server, many processes). */
  readonly kind: "pglite" | "postgres";
  /** How many statements it runs at once (a server pool's size; PGlite and a transaction: 1). */
  readonly connections?: number;
  /** Runs one statement with `$n` parameters and returns its rows (`json`/`jsonb` values parsed). */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /**
   * Calls `fn` with each notification's payload on `channel` (PostgreSQL LISTEN); resolves to a
   * function that stops listening.
   */
  listen(channel: string, fn: (payload: string) => void): Promise<() => Promise<void>>;
  /** Closes the connection. */
  close(): Promise<void>;
}
