/**
 * Opens the store the environment asks for: a PostgreSQL server when `DATABASE_URL` is set,
 * otherwise PGlite persisted under the data directory (`DRIFTFLOW_HOME`, default `.driftflow`).
 * Migrations are applied on open.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "./open.ts";
 * const store = await openStore({ memory: true }); // a throwaway PGlite store, migrated
 * try {
 *   assert.equal(store.db.kind, "pglite");
 *   assert.deepEqual(await store.listDags(), []);
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import { join } from "node:path";
import { openPglite } from "./pglite.ts";
import { openPostgres } from "./postgres.ts";
import { Store } from "./store.ts";

/** Where Driftflow keeps its files: the PGlite data, artifacts, reports. */
export function dataHome(): string {
  return Deno.env.get("DRIFTFLOW_HOME") ?? ".driftflow";
}

/** How to open a store; by default from the environment. */
export interface OpenOptions {
  /** A PostgreSQL URL; default `DATABASE_URL`. */
  databaseUrl?: string;
  /** A PGlite directory; default `<DRIFTFLOW_HOME>/pgdata`. */
  pgliteDir?: string;
  /** PGlite in memory (tests). */
  memory?: boolean;
  /** Connection pool size for a server. */
  poolSize?: number;
}

/** Opens and migrates the store. */
export async function openStore(opts: OpenOptions = {}): Promise<Store> {
  const url = opts.memory ? undefined : opts.databaseUrl ?? Deno.env.get("DATABASE_URL");
  const db = url
    ? await openPostgres(url, opts.poolSize)
    : await openPglite(opts.memory ? undefined : opts.pgliteDir ?? join(dataHome(), "pgdata"));
  const store = new Store(db);
  await store.migrate();
  return store;
}
