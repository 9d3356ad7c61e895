/**
 * A DAG's grid (Airflow's grid view): runs as columns, oldest left, tasks as rows, each cell the
 * task instance's state; click through to the run. Paginated.
 *
 * @example
 * ```tsx
 * <GridPage dagId="example" runs={runs} tis={tis} taskIds={["extract"]} page={0} pageSize={25} />
 * ```
 */
import type { FC } from "hono/jsx";
import type { DagRun, TaskInstance } from "../../runner/store/types.ts";
import { Layout, Square, STATE_COLOUR, StateBadge } from "./layout.tsx";

export const GridPage: FC<
  {
    dagId: string;
    runs: DagRun[];
    tis: TaskInstance[];
    taskIds: string[];
    page: number;
    pageSize: number;
  }
> = (p) => {
  const runs = p.runs.slice().reverse();
  const cell = new Map(
    p.tis.filter((t) => t.mapIndex === -1).map((t) => [`${t.runId}|${t.taskId}`, t.state]),
  );
  const base = `/dags/${encodeURIComponent(p.dagId)}`;
  return (
    <Layout title={p.dagId}>
      <h1>{p.dagId}</h1>
      <p>
        <a href={`${base}/trigger`}>trigger a run</a>
      </p>
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
                {runs.map((r) => (
                  <td>
                    <Square
                      state={cell.get(`${r.id}|${id}`) ?? null}
                      href={`/runs/${r.id}#task-${id}`}
                      title={id}
                    />
                  </td>
                ))}
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
            <th>ended</th>
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
              <td>{r.startDate?.toISOString() ?? "-"}</td>
              <td>{r.endDate?.toISOString() ?? "-"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
};
