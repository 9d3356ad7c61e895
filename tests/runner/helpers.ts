/**
 * Test helpers: every store test runs against both backends — PGlite in memory and a fresh database
 * on the PostgreSQL server at `DRIFTFLOW_TEST_PG` (default the machine's, 127.0.0.1:5432).
 */
import postgres from "postgres";
import { openPglite } from "../../runner/store/pglite.ts";
import { openPostgres } from "../../runner/store/postgres.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { Store } from "../../runner/store/store.ts";

export const TEST_PG = Deno.env.get("DRIFTFLOW_TEST_PG") ??
  "postgres://postgres@127.0.0.1:5432/postgres";

/** A store backend for tests. */
export interface Backend {
  name: "pglite" | "postgres";
  open(): Promise<{ store: Store; url?: string; close(): Promise<void> }>;
}

/** A new empty database on the test server (or `server`); returns its URL and how to drop it. */
export async function freshDatabase(
  server = TEST_PG,
): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = postgres(server, { max: 1, onnotice: () => {} });
  const name = `driftflow_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (e) {
    await admin.end();
    throw new Error(
      `cannot create a test database on ${server} (${
        (e as Error).message
      }); start PostgreSQL or set DRIFTFLOW_TEST_PG`,
    );
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

export const BACKENDS: Backend[] = [
  {
    name: "pglite",
    async open() {
      const store = new Store(await openPglite());
      await store.migrate();
      return { store, close: () => store.close() };
    },
  },
  {
    name: "postgres",
    async open() {
      const db = await freshDatabase();
      const store = new Store(await openPostgres(db.url, 4));
      await store.migrate();
      return {
        store,
        url: db.url,
        async close() {
          await store.close();
          await db.drop();
        },
      };
    },
  },
];

/** Registers `fn` as one test per backend, named "<name> [backend]". */
export function storeTest(name: string, fn: (store: Store) => Promise<void>): void {
  for (const backend of BACKENDS) {
    Deno.test({
      name: `${name} [${backend.name}]`,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn() {
        const { store, close } = await backend.open();
        try {
          await fn(store);
        } finally {
          await close();
        }
      },
    });
  }
}

/** One shared store per backend, with `steps` run as test steps in order (for many small tests). */
export function storeSuite(
  name: string,
  steps: Record<string, (store: Store, url: string | undefined) => Promise<void>>,
): void {
  for (const backend of BACKENDS) {
    Deno.test({
      name: `${name} [${backend.name}]`,
      sanitizeResources: false,
      sanitizeOps: false,
      async fn(t) {
        const { store, url, close } = await backend.open();
        try {
          for (const [stepName, fn] of Object.entries(steps)) {
            await t.step(stepName, () => fn(store, url));
          }
        } finally {
          await close();
        }
      },
    });
  }
}

/**
 * `db` behind a client that records every statement it sends (in its transactions too), so a test
 * can count round trips: `const c = countingClient(store.db); …; c.statements.length`.
 */
export function countingClient(db: SqlClient): { client: SqlClient; statements: string[] } {
  const statements: string[] = [];
  const wrap = (inner: SqlClient): SqlClient => ({
    kind: inner.kind,
    connections: inner.connections,
    query<T>(text: string, params?: readonly unknown[]) {
      statements.push(text);
      return inner.query<T>(text, params);
    },
    exec(text) {
      statements.push(text);
      return inner.exec(text);
    },
    transaction(fn) {
      statements.push("begin");
      return inner.transaction((tx) => fn(wrap(tx)));
    },
    listen: (channel, fn) => inner.listen(channel, fn),
    close: () => inner.close(),
  });
  return { client: wrap(db), statements };
}
