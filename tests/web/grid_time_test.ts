// The grid's relative times and run durations.
import assert from "node:assert/strict";
import { relativeTime, runDurationMs } from "../../web/pages/grid.tsx";
import type { DagRun } from "../../runner/store/types.ts";

const now = new Date("2026-01-02T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);

Deno.test("relative times read as a person says them", () => {
  assert.equal(relativeTime(ago(10_000), now), "just now");
  assert.equal(relativeTime(ago(180_000), now), "3 min ago");
  assert.equal(relativeTime(ago(2 * 3_600_000), now), "2 h ago");
  assert.equal(relativeTime(ago(5 * 86_400_000), now), "5 d ago");
  assert.equal(relativeTime(ago(-180_000), now), "in 3 min");
});

Deno.test("a run's duration: end minus start, so far while running, none before it starts", () => {
  const run = (startDate: Date | null, endDate: Date | null) => ({ startDate, endDate }) as DagRun;
  assert.equal(runDurationMs(run(ago(5000), ago(2000)), now), 3000);
  assert.equal(runDurationMs(run(ago(5000), null), now), 5000);
  assert.equal(runDurationMs(run(null, null), now), null);
});
