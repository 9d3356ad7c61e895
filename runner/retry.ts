/**
 * How long to wait before the next try: a fixed delay, or one that doubles with each try, never more
 * than the maximum. Exponential backoff has Airflow's jitter: with a `jitterKey` (the task
 * instance), the delay d becomes a value in [d, 2d), fixed by a hash of the key and the try number —
 * so retries of many instances that failed together spread out, yet each delay is reproducible.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryDelayMs } from "./retry.ts";
 * const settings = {
 *   retryDelay: "30s",
 *   retryBackoff: "exponential",
 *   maxRetryDelay: "10m",
 * } as const;
 * assert.equal(retryDelayMs(settings, 3), 120_000); // 30 s doubled after try 1 and try 2
 * assert.equal(retryDelayMs(settings, 10), 600_000); // capped at maxRetryDelay
 * const jittered = retryDelayMs(settings, 3, "etl#load#7#-1"); // the same key, the same delay
 * assert.ok(jittered >= 120_000 && jittered < 240_000);
 * ```
 */
import type { TaskSettings } from "./dag.ts";
import { parseDuration } from "./duration.ts";

/** The default delay before a retry. */
export const DEFAULT_RETRY_DELAY = "30s";
/** The default cap of an exponential delay. */
export const DEFAULT_MAX_RETRY_DELAY = "24h";

/** The wait after try number `tryNumber` (1-based) failed; jittered when `jitterKey` is given. */
export function retryDelayMs(
  settings: TaskSettings,
  tryNumber: number,
  jitterKey?: string,
): number {
  const base = parseDuration(settings.retryDelay ?? DEFAULT_RETRY_DELAY);
  if (settings.retryBackoff !== "exponential") return base;
  const cap = parseDuration(settings.maxRetryDelay ?? DEFAULT_MAX_RETRY_DELAY);
  const d = base * 2 ** Math.max(0, tryNumber - 1);
  const jitter = jitterKey === undefined || d === 0 ? 0 : hash32(`${jitterKey}#${tryNumber}`) % d;
  return Math.min(cap, d + jitter);
}

/** FNV-1a, 32 bits: a stable, well-spread hash of a short string (no crypto needed here). */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
