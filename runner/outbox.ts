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
 * import { Outbox } from "./outbox.ts";
 * const outbox = new Outbox(".driftflow/outbox");
 * await outbox.replay(store, console.error); // at start: outcomes a dead worker left
 * ```
 */
import { join } from "node:path";
import { processStartTime } from "./leftovers.ts";
import type { Store } from "./store/store.ts";
import type { TiKey } from "./store/types.ts";

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

  /** Keeps `h` on disk (owned by this process) until {@link drop}. */
  async keep(h: Omit<HeldOutcome, "owner">): Promise<void> {
    const file = this.#file(h);
    const text = JSON.stringify({ ...h, owner: SELF });
    // The folder is made once (not on every outcome); made again if it went away meanwhile.
    if (!this.#made) {
      await Deno.mkdir(this.dir, { recursive: true });
      this.#made = true;
    }
    try {
      await Deno.writeTextFile(`${file}.tmp`, text);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      await Deno.mkdir(this.dir, { recursive: true });
      await Deno.writeTextFile(`${file}.tmp`, text);
    }
    await Deno.rename(`${file}.tmp`, file);
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
    for (const e of entries) {
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
          await store.finishTry(h.key, h.tryNumber, {
            ...h.end,
            at: new Date(h.end.at),
            nextRetryAt: h.end.nextRetryAt ? new Date(h.end.nextRetryAt) : null,
          });
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
      } catch (err) {
        log(`outbox: cannot record ${name} yet: ${(err as Error).message}`);
        return recorded;
      }
    }
    return recorded;
  }
}
