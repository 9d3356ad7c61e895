// Migrations run once per client: a second migrate() of the same set on one client sends nothing;
// a new client asks the database once and applies nothing; concurrent calls share one migration;
// an extended set applies only its new versions; a failed or rolled-back migration is not
// remembered. And the client's JSON contract: json and jsonb values arrive parsed on both backends.
import assert from "node:assert/strict";
import { migrate, type Migration, MIGRATIONS } from "../../runner/store/migrations.ts";
import { countingClient, storeTest } from "./helpers.ts";

const PROBE: Migration[] = [
  { version: 1, name: "probe", sql: "create table probe (id int primary key)" },
  { version: 2, name: "probe note", sql: "alter table probe add column note text" },
];

storeTest(
  "migrations: a client applies a set once; the second call sends nothing",
  async (store) => {
    const { client, statements } = countingClient(store.db);
    assert.deepEqual(await migrate(client, PROBE, "probe"), [1, 2]);
    assert.ok(statements.some((s) => s.includes("schema_migrations")), statements.join("\n"));
    statements.length = 0;
    assert.deepEqual(await migrate(client, PROBE, "probe"), []);
    assert.deepEqual(await migrate(client, PROBE.slice(0, 1), "probe"), []);
    assert.deepEqual(statements, [], "no statement for a set the client has applied");
    // the engine's own set, applied when the store opened, is asked for once on this new client
    assert.deepEqual(await migrate(client), []);
    assert.ok(statements.length > 0);
    statements.length = 0;
    assert.deepEqual(await migrate(client, MIGRATIONS, "engine"), []);
    assert.deepEqual(statements, []);
  },
);

storeTest(
  "migrations: another client asks the database once and applies nothing",
  async (store) => {
    const first = countingClient(store.db);
    assert.deepEqual(await migrate(first.client, PROBE, "probe"), [1, 2]);
    const second = countingClient(store.db);
    assert.deepEqual(await migrate(second.client, PROBE, "probe"), []);
    assert.ok(second.statements.length > 0, "a new client checks the database");
    const rows = await store.db.query<{ version: number }>(
      "select version from schema_migrations where component = 'probe' order by version",
    );
    assert.deepEqual(rows.map((r) => r.version), [1, 2]);
  },
);

storeTest("migrations: concurrent calls on one client share one migration", async (store) => {
  const { client, statements } = countingClient(store.db);
  const results = await Promise.all([1, 2, 3].map(() => migrate(client, PROBE, "probe")));
  assert.deepEqual(results.map((r) => r.join(",")).sort(), ["", "", "1,2"]);
  assert.equal(statements.filter((s) => s === "begin").length, 1, statements.join("\n"));
});

storeTest("migrations: a set extended later applies only its new versions", async (store) => {
  const { client } = countingClient(store.db);
  assert.deepEqual(await migrate(client, PROBE.slice(0, 1), "probe"), [1]);
  assert.deepEqual(await migrate(client, PROBE, "probe"), [2]);
  await store.db.query("insert into probe (id, note) values (1, 'x')");
});

storeTest(
  "migrations: a failed migration is not remembered; the next call applies it",
  async (store) => {
    const { client } = countingClient(store.db);
    const needsTable: Migration[] = [
      { version: 1, name: "needs a table", sql: "alter table later_made add column x int" },
    ];
    await assert.rejects(() => migrate(client, needsTable, "later"), /later_made/);
    await store.db.exec("create table later_made (id int)");
    assert.deepEqual(await migrate(client, needsTable, "later"), [1]);
    assert.deepEqual(await migrate(client, needsTable, "later"), []);
  },
);

storeTest("migrations: one made in a rolled-back transaction is not remembered", async (store) => {
  const { client } = countingClient(store.db);
  await assert.rejects(() =>
    client.transaction(async (tx) => {
      assert.deepEqual(await migrate(tx, PROBE, "probe"), [1, 2]);
      throw new Error("roll back");
    }), /roll back/);
  assert.deepEqual(await migrate(client, PROBE, "probe"), [1, 2]);
  await store.db.query("insert into probe (id, note) values (1, 'x')");
});

storeTest(
  "sql client: json and jsonb values arrive parsed, in a transaction too",
  async (store) => {
    const sql = `select '{"a":[1,{"b":null}]}'::jsonb as object, '"text"'::jsonb as string,
    '[1,2]'::json as array, '3.5'::jsonb as number, 'true'::jsonb as bool,
    'null'::jsonb as json_null, null::jsonb as sql_null,
    (select json_agg(x) from (values (1), (2)) v(x)) as agg`;
    const expected = {
      object: { a: [1, { b: null }] },
      string: "text",
      array: [1, 2],
      number: 3.5,
      bool: true,
      json_null: null,
      sql_null: null,
      agg: [1, 2],
    };
    assert.deepEqual({ ...(await store.db.query(sql))[0] }, expected);
    assert.deepEqual({ ...(await store.db.transaction((tx) => tx.query(sql)))[0] }, expected);
    // a JSON value written as text and cast comes back as it was written
    const value = { s: 'quote " and \\ backslash', n: [1.25, -2], nested: { t: "x" } };
    await store.db.exec("create table json_probe (v jsonb)");
    await store.db.query("insert into json_probe (v) values ($1::text::jsonb)", [
      JSON.stringify(value),
    ]);
    assert.deepEqual(
      (await store.db.query<{ v: unknown }>("select v from json_probe"))[0].v,
      value,
    );
  },
);

Deno.test("migrations: a shipped migration's SQL is never edited (new ones are appended)", async () => {
  // The SQL of each version as it shipped (first 16 hex digits of its SHA-256): a database that
  // applied a version never runs it again, so an edit would reach new databases only.
  const shipped: Record<number, string> = {
    1: "2d0f9c2829637925",
    2: "1f5fcb52882bb8e2",
    3: "5cd976d0b2ab4b67",
    4: "eb67ea089ba52149",
    5: "357507e7121068dd",
    6: "e96b4c8fa2c5c9a3",
  };
  for (const m of MIGRATIONS) {
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(m.sql)),
    );
    const hex = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
    assert.equal(hex, shipped[m.version], `migration ${m.version} (${m.name}) changed`);
  }
});
