/**
 * A run: its graph as it ran, every task instance with its tries, durations, errors and log links,
 * params, conf and XComs as formatted JSON (run ids and artifact keys that exist are links), and
 * clear buttons. While the run is active the page follows it through server-sent
 * events and reloads when it changes.
 *
 * @example
 * ```tsx
 * import { RunPage } from "./run.tsx";
 * import type { DagRun } from "../../runner/store/types.ts";
 * import type { Store } from "../../runner/store/store.ts";
 *
 * async function page(store: Store, run: DagRun) {
 *   const [tis, tries, xcoms, structure] = await Promise.all([
 *     store.taskInstances(run.id),
 *     store.tries(run.id),
 *     store.xcoms(run.id),
 *     store.structure(run.structureHash),
 *   ]);
 *   return <RunPage run={run} structure={structure} tis={tis} tries={tries} xcoms={xcoms} />;
 * }
 * ```
 */
import type { FC } from "hono/jsx";
import { raw } from "hono/html";
import { formatDuration } from "../../runner/duration.ts";
import type { DagStructure } from "../../runner/structure.ts";
import type { DagRun, TaskInstance, TaskTry, XcomRecord } from "../../runner/store/types.ts";
import type { RunLinks } from "../services/runs.ts";
import { RunGraph } from "./graph.tsx";
import { artifactHref, LinkedJson } from "./linked_json.tsx";
import { Layout, StateBadge } from "./layout.tsx";

const FOLLOW = `
const es = new EventSource(location.pathname + "/events");
let first = null;
es.onmessage = (e) => { if (first === null) first = e.data; else if (e.data !== first) location.reload(); };
`;

/** An XCom's value on one line, cut at 300 characters. */
function preview(x: XcomRecord): string {
  const text = JSON.stringify(x.value) ?? "null";
  return text.length > 300 ? text.slice(0, 300) + "…" : text;
}

/** Over this many characters an XCom is shown cut, not formatted (a page stays small). */
const MAX_FORMATTED = 100_000;

const XcomValue: FC<{ x: XcomRecord; links: RunLinks }> = ({ x, links }) => {
  if (x.artifact) {
    return (
      <code>
        ({x.sizeBytes} bytes in artifact {links.artifacts.has(x.artifact)
          ? <a class="artifact-link" href={artifactHref(x.artifact)}>{x.artifact}</a>
          : x.artifact})
      </code>
    );
  }
  const text = JSON.stringify(x.value) ?? "null";
  if (text.length > MAX_FORMATTED) return <code>{preview(x)}</code>;
  if (text.length <= 80) return <LinkedJson value={x.value} links={links} />;
  return (
    <details class="json">
      <summary>
        <code>{preview(x).slice(0, 80)}…</code>
      </summary>
      <LinkedJson value={x.value} links={links} />
    </details>
  );
};

const NO_LINKS: RunLinks = { runs: new Set(), artifacts: new Set() };

export const RunPage: FC<
  {
    run: DagRun;
    structure: DagStructure | null;
    tis: TaskInstance[];
    tries: TaskTry[];
    xcoms: XcomRecord[];
    /** The run ids and artifact keys on the page that exist (see `runLinks`); none: all text. */
    links?: RunLinks;
  }
> = (p) => {
  const links = p.links ?? NO_LINKS;
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
        {p.run.triggeredBy
          ? (
            <>
              {" · triggered by "}
              {links.runs.has(p.run.triggeredBy.runId)
                ? (
                  <a class="run-link" href={`/runs/${p.run.triggeredBy.runId}`}>
                    run {p.run.triggeredBy.runId}
                  </a>
                )
                : `run ${p.run.triggeredBy.runId}`}
              {` (task ${p.run.triggeredBy.taskId})`}
            </>
          )
          : null}
      </p>
      <details class="json" open={Object.keys(p.run.params).length <= 4 ? true : undefined}>
        <summary>params ({Object.keys(p.run.params).length})</summary>
        <LinkedJson value={p.run.params} links={links} />
      </details>
      <details class="json">
        <summary>conf ({Object.keys(p.run.conf).length})</summary>
        <LinkedJson value={p.run.conf} links={links} />
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
                <XcomValue x={x} links={links} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {active ? <script>{raw(FOLLOW)}</script> : null}
    </Layout>
  );
};

/**
 * A task's log: a tab per try (try 1, try 2, …; the latest selected unless `?try=` names one), the
 * selected try's state, host and start in the tab's header, and each line with its timestamp.
 *
 * @example
 * ```tsx
 * import { LogsPage } from "./run.tsx";
 * import type { Store } from "../../runner/store/store.ts";
 *
 * const page = async (store: Store) => (
 *   <LogsPage
 *     runId={1}
 *     taskId="extract"
 *     tryNumber={null}
 *     tries={await store.tries(1, "extract")}
 *     lines={await store.logs(1, "extract")}
 *   />
 * );
 * ```
 */
export const LogsPage: FC<
  {
    runId: number;
    taskId: string;
    /** The try asked for; null for the latest. */
    tryNumber: number | null;
    /** Every try of the task (each map index), oldest first. */
    tries: TaskTry[];
    lines: { ts: Date; stream: string; line: string; mapIndex: number; tryNumber?: number }[];
  }
> = (p) => {
  const numbers = [...new Set(p.tries.map((t) => t.tryNumber))].sort((a, b) => a - b);
  const selected = p.tryNumber ?? p.lines[0]?.tryNumber ?? numbers.at(-1) ?? null;
  const ofTry = p.tries.filter((t) => t.tryNumber === selected);
  const hosts = [...new Set(ofTry.map((t) => t.hostname ?? "unknown host"))];
  const base = `/runs/${p.runId}/tasks/${encodeURIComponent(p.taskId)}/logs`;
  const tabStyle = (on: boolean) =>
    `display:inline-block;padding:4px 12px;margin-right:4px;border:1px solid #ccc;` +
    `border-bottom:none;border-radius:4px 4px 0 0;text-decoration:none;` +
    (on ? "background:#fff;font-weight:bold;color:#111" : "background:#eceff1;color:#1565c0");
  return (
    <Layout title={`log ${p.taskId}`}>
      <h1>
        <a href={`/runs/${p.runId}`}>run {p.runId}</a> · {p.taskId} · try {selected ?? "latest"}
      </h1>
      <div class="tabs" role="tablist" aria-label="tries" style="border-bottom:1px solid #ccc">
        {numbers.map((n) => {
          const t = p.tries.find((x) => x.tryNumber === n);
          return (
            <a
              class={n === selected ? "tab selected" : "tab"}
              href={`${base}?try=${n}`}
              aria-current={n === selected ? "page" : undefined}
              title={t ? `${t.state} on ${t.hostname ?? "unknown host"}` : undefined}
              style={tabStyle(n === selected)}
            >
              {`try ${n}`}
              {t
                ? (
                  <span style="margin-left:6px">
                    <StateBadge state={t.state} />{" "}
                    <span class="host" style="font-weight:normal;font-size:12px;color:#555">
                      {t.hostname ?? "unknown host"}
                    </span>
                  </span>
                )
                : null}
            </a>
          );
        })}
      </div>
      {selected === null
        ? <p class="muted">This task has not run yet.</p>
        : (
          <p class="try-header" style="margin-top:8px">
            try {selected} · host <strong class="host">{hosts.join(", ") || "unknown host"}</strong>
            {ofTry[0] ? ` · started ${ofTry[0].startDate.toISOString()}` : ""}
            {ofTry[0]?.durationMs != null ? ` · took ${formatDuration(ofTry[0].durationMs)}` : ""}
          </p>
        )}
      {selected !== null && p.lines.length === 0
        ? <p class="muted">No log lines for try {selected}.</p>
        : null}
      <pre class="log">{p.lines.map((l) => `${l.ts.toISOString()} ${l.mapIndex >= 0 ? `[${l.mapIndex}] ` : ""}${l.stream === "log" ? "" : `${l.stream}: `}${l.line}\n`).join("")}</pre>
    </Layout>
  );
};
