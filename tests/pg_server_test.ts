/**
 * The test-owned PostgreSQL server: starts on its own port, keeps data across a fast restart and a
 * SIGKILL restart, refuses connections while down, and stop() removes everything.
 */
import assert from "node:assert/strict";
import postgres from "postgres";
import { startPostgres } from "./pg_server.ts";

Deno.test({
  name: "startPostgres: own port, data survives restart and kill, stop removes the folder",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const pg = await startPostgres();
    try {
      assert(pg.port !== 5432);
      const sql = () => postgres(pg.url, { max: 1, onnotice: () => {}, connect_timeout: 5 });
      let db = sql();
      await db`create table t (x int)`;
      await db`insert into t values (1)`;
      await db.end();
      await pg.restart({ downMs: 200 });
      db = sql();
      assert.equal((await db`select count(*)::int as n from t`)[0].n, 1);
      await db`insert into t values (2)`;
      await db.end();
      await pg.down("kill");
      assert.equal(pg.pid(), undefined);
      db = sql();
      await assert.rejects(() => db`select 1`);
      await db.end().catch(() => {});
      await pg.up();
      db = sql();
      assert.equal((await db`select count(*)::int as n from t`)[0].n, 2);
      await db.end();
    } finally {
      await pg.stop();
    }
    const gone = await Deno.stat(pg.dataDir).then(() => false, () => true);
    assert(gone, `${pg.dataDir} is still there after stop()`);
  },
});
