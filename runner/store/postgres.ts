/**
 * The server backend: a PostgreSQL server through postgres.js, used when `DATABASE_URL` is set.
 * Several processes — schedulers, workers, the web app — share it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPostgres } from "./postgres.ts";
 * // With a server: `const db = await openPostgres(Deno.env.get("DATABASE_URL")!)`. Without one
 * // (nothing listens on port 1), opening fails at once and says where, the password hidden:
 * await assert.rejects(
 *   openPostgres("postgres://driftflow:s3cret@127.0.0.1:1/driftflow"),
 *   /^Error: cannot reach PostgreSQL at postgres:\/\/driftflow:\*\*\*@127\.0\.0\.1:1\/driftflow/,
 * );
 * ```
 */
import postgres from "postgres";
import type { SqlClient } from "./sql_client.ts";

type Sql = postgres.Sql | postgres.TransactionSql;
type Param = postgres.ParameterOrJSON<never>;

function wrap(sql: Sql, root: postgres.Sql, max: number): SqlClient {
  return {
    kind: "postgres",
    connections: sql === root ? max : 1,
    async query<T>(text: string, params: readonly unknown[] = []) {
      const rows = await sql.unsafe(text, params as Param[], { prepare: true });
      return rows as unknown as T[];
    },
    async exec(text: string) {
      await sql.unsafe(text);
    },
    async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
      if (sql !== root) return fn(wrap(sql, root, max));
      return await root.begin((tx) => fn(wrap(tx, root, max))) as T;
    },
    async listen(channel, fn) {
      const { unlisten } = await root.listen(channel, (payload) => fn(payload));
      return unlisten;
    },
    close: () => root.end({ timeout: 5 }),
  };
}

/** Seconds before reconnect attempt `n`: 50 ms doubling, at most 1 s. */
export const reconnectBackoff = (n: number): number => Math.min(0.05 * 2 ** n, 1);

/** Connects to `url`; `max` is the pool size. */
export async function openPostgres(url: string, max = 10): Promise<SqlClient> {
  const sql = postgres(url, {
    max,
    onnotice: () => {},
    connection: { application_name: "driftflow" },
    // Reconnect within a second of the server coming back (postgres.js's default backoff grows
    // to 20 s after a few refused connections, which outlasts a zombie timeout).
    backoff: reconnectBackoff,
  });
  try {
    await sql`select 1`;
  } catch (e) {
    await sql.end({ timeout: 1 });
    throw new Error(`cannot reach PostgreSQL at ${redact(url)}: ${(e as Error).message}`);
  }
  return wrap(sql, sql, max);
}

/** The URL with its password hidden, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}
