// The leader lock on a real server: held while its session lives; a session cut off and one of
// this process still holding the lock are said as such, never as another scheduler leading.
import assert from "node:assert/strict";
import postgres from "postgres";
import { openLeaderLock } from "../../runner/leader.ts";
import { freshDatabase } from "./helpers.ts";

const LOCK_KEY = 73_913; // runner/leader.ts

Deno.test("leader lock: another holder is another scheduler; a lost session or our own stale one is said so", async () => {
  const db = await freshDatabase();
  const other = postgres(db.url, { max: 1, onnotice: () => {} });
  const lock = openLeaderLock(db.url);
  try {
    assert.equal(await lock.acquire(), true);
    assert.equal(lock.lastError?.(), null);
    assert.equal(await lock.acquire(), true, "still held on the same session");
    // the leader's session is named for this process (pid and a random part)
    const [{ name }] = await other`select application_name as name from pg_stat_activity
      where application_name like ${`driftflow-leader-${Deno.pid}-%`}`;
    // the server ends the leader's session (as when its connection is cut)
    await other`select pg_terminate_backend(pid) from pg_stat_activity
      where application_name = ${name}`;
    // once the client has seen its connection close, the next check runs on a new session
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await lock.acquire(), false);
    assert.match(lock.lastError?.()?.message ?? "", /cut off \(connection lost\)/);
    // meanwhile a session named as this process's leader holds it (the cut-off one, which the
    // server has not noticed yet): our own earlier session, not another scheduler's
    const stale = postgres(db.url, {
      max: 1,
      onnotice: () => {},
      connection: { application_name: name },
    });
    try {
      await stale`select pg_advisory_lock(${LOCK_KEY})`;
      assert.equal(await lock.acquire(), false);
      assert.match(lock.lastError?.()?.message ?? "", /earlier session, cut off, still holds/);
    } finally {
      await stale.end();
    }
    assert.equal(await lock.acquire(), true, "taken again on a new session once it is gone");
    await lock.release();
    // another scheduler's session: no error, just not the leader
    await other`select pg_advisory_lock(${LOCK_KEY})`;
    assert.equal(await lock.acquire(), false);
    assert.equal(lock.lastError?.(), null, "another scheduler leads");
  } finally {
    await lock.release();
    await other.end();
    await db.drop();
  }
});
