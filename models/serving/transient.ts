/**
 * Database errors that mean "not reachable right now" (connection refused or lost, the server
 * shutting down or starting up) as opposed to errors in the statement itself, and a bounded retry
 * for reads. After a PostgreSQL restart the first statement on each pooled connection fails with
 * "terminating connection due to administrator command"; a read retried a moment later succeeds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnavailable, retryRead } from "./transient.ts";
 * // a read whose first try meets a connection reset (e.g. after a server restart)
 * let tries = 0;
 * const rows = await retryRead(() => {
 *   if (++tries > 1) return Promise.resolve([{ one: 1 }]);
 *   return Promise.reject(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
 * }, 3, 10);
 * assert.deepEqual(rows, [{ one: 1 }]);
 * assert.equal(tries, 2);
 * assert.equal(isUnavailable({ code: "42P01" }), false); // a missing table is not retried
 * ```
 */

/** True for an error that means the database cannot be reached at the moment. */
export function isUnavailable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return false;
  return /^(08...|57P0[123])$/.test(code) ||
    ["CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]
      .includes(code) ||
    ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"].includes(code);
}

/**
 * Runs `read` (a statement safe to repeat), again after a short pause while it fails with an
 * {@link isUnavailable} error: at most `attempts` times in all (default 3, 100 ms apart).
 */
export async function retryRead<T>(
  read: () => Promise<T>,
  attempts = 3,
  pauseMs = 100,
): Promise<T> {
  for (let i = 1;; i++) {
    try {
      return await read();
    } catch (e) {
      if (i >= attempts || !isUnavailable(e)) throw e;
      await new Promise((r) => setTimeout(r, pauseMs));
    }
  }
}
