/**
 * The banner on every page saying whether a scheduler and workers are alive, and — when one is
 * missing — what will (not) pick queued runs up and the command that would.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { LivenessBanner } from "./liveness.tsx";
 * const live = { schedulers: [], workers: [] }; // liveness(db) with no scheduler running
 * const html = String(<LivenessBanner live={live} queued={3} store="pglite" />);
 * assert.match(html, /role="alert"/);
 * assert.match(html, /No scheduler is running: restart this server with `deno task serve --sch/);
 * assert.match(html, /3 queued runs will stay queued until then/);
 * ```
 */
import type { FC } from "hono/jsx";
import type { LiveProcess } from "../../runner/liveness.ts";

/** What the banner says: its tone and its text. */
export function livenessMessage(
  live: { schedulers: LiveProcess[]; workers: LiveProcess[] },
  queued: number,
  store: "pglite" | "postgres",
): { tone: "ok" | "warn"; text: string } {
  const waiting = queued === 0
    ? ""
    : ` ${queued} queued run${queued === 1 ? "" : "s"} will stay queued until then.`;
  if (live.schedulers.length === 0) {
    const start = store === "pglite"
      ? "restart this server with `deno task serve --scheduler` (on PGlite the scheduler must run " +
        "in this process)"
      : "start `deno task scheduler` and `deno task worker`, or `deno task serve --scheduler`";
    return { tone: "warn", text: `No scheduler is running: ${start}.${waiting}` };
  }
  if (live.workers.length === 0) {
    return {
      tone: "warn",
      text: `A scheduler is running but no worker: tasks wait for \`deno task worker\`.${waiting}`,
    };
  }
  const leader = live.schedulers.find((s) => s.status === "leading") ?? live.schedulers[0];
  return {
    tone: "ok",
    text: `Scheduler ${leader.status || "running"} on ${leader.hostname} (pid ${leader.pid})` +
      (live.schedulers.length > 1 ? ` + ${live.schedulers.length - 1} standing by` : "") +
      ` · ${live.workers.length} worker${live.workers.length === 1 ? "" : "s"} alive`,
  };
}

export const LivenessBanner: FC<{
  live: { schedulers: LiveProcess[]; workers: LiveProcess[] };
  queued: number;
  store: "pglite" | "postgres";
}> = (p) => {
  const m = livenessMessage(p.live, p.queued, p.store);
  return (
    <div
      id="liveness"
      role={m.tone === "warn" ? "alert" : "status"}
      class={`liveness ${m.tone}`}
      style={m.tone === "warn"
        ? "background:#fff4e5;border:1px solid #f0b429;color:#7a4a00;padding:8px 12px;margin:0 0 12px"
        : "color:#1b5e20;font-size:12px;margin:0 0 8px"}
    >
      {`${m.tone === "warn" ? "⚠" : "●"} ${m.text}`}
    </div>
  );
};
