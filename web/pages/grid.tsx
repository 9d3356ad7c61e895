/**
 * A DAG's grid (Airflow's grid view): runs as columns, oldest left, tasks as rows, each cell the
 * task instance's state with a bar whose length is its duration relative to the longest in view;
 * click through to the run. A summary line counts the runs shown by state with their median
 * duration; the runs table gives durations and relative start times. Paginated.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * import { dag } from "../../runner/dag.ts";
 * import { Executor } from "../../runner/executor.ts";
 * import { createDagRun } from "../../runner/runs.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { GridPage } from "./grid.tsx";
 * const etl = dag({ id: "etl" }).task("extract", { run: () => 1 });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const run = await createDagRun(store, etl);
 *   await new Executor({ store, artifacts: new LocalArtifactStore(dir) }).runToEnd(etl, run.id);
 *   const runs = await store.listRuns("etl");
 *   const tis = await store.taskInstancesOfRuns(runs.map((r) => r.id));
 *   const html = String(
 *     <GridPage dagId="etl" runs={runs} tis={tis} taskIds={["extract"]} page={0} pageSize={25} />,
 *   );
 *   assert.match(html, /<table class="grid">/);
 *   assert.match(html, /1 run shown · 1 success/);
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { FC } from "hono/jsx";
import { median } from "simple-statistics";
import { formatDuration } from "../../runner/duration.ts";
import type { DagRun, TaskInstance } from "../../runner/store/types.ts";
import { Layout, Square, STATE_COLOUR, StateBadge } from "./layout.tsx";

/** Widest duration bar in a grid cell, in pixels. */
const BAR_PX = 32;

/** Milliseconds a run took (so far, when it is still running), or null before it started. */
export function runDurationMs(r: DagRun, now: Date): number | null {
  if (!r.startDate) return null;
  return (r.endDate ?? now).getTime() - r.startDate.getTime();
}

/**
 * `then` relative to `now` as a person says it: "just now", "3 min ago", "2 h ago", "5 d ago"
 * (or "in 3 min" for a time ahead).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { relativeTime } from "./grid.tsx";
 * assert.equal(relativeTime(new Date(0), new Date(180_000)), "3 min ago");
 * assert.equal(relativeTime(new Date(180_000), new Date(0)), "in 3 min");
 * assert.equal(relativeTime(new Date(0), new Date(10_000)), "just now");
 * ```
 */
export function relativeTime(then: Date, now: Date): string {
  const s = Math.round((now.getTime() - then.getTime()) / 1000);
  const a = Math.abs(s);
  const text = a < 45
    ? null
    : a < 3600
    ? `${Math.round(a / 60)} min`
    : a < 86_400
    ? `${Math.round(a / 3600)} h`
    : `${Math.round(a / 86_400)} d`;
  if (text === null) return "just now";
  return s >= 0 ? `${text} ago` : `in ${text}`;
}

/** The summary line: how many runs are shown, by state, and their median duration. */
function summary(runs: DagRun[], now: Date): string {
  const count = (s: string) => runs.filter((r) => r.state === s).length;
  const done = runs.filter((r) => r.startDate && r.endDate).map((r) => runDurationMs(r, now)!);
  const parts = [
    `${runs.length} run${runs.length === 1 ? "" : "s"} shown`,
    `${count("success")} success`,
    `${count("failed")} failed`,
    `${count("running")} running`,
  ];
  if (count("queued") > 0) parts.push(`${count("queued")} queued`);
  parts.push(
    done.length === 0 ? "median duration -" : `median duration ${formatDuration(median(done))}`,
  );
  return parts.join(" · ");
}

export const GridPage: FC<
  {
    dagId: string;
    runs: DagRun[];
    tis: TaskInstance[];
    taskIds: string[];
    page: number;
    pageSize: number;
    /** The time relative times are measured from (now by default). */
    now?: Date;
  }
> = (p) => {
  const now = p.now ?? new Date();
  const runs = p.runs.slice().reverse();
  const tis = p.tis.filter((t) => t.mapIndex === -1);
  const cell = new Map(tis.map((t) => [`${t.runId}|${t.taskId}`, t]));
  const longest = Math.max(0, ...tis.map((t) => t.durationMs ?? 0));
  const base = `/dags/${encodeURIComponent(p.dagId)}`;
  return (
    <Layout title={p.dagId}>
      <h1>{p.dagId}</h1>
      <p>
        <a href={`${base}/trigger`}>trigger a run</a>
      </p>
      {runs.length === 0 ? null : <p class="summary">{summary(p.runs, now)}</p>}
      {runs.length === 0 ? <p class="muted">No runs yet.</p> : (
        <table class="grid">
          <thead>
            <tr>
              <th></th>
              {runs.map((r) => (
                <th>
                  <a href={`/runs/${r.id}`}>{`#${r.id}`}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <td class="muted">run</td>
              {runs.map((r) => (
                <td>
                  <Square state={r.state} href={`/runs/${r.id}`} title={`run ${r.id}`} />
                </td>
              ))}
            </tr>
            {p.taskIds.map((id) => (
              <tr>
                <td>{id}</td>
                {runs.map((r) => {
                  const ti = cell.get(`${r.id}|${id}`);
                  const ms = ti?.durationMs ?? null;
                  const width = ms === null || longest === 0
                    ? 0
                    : Math.max(1, Math.round((ms / longest) * BAR_PX));
                  const took = ms === null ? "" : ` · ${formatDuration(ms)}`;
                  return (
                    <td style="white-space:nowrap">
                      <Square
                        state={ti?.state ?? null}
                        href={`/runs/${r.id}#task-${id}`}
                        title={`${id}${took}`}
                      />
                      <span
                        class="bar"
                        title={ms === null ? `${id}: no duration` : `${id}: ${formatDuration(ms)}`}
                        style={`display:inline-block;vertical-align:middle;height:6px;margin-left:2px;width:${width}px;max-width:${BAR_PX}px;background:${
                          STATE_COLOUR[ti?.state ?? "none"] ?? "#999"
                        };opacity:0.6`}
                      />
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {runs.length === 0 ? null : (
        <p class="legend" aria-label="state colours">
          {Object.entries(STATE_COLOUR).map(([state, colour]) => (
            <span style="margin-right:10px;font-size:12px">
              <span class="sq" style={`background:${colour}`}></span>
              {state}
            </span>
          ))}
        </p>
      )}
      <div class="pager">
        {p.page > 0 ? <a href={`${base}?page=${p.page - 1}`}>newer</a> : null}{" "}
        {p.runs.length === p.pageSize ? <a href={`${base}?page=${p.page + 1}`}>older</a> : null}
      </div>
      <h2>Runs</h2>
      <table>
        <thead>
          <tr>
            <th>run</th>
            <th>state</th>
            <th>type</th>
            <th>logical date</th>
            <th>started</th>
            <th>duration</th>
          </tr>
        </thead>
        <tbody>
          {p.runs.map((r) => (
            <tr>
              <td>
                <a href={`/runs/${r.id}`}>{r.id}</a>
              </td>
              <td>
                <StateBadge state={r.state} />
              </td>
              <td>{r.runType}</td>
              <td>{r.logicalDate.toISOString()}</td>
              <td>
                {r.startDate
                  ? (
                    <time datetime={r.startDate.toISOString()} title={r.startDate.toISOString()}>
                      {relativeTime(r.startDate, now)}
                    </time>
                  )
                  : "-"}
              </td>
              <td>
                {(() => {
                  const ms = runDurationMs(r, now);
                  if (ms === null) return "-";
                  return r.endDate ? formatDuration(ms) : `${formatDuration(ms)} so far`;
                })()}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
};
