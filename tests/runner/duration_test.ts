import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "../../runner/duration.ts";
import { retryDelayMs } from "../../runner/retry.ts";
import { parseSchedule } from "../../runner/schedule.ts";

Deno.test("durations parse from the forms people write", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("10m"), 600_000);
  assert.equal(parseDuration("1h30m"), 5_400_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration(42), 42);
  assert.throws(() => parseDuration("10 minutes"), /invalid duration "10 minutes".*such as "30s"/);
  assert.throws(() => parseDuration(""), /invalid duration/);
  assert.throws(() => parseDuration(-1), /non-negative/);
  assert.equal(formatDuration(1500), "1.5 s");
});

Deno.test("retry delays: fixed, exponential, capped", () => {
  assert.equal(retryDelayMs({ retryDelay: "30s" }, 3), 30_000);
  const exp = { retryDelay: "30s", retryBackoff: "exponential", maxRetryDelay: "2m" } as const;
  assert.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(exp, n)), [
    30_000,
    60_000,
    120_000,
    120_000,
  ]);
});

Deno.test("schedules: presets, cron, time zones and bad expressions", () => {
  const hourly = parseSchedule("@hourly");
  assert.equal(
    hourly.next(new Date("2026-01-01T00:30:00Z"))?.toISOString(),
    "2026-01-01T01:00:00.000Z",
  );
  const paris = parseSchedule("0 2 * * *", "Europe/Paris");
  assert.equal(
    paris.next(new Date("2026-01-01T00:00:00Z"))?.toISOString(),
    "2026-01-01T01:00:00.000Z",
  );
  assert.equal(
    hourly.between(new Date("2026-01-01T00:00:00Z"), new Date("2026-01-01T03:00:00Z")).length,
    3,
  );
  assert.throws(() => parseSchedule("61 * * * *"), /invalid schedule "61 \* \* \* \*".*@hourly/);
});

Deno.test("schedules: the latest ticks at or before a time", () => {
  const s = parseSchedule("* * * * * *");
  const at = new Date("2026-01-01T00:00:05Z");
  assert.deepEqual(s.latest(2, at).map((d) => d.toISOString()), [
    "2026-01-01T00:00:04.000Z",
    "2026-01-01T00:00:05.000Z",
  ]);
  const mid = new Date("2026-01-01T00:00:05.500Z");
  assert.deepEqual(s.latest(2, mid).map((d) => d.toISOString()), [
    "2026-01-01T00:00:04.000Z",
    "2026-01-01T00:00:05.000Z",
  ]);
});
