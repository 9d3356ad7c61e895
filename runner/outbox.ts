/**
 * The outbox: outcomes of finished tries that the database would not take yet, kept on the local
 * disk (`<data home>/outbox/`, one JSON file each) as well as in memory. A worker that dies while
 * it holds one (kill -9 during a database outage) does not lose it: the next worker on this machine
 * writes it when it starts (and every few seconds), unless the try has moved on meanwhile (reaped
 * as a zombie and tried again), which it then says loudly. A file is written only when the first
 * write failed, so a healthy database costs nothing here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Outbox } from "./outbox.ts";
 * import { openStore } from "./store/open.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const outbox = new Outbox(dir);
 *   const key = { runId: 1, taskId: "extract", mapIndex: -1 };
 *   const end = { state: "success" as const, at: new Date().toISOString(), durationMs: 5 };
 *   await outbox.keep({ key, tryNumber: 1, end, skips: [] }); // the database refused the outcome
 *   assert.equal((await Array.fromAsync(Deno.readDir(dir))).length, 1); // kept on disk
 *   // Replay (at a worker's start) records only outcomes whose process is gone; this one is alive:
 *   assert.equal(await outbox.replay(store, console.error), 0);
 *   await outbox.drop({ key, tryNumber: 1 }); // written by its owner after all
 *   assert.equal((await Array.fromAsync(Deno.readDir(dir))).length, 0);
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { join } from "node:path";
import { recordAssetEvent } from "./assets.ts";
import { processStartTime } from "./leftovers.ts";
import { Store } from "./store/store.ts";
import type { TiKey } from "./store/types.ts";

/** An asset event a successful try writes for one of its task's outlets. */
export type OutletEvent = Parameters<typeof recordAssetEvent>[1];

/**
 * Records a try's end ({@link Store.finishTry}) and, only if that was recorded, the asset events of
 * its outlets in the same transaction: a try whose task instance moved on meanwhile (a run timed
 * out and skipped it, a zombie reaped it, a clear) announces no update, and a recorded success
 * never lacks its events. True when the end was recorded.
 */
export async function finishWithEvents(
  store: Store,
  key: TiKey,
  tryNumber: number,
  end: Parameters<Store["finishTry"]>[2],
  events: readonly OutletEvent[] = [],
): Promise<boolean> {
  if (events.length === 0) return await store.finishTry(key, tryNumber, end);
  return await store.db.transaction(async (tx) => {
    const recorded = await new Store(tx).finishTry(key, tryNumber, end);
    if (recorded) { for (const e of events) await recordAssetEvent(tx, e); }
    return recorded;
  });
}

/** One held outcome: the try's end and the branch skips stored before it. */
export interface HeldOutcome {
  key: TiKey;
  tryNumber: number;
  end: {
    state: "success" | "failed" | "up_for_retry";
    at: string;
    durationMs: number;
    error?: string | null;
    nextRetryAt?: string | null;
    xcom?: { value: unknown; artifact: string | null; sizeBytes: number } | null;
  };
  skips: TiKey[];
  /** A success's asset events, written with it. */
  events?: OutletEvent[];
  /** The process that holds it in memory (pid and start time, so a reused pid is not taken for it). */
  owner: { pid: number; start: number | null };
}

const SELF = { pid: Deno.pid, start: processStartTime(Deno.pid) };

export class Outbox {
  #made = false;

  constructor(readonly dir: string) {}

  #file(h: Pick<HeldOutcome, "key" | "tryNumber">): string {
    const k = h.key;
    const name = `${k.runId}-${encodeURIComponent(k.taskId)}-${k.mapIndex}-${h.tryNumber}.json`;
    return join(this.dir, name);
  }

  /**
   * Keeps `h` on disk (owned by this process) until {@link drop}. Synchronous on purpose: the
   * moments between a try's end and its outcome being on disk are the ones a kill -9 can still
   * lose, and a round trip through the event loop per file call would widen them.
   */
  keep(h: Omit<HeldOutcome, "owner">): Promise<void> {
    try {
      if (!this.#made) {
        Deno.mkdirSync(this.dir, { recursive: true });
        this.#made = true;
      }
      const file = this.#file(h);
      Deno.writeTextFileSync(`${file}.tmp`, JSON.stringify({ ...h, owner: SELF }));
      Deno.renameSync(`${file}.tmp`, file);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Notes that a command try is running (the supervisor writes its exit status to the returned
   * file the moment it ends): if this process dies after the command succeeded and before the
   * outcome is kept, the replay still records the success instead of running the command again.
   */
  commandStarted(
    key: TiKey,
    tryNumber: number,
    startedAt: number,
    events: readonly OutletEvent[] = [],
  ): string {
    if (!this.#made) {
      Deno.mkdirSync(this.dir, { recursive: true });
      this.#made = true;
    }
    const base = this.#file({ key, tryNumber }).replace(/\.json$/, "");
    Deno.writeTextFileSync(
      `${base}.cmd`,
      JSON.stringify({ key, tryNumber, startedAt, events, owner: SELF }),
    );
    return `${base}.exit`;
  }

  /** Forgets a command try's note and exit status (its outcome is handled). */
  commandDone(key: TiKey, tryNumber: number): void {
    const base = this.#file({ key, tryNumber }).replace(/\.json$/, "");
    for (const f of [`${base}.cmd`, `${base}.exit`]) {
      try {
        Deno.removeSync(f);
      } catch { /* not there */ }
    }
  }

  /** Forgets `h` (it was written). */
  async drop(h: Pick<HeldOutcome, "key" | "tryNumber">): Promise<void> {
    await Deno.remove(this.#file(h)).catch(() => {});
  }

  /**
   * Writes the outcomes whose owner is gone; returns how many were recorded. Errors (the database
   * still down) leave the files for the next call.
   */
  async replay(store: Store, log: (line: string) => void): Promise<number> {
    let recorded = 0;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.dir));
    } catch {
      return 0;
    }
    const names = new Set(entries.map((e) => e.name));
    for (const e of entries) {
      if (e.isFile && e.name.endsWith(".cmd") && !names.has(e.name.replace(/\.cmd$/, ".json"))) {
        try {
          recorded += await this.#replayCommand(join(this.dir, e.name), store, log);
        } catch (err) {
          log(`outbox: cannot record ${e.name} yet: ${(err as Error).message}`);
          return recorded;
        }
        continue;
      }
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const path = join(this.dir, e.name);
      let h: HeldOutcome;
      try {
        h = JSON.parse(await Deno.readTextFile(path));
      } catch {
        continue; // being written, or removed meanwhile
      }
      const alive = h.owner.start !== null && processStartTime(h.owner.pid) === h.owner.start;
      if (alive) continue;
      const name = `${h.key.taskId}[${h.key.mapIndex}] of run ${h.key.runId} try ${h.tryNumber}`;
      try {
        const [ti] = (await store.taskInstancesForTry(h.key, [])).tis.filter((t) =>
          t.taskId === h.key.taskId && t.mapIndex === h.key.mapIndex
        );
        const open = ti && ti.tryNumber === h.tryNumber &&
          ["running", "queued", "up_for_retry"].includes(ti.state ?? "");
        if (open) {
          for (const s of h.skips) {
            await store.setTaskState(s, "skipped", { at: new Date(h.end.at) });
          }
        }
        const ok = open &&
          await finishWithEvents(store, h.key, h.tryNumber, {
            ...h.end,
            at: new Date(h.end.at),
            nextRetryAt: h.end.nextRetryAt ? new Date(h.end.nextRetryAt) : null,
          }, h.events);
        if (ok) {
          recorded++;
          log(`outbox: recorded the ${h.end.state} of ${name}, left by process ${h.owner.pid}`);
        } else {
          log(
            `outbox: the ${h.end.state} of ${name}, left by process ${h.owner.pid}, was NOT ` +
              "recorded: the task instance moved on meanwhile (retried as a zombie, or cleared)",
          );
        }
        await Deno.remove(path).catch(() => {});
        this.commandDone(h.key, h.tryNumber);
      } catch (err) {
        log(`outbox: cannot record ${name} yet: ${(err as Error).message}`);
        return recorded;
      }
    }
    return recorded;
  }

  /**
   * A command try whose runner died: a success the supervisor wrote down is recorded (its XCom's
   * `lastLine` is the last stdout line that reached the try's log); a failure (or a command ended
   * with its runner) is left to the zombie reaper; without a status yet it is looked at again.
   */
  async #replayCommand(path: string, store: Store, log: (line: string) => void): Promise<number> {
    let note: {
      key: TiKey;
      tryNumber: number;
      startedAt: number;
      events?: OutletEvent[];
      owner: HeldOutcome["owner"];
    };
    try {
      note = JSON.parse(await Deno.readTextFile(path));
    } catch {
      return 0;
    }
    if (note.owner.start !== null && processStartTime(note.owner.pid) === note.owner.start) {
      return 0;
    }
    const exitFile = path.replace(/\.cmd$/, ".exit");
    let status: string | null = null;
    let endedAt = Date.now();
    try {
      status = (await Deno.readTextFile(exitFile)).trim();
      endedAt = (await Deno.stat(exitFile)).mtime?.getTime() ?? endedAt;
    } catch { /* no status: the command did not end by itself */ }
    const { key, tryNumber } = note;
    const name = `${key.taskId}[${key.mapIndex}] of run ${key.runId} try ${tryNumber}`;
    let recorded = 0;
    const [ti] = (await store.taskInstancesForTry(key, [])).tis.filter((t) =>
      t.taskId === key.taskId && t.mapIndex === key.mapIndex
    );
    const open = ti && ti.tryNumber === tryNumber &&
      ["running", "queued", "up_for_retry"].includes(ti.state ?? "");
    // No status yet: the command is still ending (its supervisor writes one whenever it ends).
    if (status === null && open) return 0;
    if (status === "0") {
      const lines = open ? await store.logs(key.runId, key.taskId, tryNumber) : [];
      const lastLine = lines.filter((l) =>
        l.mapIndex === key.mapIndex && l.stream === "stdout" && l.line.trim() !== ""
      ).at(-1)?.line ?? "";
      const value = { exitCode: 0, lastLine };
      const ok = open && await finishWithEvents(store, key, tryNumber, {
        state: "success",
        at: new Date(endedAt),
        durationMs: endedAt - note.startedAt,
        xcom: {
          value,
          artifact: null,
          sizeBytes: new TextEncoder().encode(JSON.stringify(value)).length,
        },
      }, note.events);
      if (ok) {
        recorded++;
      }
      log(
        ok
          ? `outbox: recorded the success of ${name} (its command exited 0 after process ${note.owner.pid} died)`
          : `outbox: the success of ${name} (command exited 0 after process ${note.owner.pid} died) ` +
            "was NOT recorded: the task instance moved on meanwhile",
      );
    }
    for (const f of [path, exitFile]) await Deno.remove(f).catch(() => {});
    return recorded;
  }
}
