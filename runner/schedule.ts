/**
 * Schedules: cron expressions and presets read by `croner`, in a DAG's time zone, and the data
 * interval each tick covers (Airflow's: a run at logical date D covers [D, next tick)).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSchedule } from "./schedule.ts";
 * const s = parseSchedule("@hourly", "UTC");
 * const next = s.next(new Date("2026-01-01T00:30:00Z"));
 * assert.equal(next?.toISOString(), "2026-01-01T01:00:00.000Z");
 * ```
 */
import { Cron } from "croner";

/** A parsed schedule. */
export interface Schedule {
  readonly expression: string;
  readonly timezone: string;
  /** The first tick strictly after `after`, or null when there is none. */
  next(after: Date): Date | null;
  /** The latest `n` ticks at or before `at`, oldest first. */
  latest(n: number, at: Date): Date[];
  /** The ticks in (from, to], oldest first, at most `limit`. */
  between(from: Date, to: Date, limit?: number): Date[];
}

/** Parses a cron expression or preset; throws an error that says what a valid one looks like. */
export function parseSchedule(expression: string, timezone = "UTC"): Schedule {
  let cron: Cron;
  try {
    cron = new Cron(expression, { timezone, paused: true });
    cron.nextRun(new Date(0));
  } catch (e) {
    throw new Error(
      `invalid schedule "${expression}" (time zone ${timezone}): ${(e as Error).message}. ` +
        `Expected a 5- or 6-field cron expression such as "0 * * * *", or @hourly, @daily, @weekly, @monthly, @yearly`,
    );
  }
  return {
    expression,
    timezone,
    next: (after) => cron.nextRun(after),
    latest(n, at) {
      const atOrAfter = cron.nextRun(new Date(at.getTime() - 1));
      const includeAt = atOrAfter !== null && atOrAfter.getTime() === at.getTime();
      const before = cron.previousRuns(includeAt ? n - 1 : n, at);
      return [...before.reverse(), ...(includeAt ? [atOrAfter] : [])];
    },
    between(from, to, limit = 10_000) {
      const out: Date[] = [];
      let t = cron.nextRun(from);
      while (t && t <= to && out.length < limit) {
        out.push(t);
        t = cron.nextRun(t);
      }
      return out;
    },
  };
}
