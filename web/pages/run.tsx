/**
 * A run: its graph as it ran, every task instance with its tries, durations, errors and log links,
 * the XComs, and clear buttons. While the run is active the page follows it through server-sent
 * events and reloads when it changes.
 *
 * @example
 * ```tsx
 * <RunPage run={run} structure={structure} tis={tis} tries={tries} xcoms={xcoms} />
 * ```
 */
import type { FC } from "hono/jsx";
import { raw } from "hono/html";
import { formatDuration } from "../../runner/duration.ts";
import type { DagStructure } from "../../runner/structure.ts";
import type { DagRun, TaskInstance, TaskTry, XcomRecord } from "../../runner/store/types.ts";
import { RunGraph } from "./graph.tsx";
import { Layout, StateBadge } from "./layout.tsx";

const FOLLOW = `
const es = new EventSource(location.pathname + "/events");
let first = null;
es.onmessage = (e) => { if (first === null) first = e.data; else if (e.data !== first) location.reload(); };
`;

function preview(x: XcomRecord): string {
  if (x.artifact) return `(${x.sizeBytes} bytes in artifact ${x.artifact})`;
  const text = JSON.stringify(x.value);
  return text.length > 300 ? text.slice(0, 300) + "…" : text;
}

export const RunPage: FC<
  {
    run: DagRun;
    structure: DagStructure | null;
    tis: TaskInstance[];
    tries: TaskTry[];
    xcoms: XcomRecord[];
  }
> = (p) => {
  const states = Object.fromEntries(
    p.tis.filter((t) => t.mapIndex === -1).map((t) => [t.taskId, t.state]),
  );
  const active = p.run.state === "queued" || p.run.state === "running";
  // task instances in run order (the DAG's declaration order: every task after its dependencies)
  const order = new Map((p.structure?.tasks ?? []).map((t, i) => [t.id, i]));
  const tis = [...p.tis].sort((a, b) =>
    (order.get(a.taskId) ?? order.size) - (order.get(b.taskId) ?? order.size) ||
    (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0) || a.mapIndex - b.mapIndex
  );
  return (
    <Layout title={`run ${p.run.id}`}>
      <h1>
        <a href={`/dags/${encodeURIComponent(p.run.dagId)}`}>{p.run.dagId}</a> · run {p.run.id}{" "}
        <StateBadge state={p.run.state} />
      </h1>
      <p class="muted">
        {p.run.runType} · logical date {p.run.logicalDate.toISOString()} · interval{" "}
        {p.run.dataIntervalStart.toISOString()} → {p.run.dataIntervalEnd.toISOString()}
      </p>
      <details class="json" open={Object.keys(p.run.params).length <= 4 ? true : undefined}>
        <summary>params ({Object.keys(p.run.params).length})</summary>
        <pre class="json">{JSON.stringify(p.run.params, null, 2)}</pre>
      </details>
      <details class="json">
        <summary>conf ({Object.keys(p.run.conf).length})</summary>
        <pre class="json">{JSON.stringify(p.run.conf, null, 2)}</pre>
      </details>
      {p.structure ? <RunGraph structure={p.structure} states={states} runId={p.run.id} /> : null}
      <h2>Task instances</h2>
      <table>
        <thead>
          <tr>
            <th>task</th>
            <th>map</th>
            <th>state</th>
            <th>tries</th>
            <th>duration</th>
            <th>host</th>
            <th>error</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {tis.map((t) => {
            const tries = p.tries.filter((x) => x.taskId === t.taskId && x.mapIndex === t.mapIndex);
            return (
              <tr id={t.mapIndex === -1 ? `task-${t.taskId}` : undefined}>
                <td>{t.taskId}</td>
                <td>{t.mapIndex >= 0 ? t.mapIndex : ""}</td>
                <td>
                  <StateBadge state={t.state} />
                </td>
                <td>
                  {tries.map((x) => (
                    <a
                      href={`/runs/${p.run.id}/tasks/${
                        encodeURIComponent(t.taskId)
                      }/logs?try=${x.tryNumber}`}
                    >
                      {`${x.tryNumber}:${x.state} `}
                    </a>
                  ))}
                </td>
                <td>{t.durationMs === null ? "" : formatDuration(t.durationMs)}</td>
                <td>{t.hostname ?? ""}</td>
                <td class="error">{(t.error ?? "").split("\n")[0].slice(0, 200)}</td>
                <td>
                  {t.mapIndex === -1
                    ? (
                      <form class="inline" method="post" action={`/runs/${p.run.id}/clear`}>
                        <input type="hidden" name="task" value={t.taskId} />
                        <button class="secondary" type="submit">clear</button>
                      </form>
                    )
                    : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p>
        <form class="inline" method="post" action={`/runs/${p.run.id}/clear`}>
          <input type="hidden" name="failed" value="true" />
          <button type="submit">retry failed tasks</button>
        </form>
      </p>
      <h2>XCom</h2>
      <table>
        <thead>
          <tr>
            <th>task</th>
            <th>map</th>
            <th>value</th>
          </tr>
        </thead>
        <tbody>
          {p.xcoms.map((x) => (
            <tr>
              <td>{x.taskId}</td>
              <td>{x.mapIndex >= 0 ? x.mapIndex : ""}</td>
              <td>
                <code>{preview(x)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {active ? <script>{raw(FOLLOW)}</script> : null}
    </Layout>
  );
};

export const LogsPage: FC<
  {
    runId: number;
    taskId: string;
    tryNumber: number | null;
    lines: { ts: Date; stream: string; line: string; mapIndex: number }[];
  }
> = (p) => (
  <Layout title={`log ${p.taskId}`}>
    <h1>
      <a href={`/runs/${p.runId}`}>run {p.runId}</a> · {p.taskId} · try {p.tryNumber ?? "latest"}
    </h1>
    <pre>{p.lines.map((l) => `${l.ts.toISOString()} ${l.mapIndex >= 0 ? `[${l.mapIndex}] ` : ""}${l.stream === "log" ? "" : `${l.stream}: `}${l.line}\n`).join("")}</pre>
  </Layout>
);
