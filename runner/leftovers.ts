/**
 * Ends what an earlier try of a task left running on this machine. Command tries record their
 * process group and its leader's start time (from /proc); before the next try of the same task
 * instance starts here, a group that is still alive — the same process, not a reused id — gets
 * SIGTERM, then SIGKILL. This covers a supervisor that was itself killed (see command_task.ts),
 * e.g. with its whole process tree by an OOM killer. Groups on other machines cannot be reached;
 * those rely on the supervisor alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "./dag.ts";
 * import { endLeftovers, processStartTime } from "./leftovers.ts";
 * import { createDagRun } from "./runs.ts";
 * import { openStore } from "./store/open.ts";
 * const store = await openStore({ memory: true });
 * // try 1 of "shell" started a command in a process group of its own, and its runner died
 * const leftover = new Deno.Command("sleep", { args: ["30"], detached: true }).spawn();
 * try {
 *   const etl = dag({ id: "etl" }).command("shell", { cmd: ["sleep", "30"] });
 *   const key = { runId: (await createDagRun(store, etl)).id, taskId: "shell", mapIndex: -1 };
 *   await store.startTry(key, 1, new Date(), Deno.hostname());
 *   await store.setTryProcess(key, 1, leftover.pid, processStartTime(leftover.pid));
 *   const logged: string[] = [];
 *   const ended = await endLeftovers(store, key, 2, Deno.hostname(), (l) => logged.push(l));
 *   assert.equal(ended, 1); // before try 2 starts
 *   assert.equal((await leftover.status).signal, "SIGTERM");
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { Store } from "./store/store.ts";
import type { TiKey } from "./store/types.ts";

/** The start time (clock ticks since boot) of process `pid`, or null when it is gone (Linux). */
export function processStartTime(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]);
  } catch {
    return null;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    Deno.kill(-pgid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** Ends the live process groups earlier tries of `key` left on `hostname`; returns how many. */
export async function endLeftovers(
  store: Store,
  key: TiKey,
  tryNumber: number,
  hostname: string,
  log: (line: string) => void,
  graceMs = 2000,
): Promise<number> {
  let ended = 0;
  for (const p of await store.tryProcesses(key, tryNumber)) {
    if (p.hostname !== hostname || p.startTime === null) continue;
    if (processStartTime(p.pgid) !== p.startTime || !groupAlive(p.pgid)) continue;
    log(
      `try ${p.tryNumber} left process group ${p.pgid} running: ending it before try ${tryNumber}`,
    );
    try {
      Deno.kill(-p.pgid, "SIGTERM");
    } catch { /* gone */ }
    const until = Date.now() + graceMs;
    while (groupAlive(p.pgid) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (groupAlive(p.pgid)) {
      try {
        Deno.kill(-p.pgid, "SIGKILL");
      } catch { /* gone */ }
    }
    ended++;
  }
  return ended;
}
