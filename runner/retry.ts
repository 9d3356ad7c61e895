/**
 * How long to wait before the next try: a fixed delay, or one that doubles with each try, never more
 * than the maximum (Airflow's `retry_exponential_backoff` without its jitter, so tests can check it).
 *
 * @example
 * ```ts
 * import { retryDelayMs } from "./retry.ts";
 * retryDelayMs({ retryDelay: "30s", retryBackoff: "exponential", maxRetryDelay: "10m" }, 3); // 120000
 * ```
 */
import type { TaskSettings } from "./dag.ts";
import { parseDuration } from "./duration.ts";

/** The default delay before a retry. */
export const DEFAULT_RETRY_DELAY = "30s";
/** The default cap of an exponential delay. */
export const DEFAULT_MAX_RETRY_DELAY = "24h";

/** The wait after try number `tryNumber` (1-based) failed. */
export function retryDelayMs(settings: TaskSettings, tryNumber: number): number {
  const base = parseDuration(settings.retryDelay ?? DEFAULT_RETRY_DELAY);
  if (settings.retryBackoff !== "exponential") return base;
  const cap = parseDuration(settings.maxRetryDelay ?? DEFAULT_MAX_RETRY_DELAY);
  return Math.min(cap, base * 2 ** Math.max(0, tryNumber - 1));
}
