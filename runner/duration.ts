/**
 * Durations as people write them in DAG files: `"30s"`, `"10m"`, `"1h30m"`, `"250ms"`, or a number
 * of milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDuration } from "./duration.ts";
 * assert.equal(parseDuration("1m30s"), 90_000);
 * ```
 */
import { z } from "zod";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** A duration: milliseconds, or a string such as "30s", "10m", "1h30m". */
export type Duration = number | string;

/** Milliseconds in `value`; throws an error naming the bad text and the accepted forms. */
export function parseDuration(value: Duration): number {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new Error(`invalid duration ${value}: expected a non-negative number of milliseconds`);
    }
    return value;
  }
  const text = value.trim();
  let total = 0;
  PART.lastIndex = 0;
  let matched = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (!m) break;
    total += Number(m[1]) * UNIT_MS[m[2]];
    matched = PART.lastIndex;
  }
  if (text.length === 0 || matched !== text.length) {
    throw new Error(
      `invalid duration "${value}": expected a number followed by ms, s, m, h or d, such as "30s", "10m" or "1h30m"`,
    );
  }
  return total;
}

/** A zod schema accepting a Duration and giving milliseconds. */
export const DurationSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: "custom", message: (e as Error).message });
    return z.NEVER;
  }
});

/** "1.2 s", "35 ms", "2 m 5 s": a short human reading of milliseconds. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return m < 60 ? `${m} m ${s} s` : `${Math.floor(m / 60)} h ${m % 60} m`;
}
