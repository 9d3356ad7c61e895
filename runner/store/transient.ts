/**
 * Writes that must outlive a database outage: a finished try's outcome is held in memory and
 * written again, with backoff, until PostgreSQL answers. Only errors that mean "the server cannot
 * be reached right now" are retried (refused or dropped connections, a server shutting down or
 * starting up); any other error is a real one and is thrown at once.
 *
 * Memory stays bounded by the caller: a worker holds each pending outcome in the slot of the try
 * that produced it, so it claims no new work while its slots hold outcomes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { untilWritten } from "./transient.ts";
 * let attempts = 0;
 * const finishTry = () => { // stands for `store.finishTry(key, 1, end)` during an outage
 *   attempts++;
 *   if (attempts < 3) return Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:5432"));
 *   return Promise.resolve("written");
 * };
 * const logged: string[] = [];
 * const result = await untilWritten("the outcome of extract[-1] try 1", finishTry, {
 *   log: (line) => logged.push(line),
 *   firstDelayMs: 1,
 * });
 * assert.equal(result, "written");
 * assert.equal(attempts, 3);
 * assert.equal(logged.length, 3); // two "database unreachable" lines and one "database back"
 * ```
 */

/** SQLSTATEs of a server that is going away, starting, or out of connections. */
const TRANSIENT_CODES = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
  "08000",
  "08003",
  "08006",
  "08001",
  "08004",
]);

/** postgres.js connection errors and OS socket errors. */
const TRANSIENT_NAMES = new Set([
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** True when `e` says the database cannot be reached now (worth trying again later). */
export function isTransient(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = String((e as { code?: unknown }).code ?? "");
  if (TRANSIENT_CODES.has(code) || TRANSIENT_NAMES.has(code)) return true;
  if (e.name === "ConnectionRefused" || e.name === "ConnectionReset" || e.name === "BrokenPipe") {
    return true;
  }
  return /ECONNREFUSED|ECONNRESET|CONNECTION_(CLOSED|ENDED|DESTROYED)|connection (refused|reset)|terminating connection|the database system is (starting up|shutting down)/i
    .test(e.message);
}

/** How `untilWritten` retries. */
export interface RetryOptions {
  /** Where failures and the final success are reported (loudly: one line each time). */
  log: (line: string) => void;
  /** Stops retrying (the last error is thrown): e.g. a process giving up at shutdown. */
  giveUp?: AbortSignal;
  /** Called (and awaited) once, at the first transient failure: e.g. to keep the value on disk. */
  onHold?: () => Promise<void>;
  /** First pause, doubled each time up to `maxDelayMs` (defaults 100 ms and 5 s). */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Runs `op` until it succeeds. Transient errors are retried with exponential backoff (each one
 * logged with what is held); other errors are thrown.
 */
export async function untilWritten<T>(
  what: string,
  op: () => Promise<T>,
  o: RetryOptions,
): Promise<T> {
  let delay = o.firstDelayMs ?? 100;
  const since = Date.now();
  for (let attempt = 1;; attempt++) {
    try {
      const value = await op();
      if (attempt > 1) {
        o.log(
          `database back: wrote ${what} after ${attempt} attempts (${Date.now() - since} ms)`,
        );
      }
      return value;
    } catch (e) {
      if (!isTransient(e) || o.giveUp?.aborted) throw e;
      if (attempt === 1) await o.onHold?.();
      o.log(
        `database unreachable (${
          (e as Error).message
        }): holding ${what} in memory, attempt ${attempt}, next in ${delay} ms`,
      );
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, delay);
        function done() {
          clearTimeout(t);
          o.giveUp?.removeEventListener("abort", done);
          resolve();
        }
        o.giveUp?.addEventListener("abort", done, { once: true });
      });
      delay = Math.min(delay * 2, o.maxDelayMs ?? 5000);
    }
  }
}
