/**
 * The outbox: outcomes of finished tries kept on the local disk (`<data home>/outbox/`) until the
 * database has them, as well as in memory. A worker that dies while it holds one (kill -9 during a
 * database outage, or between a try's end and its record) does not lose it: the next worker on this
 * machine writes it when it starts (and every few seconds), unless the try has moved on meanwhile
 * (reaped as a zombie and tried again), which it then says loudly.
 *
 * Each process appends to a journal of its own (`held-<pid>-<start>.jsonl`): a line when it keeps
 * an outcome, a line when it drops it (written), truncated when nothing is held and it has grown.
 * An append is one write to an open file — no file created, renamed or removed per try, which cost
 * a worker more than anything else it did per no-op try. A journal is replayed only once its owner
 * is gone; a torn last line (a kill during the write) is skipped. One JSON file per outcome (the
 * earlier format) is still replayed.
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
 *   await outbox.keep({ key, tryNumber: 1, end, skips: [] }); // before the outcome is written
 *   assert.equal((await Array.fromAsync(Deno.readDir(dir))).length, 1); // kept on disk
 *   assert.equal(outbox.held, 1);
 *   // Replay (at a worker's start) records only outcomes whose process is gone; this one is alive:
 *   assert.equal(await outbox.replay(store, console.error), 0);
 *   await outbox.drop({ key, tryNumber: 1 }); // written by its owner
 *   assert.equal(outbox.held, 0);
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
    state: "success" | "failed" | "up_for_retry" | "skipped" | "up_for_reschedule";
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

/** A journal's name: `held-<pid>-<start time, or x when unknown>.jsonl`. */
const JOURNAL = /^held-(\d+)-(\d+|x)\.jsonl$/;
/** A journal holding nothing is truncated once it is larger than this. */
const JOURNAL_MAX_BYTES = 1 << 20;

const heldId = (h: Pick<HeldOutcome, "key" | "tryNumber">) =>
  JSON.stringify([h.key.runId, h.key.taskId, h.key.mapIndex, h.tryNumber]);

/** Writes all of `bytes` to `file` (a write may take only part of them). */
function writeAllSync(file: Deno.FsFile, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += file.writeSync(bytes.subarray(off));
}

export class Outbox {
  #made = false;
  /**
   * This process's journal, opened on the first keep, with the outcomes it holds, its length, and
   * whether a failed append may have left part of a line at its end.
   */
  #journal: { file: Deno.FsFile; held: Set<string>; bytes: number; torn: boolean } | null = null;
  readonly #encoder = new TextEncoder();

  constructor(readonly dir: string) {}

  #file(h: Pick<HeldOutcome, "key" | "tryNumber">): string {
    const k = h.key;
    const name = `${k.runId}-${encodeURIComponent(k.taskId)}-${k.mapIndex}-${h.tryNumber}.json`;
    return join(this.dir, name);
  }

  #mkdir(): void {
    if (this.#made) return;
    Deno.mkdirSync(this.dir, { recursive: true });
    this.#made = true;
  }

  /** How many outcomes this process holds. */
  get held(): number {
    return this.#journal?.held.size ?? 0;
  }

  /**
   * Appends one line. A write that fails part-way (a full disk) is cut off again, so the next line
   * is not glued to a torn one (replay would skip both); if even that fails, the next line starts
   * on a line of its own.
   */
  #append(line: unknown): void {
    const j = this.#journal!;
    const bytes = this.#encoder.encode(`${j.torn ? "\n" : ""}${JSON.stringify(line)}\n`);
    try {
      writeAllSync(j.file, bytes);
    } catch (e) {
      try {
        j.file.truncateSync(j.bytes);
      } catch {
        j.torn = true;
      }
      throw e;
    }
    j.bytes += bytes.length;
    j.torn = false;
  }

  /**
   * Keeps `h` on disk (owned by this process) until {@link drop}. Synchronous on purpose: the
   * moments between a try's end and its outcome being on disk are the ones a kill -9 can still
   * lose, and a round trip through the event loop per file call would widen them.
   */
  keep(h: Omit<HeldOutcome, "owner">): Promise<void> {
    try {
      this.#mkdir();
      this.#journal ??= {
        file: Deno.openSync(join(this.dir, `held-${SELF.pid}-${SELF.start ?? "x"}.jsonl`), {
          append: true,
          create: true,
        }),
        held: new Set(),
        bytes: 0,
        torn: false,
      };
      this.#append({ keep: { ...h, owner: SELF } });
      this.#journal.held.add(heldId(h));
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
    this.#mkdir();
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

  /**
   * Forgets `h` (it was written). Rejects when that cannot be noted on disk: the copy then stays in
   * the journal, and replayed after this process is gone it finds the try closed and records
   * nothing (saying so).
   */
  drop(h: Pick<HeldOutcome, "key" | "tryNumber">): Promise<void> {
    const j = this.#journal;
    const id = heldId(h);
    if (!j?.held.delete(id)) return Promise.resolve();
    try {
      if (j.held.size === 0 && j.bytes > JOURNAL_MAX_BYTES) {
        j.file.truncateSync(0); // appends go to the new end
        j.bytes = 0;
        j.torn = false;
      } else this.#append({ drop: id });
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Closes this process's journal (what it still holds stays on disk for a replay). */
  close(): void {
    this.#journal?.file.close();
    this.#journal = null;
  }

  /**
   * Writes the outcomes whose owner is gone; returns how many were recorded. Errors (the database
   * still down) leave them for the next call. Journals go first: a command try's held outcome is
   * what it ended with, its exit status file only the fallback.
   */
  async replay(store: Store, log: (line: string) => void): Promise<number> {
    let recorded = 0;
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.dir));
    } catch {
      return 0;
    }
    for (const e of entries) {
      const m = e.isFile ? JOURNAL.exec(e.name) : null;
      if (!m) continue;
      const start = m[2] === "x" ? null : Number(m[2]);
      if (start !== null && processStartTime(Number(m[1])) === start) continue; // its owner lives
      try {
        recorded += await this.#replayJournal(join(this.dir, e.name), store, log);
      } catch (err) {
        log(`outbox: cannot record what ${e.name} holds yet: ${(err as Error).message}`);
        return recorded;
      }
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
        if (await this.#replayHeld(h, store, log)) recorded++;
        await Deno.remove(path).catch(() => {});
      } catch (err) {
        log(`outbox: cannot record ${name} yet: ${(err as Error).message}`);
        return recorded;
      }
    }
    return recorded;
  }

  /**
   * The outcomes a dead process's journal still holds, each written (or found moved on), a drop
   * line appended after each (so a replay cut short does not do it twice); then the journal goes.
   */
  async #replayJournal(path: string, store: Store, log: (line: string) => void): Promise<number> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch {
      return 0; // replayed and removed meanwhile
    }
    const held = new Map<string, HeldOutcome>();
    for (const line of text.split("\n")) {
      let entry: { keep?: HeldOutcome; drop?: string };
      try {
        entry = JSON.parse(line);
      } catch {
        continue; // an empty or torn line (its writer was killed during the write)
      }
      if (entry.keep) held.set(heldId(entry.keep), entry.keep);
      else if (typeof entry.drop === "string") held.delete(entry.drop);
    }
    let recorded = 0;
    for (const [id, h] of held) {
      if (await this.#replayHeld(h, store, log)) recorded++;
      await Deno.writeTextFile(path, `${JSON.stringify({ drop: id })}\n`, { append: true });
    }
    await Deno.remove(path).catch(() => {});
    return recorded;
  }

  /** Writes one held outcome if its try is still open; true if it was recorded. */
  async #replayHeld(h: HeldOutcome, store: Store, log: (line: string) => void): Promise<boolean> {
    const name = `${h.key.taskId}[${h.key.mapIndex}] of run ${h.key.runId} try ${h.tryNumber}`;
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
      log(`outbox: recorded the ${h.end.state} of ${name}, left by process ${h.owner.pid}`);
    } else {
      log(
        `outbox: the ${h.end.state} of ${name}, left by process ${h.owner.pid}, was NOT ` +
          "recorded: the task instance moved on meanwhile (retried as a zombie, or cleared)",
      );
    }
    this.commandDone(h.key, h.tryNumber);
    return ok;
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
