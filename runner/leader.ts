/**
 * Leader election for schedulers: the leader holds a PostgreSQL session advisory lock on a
 * connection of its own. When its process dies the connection closes, the lock is freed and a
 * standby that keeps trying takes over. On PGlite (one process) the only scheduler always leads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLeaderLock } from "./leader.ts";
 * const lock = openLeaderLock(undefined); // no DATABASE_URL: PGlite, where the one scheduler leads
 * assert.equal(await lock.acquire(), true);
 * await lock.release();
 * const down = openLeaderLock("postgres://postgres@127.0.0.1:1/driftflow"); // nothing listens
 * assert.equal(await down.acquire(), false); // not the leader, and says why
 * assert.match(down.lastError?.()?.message ?? "", /ECONNREFUSED|refused/i);
 * await down.release();
 * ```
 */
import postgres from "postgres";
import { reconnectBackoff } from "./store/postgres.ts";

const LOCK_KEY = 73_913;

/** A lock only one scheduler holds at a time. */
export interface LeaderLock {
  /** True when this process holds the lock (taking it if it is free). */
  acquire(): Promise<boolean>;
  release(): Promise<void>;
  /** Why the last `acquire` could not ask the server (null when it could): the database is down. */
  lastError?(): Error | null;
}

/** A lock on the server at `url`, or one that is always held when `url` is undefined (PGlite). */
export function openLeaderLock(url: string | undefined): LeaderLock {
  if (!url) return { acquire: () => Promise.resolve(true), release: () => Promise.resolve() };
  let sql: postgres.Sql | null = null;
  let held = false;
  let lastError: Error | null = null;
  // this process's sessions are named (pid and a random part: pids repeat across hosts and
  // containers) so a lock still held by one it lost can be told apart from another scheduler's
  const name = `driftflow-leader-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  // whether a session of this process may still hold the lock (it held it, and lost the session)
  let mayHoldOld = false;
  const reset = async () => {
    held = false;
    const old = sql;
    sql = null;
    await old?.end({ timeout: 1 }).catch(() => {});
  };
  return {
    async acquire() {
      try {
        sql ??= postgres(url, {
          max: 1,
          idle_timeout: 0,
          onnotice: () => {},
          connection: { application_name: name },
          backoff: reconnectBackoff,
        });
        if (held) {
          // The lock lives as long as the session: check that it is still the same session.
          const [{ ok }] = await sql`select exists(
            select 1 from pg_locks where locktype = 'advisory' and objid = ${LOCK_KEY} and pid = pg_backend_pid()
          ) as ok`;
          if (ok) {
            lastError = null;
            return true;
          }
          // the connection dropped and came back as a new session: the lock went with the old one
          lastError = new Error("the session that held the lock was cut off (connection lost)");
          await reset();
          mayHoldOld = true;
          return false;
        }
        const [{ got }] = await sql`select pg_try_advisory_lock(${LOCK_KEY}) as got`;
        held = Boolean(got);
        lastError = null;
        if (held) mayHoldOld = false;
        else if (mayHoldOld) {
          // a session of this process that was cut off can hold the lock until the server notices
          const holders = await sql`select a.application_name as app from pg_locks l
            join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.objid = ${LOCK_KEY} and l.granted`;
          mayHoldOld = holders.some((h) => h.app === name);
          if (mayHoldOld) {
            lastError = new Error(
              "this scheduler's earlier session, cut off, still holds the lock until the server notices",
            );
          }
        }
        return held;
      } catch (e) {
        lastError = e as Error;
        // a session that held the lock may outlive this error on the server
        mayHoldOld ||= held;
        await reset();
        return false;
      }
    },
    lastError: () => lastError,
    async release() {
      if (sql && held) await sql`select pg_advisory_unlock(${LOCK_KEY})`.catch(() => {});
      await reset();
    },
  };
}
