/**
 * Which schedulers and workers are alive: each writes a heartbeat row (`process_heartbeats`, at
 * most every few seconds, and whenever its status changes) and deletes it when it stops; a row not
 * seen for {@link STALE_AFTER_S} seconds belongs to a process that died. The web UI reads this to
 * say whether a queued run will be picked up, and by what.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Heartbeat, liveness } from "./liveness.ts";
 * import { openStore } from "./store/open.ts";
 * const store = await openStore({ memory: true });
 * try {
 *   const beat = new Heartbeat(store.db, "worker", "worker-1");
 *   await beat.beat("idle"); // inside the process's loop
 *   const { schedulers, workers } = await liveness(store.db);
 *   assert.equal(schedulers.length, 0);
 *   assert.deepEqual(workers.map((w) => [w.id, w.status]), [["worker-1", "idle"]]);
 *   await beat.stop(); // on the way out
 *   assert.deepEqual((await liveness(store.db)).workers, []);
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { SqlClient } from "./store/sql_client.ts";

/** A heartbeat older than this (seconds) is a dead process. */
export const STALE_AFTER_S = 30;
/** The longest pause between two writes of an unchanged status. */
const EVERY_MS = 5000;

/** One live process. */
export interface LiveProcess {
  id: string;
  kind: "scheduler" | "worker";
  hostname: string;
  pid: number;
  status: string;
  startedAt: Date;
  seenAt: Date;
}

/** The heartbeat of one scheduler or worker process. */
export class Heartbeat {
  #lastWrite = 0;
  #lastStatus: string | null = null;

  constructor(
    readonly db: SqlClient,
    readonly kind: "scheduler" | "worker",
    readonly id: string,
    readonly hostname = Deno.hostname(),
  ) {}

  /** Records that the process is alive (throttled); never throws: liveness is advisory. */
  async beat(status = ""): Promise<void> {
    const now = Date.now();
    if (status === this.#lastStatus && now - this.#lastWrite < EVERY_MS) return;
    this.#lastWrite = now;
    this.#lastStatus = status;
    await this.db.query(
      `insert into process_heartbeats (id, kind, hostname, pid, status) values ($1, $2, $3, $4, $5)
       on conflict (id) do update set status = excluded.status, seen_at = now()`,
      [this.id, this.kind, this.hostname, Deno.pid, status],
    ).catch(() => {});
  }

  /** Removes the row: the process stopped on purpose. */
  async stop(): Promise<void> {
    await this.db.query("delete from process_heartbeats where id = $1", [this.id]).catch(() => {});
  }
}

/** The schedulers and workers seen within {@link STALE_AFTER_S} seconds, newest first. */
export async function liveness(
  db: SqlClient,
): Promise<{ schedulers: LiveProcess[]; workers: LiveProcess[] }> {
  const rows = await db.query<Record<string, unknown>>(
    `select * from process_heartbeats where seen_at > now() - make_interval(secs => $1)
     order by seen_at desc`,
    [STALE_AFTER_S],
  );
  const all = rows.map((r): LiveProcess => ({
    id: String(r.id),
    kind: r.kind === "scheduler" ? "scheduler" : "worker",
    hostname: String(r.hostname),
    pid: Number(r.pid),
    status: String(r.status),
    startedAt: r.started_at instanceof Date ? r.started_at : new Date(String(r.started_at)),
    seenAt: r.seen_at instanceof Date ? r.seen_at : new Date(String(r.seen_at)),
  }));
  return {
    schedulers: all.filter((p) => p.kind === "scheduler"),
    workers: all.filter((p) => p.kind === "worker"),
  };
}
