/**
 * The DAGs page: each DAG's schedule, next run, its last runs as coloured squares, and pause.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { syncDag } from "../../runner/cli/common.ts";
 * import { dag } from "../../runner/dag.ts";
 * import { createDagRun } from "../../runner/runs.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { DagsPage } from "./dags.tsx";
 * const store = await openStore({ memory: true });
 * try {
 *   const etl = dag({ id: "etl", schedule: "@daily" }).task("extract", { run: () => 1 });
 *   await syncDag(store, etl); // what loading the dags/ folder does
 *   const run = await createDagRun(store, etl);
 *   const records = await store.listDags();
 *   const recent = new Map([["etl", await store.listRuns("etl")]]);
 *   const next = new Map([["etl", new Date("2026-01-02T00:00:00Z")]]);
 *   const html = String(<DagsPage dags={records} recent={recent} next={next} />);
 *   assert.match(html, /etl/);
 *   assert.match(html, new RegExp(`href="/runs/${run.id}"`)); // a square per recent run
 * } finally {
 *   await store.close();
 * }
 * ```
 */
import type { FC } from "hono/jsx";
import type { DagRecord, DagRun } from "../../runner/store/types.ts";
import { Layout, Square, StateBadge } from "./layout.tsx";

export const DagsPage: FC<
  { dags: DagRecord[]; recent: Map<string, DagRun[]>; next: Map<string, Date | null> }
> = (
  p,
) => (
  <Layout title="DAGs">
    <h1>DAGs</h1>
    <table>
      <thead>
        <tr>
          <th>DAG</th>
          <th>schedule</th>
          <th>next run</th>
          <th>last runs</th>
          <th>last state</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        {p.dags.map((d) => (
          <tr>
            <td>
              <a href={`/dags/${encodeURIComponent(d.dagId)}`}>{d.dagId}</a>
              {d.description ? <div class="muted">{d.description}</div> : null}
            </td>
            <td>{d.schedule ?? <span class="muted">manual</span>}</td>
            <td>
              {d.isPaused
                ? <span class="muted">paused</span>
                : p.next.get(d.dagId)?.toISOString() ?? "-"}
            </td>
            <td>
              {(p.recent.get(d.dagId) ?? []).slice().reverse().map((r) => (
                <Square
                  state={r.state}
                  href={`/runs/${r.id}`}
                  title={`run ${r.id} ${r.logicalDate.toISOString()}`}
                />
              ))}
            </td>
            <td>{d.lastRunState ? <StateBadge state={d.lastRunState} /> : "-"}</td>
            <td>
              <a href={`/dags/${encodeURIComponent(d.dagId)}/trigger`}>trigger</a>{" "}
              <form
                class="inline"
                method="post"
                action={`/dags/${encodeURIComponent(d.dagId)}/pause`}
              >
                <input type="hidden" name="paused" value={d.isPaused ? "false" : "true"} />
                <button class="secondary" type="submit">{d.isPaused ? "unpause" : "pause"}</button>
              </form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  </Layout>
);
