/**
 * Database errors that mean "not reachable right now" (connection refused or lost, the server
 * shutting down or starting up) as opposed to errors in the statement itself, and a bounded retry
 * for reads. After a PostgreSQL restart the first statement on each pooled connection fails with
 * "terminating connection due to administrator command"; a read retried a moment later succeeds.
 *
 * @example
 * ```ts
 * import { retryRead } from "./transient.ts";
 * const rows = await retryRead(() => db.query("select 1"));
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
