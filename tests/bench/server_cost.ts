/**
 * What a stretch of the distributed benchmark cost: the transactions committed in its database
 * (`pg_stat_database`; each autocommit statement is one) and the CPU time of the database's server
 * backends and of the given processes (Linux `/proc/<pid>/stat`, read on this machine: the test
 * server runs here). A backend's statistics reach `pg_stat_database` when it has been idle a while
 * or when it exits, so the transactions are read after the processes under test have closed their
 * connections; the CPU time is read while they still run (a process gone has no `/proc` entry).
 */
import type { Store } from "../../runner/store/store.ts";

/** CPU time (user + system) of process `pid` in ms, or NaN when it cannot be read. */
function cpuMsOf(pid: number): number {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    // utime and stime (fields 14 and 15 of stat(5)), in clock ticks of 10 ms (USER_HZ 100 on Linux)
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The CPU time so far (ms) of the database's backends and of `pids`, by pid. */
export async function cpuNow(store: Store, pids: readonly number[]): Promise<Map<number, number>> {
  const backends = await store.db.query<{ pid: number }>(
    "select pid from pg_stat_activity where datname = current_database()",
  );
  const all = [...backends.map((b) => Number(b.pid)), ...pids];
  return new Map(all.map((p) => [p, cpuMsOf(p)]));
}

/**
 * CPU ms spent between two readings by every process of the later one (a process the earlier
 * reading did not know started after it: all its time counts).
 */
export function cpuSince(before: Map<number, number>, after: Map<number, number>): number {
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}

/**
 * The transactions committed or rolled back in the database so far, read once the statistics of
 * backends that exited or went idle have had time to show (1.5 s).
 */
export async function transactionsNow(store: Store): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  const [{ n }] = await store.db.query<{ n: number }>(
    `select (xact_commit + xact_rollback)::float8 as n from pg_stat_database
     where datname = current_database()`,
  );
  return Number(n);
}
