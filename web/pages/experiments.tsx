/**
 * The experiments page: the runs of each DAG that declares an experiment (`experiment: {
 * summaryTask }` in its options), each with the HTML report and the CSV its summary task stored,
 * and the latest run's report inline (sandboxed).
 *
 * @example
 * ```tsx
 * import { ExperimentsPage } from "./experiments.tsx";
 * import { experimentsWithRuns } from "../services/experiments.ts";
 * import type { WebDeps } from "../services/deps.ts";
 *
 * const page = async (deps: WebDeps) => (
 *   <ExperimentsPage experiments={await experimentsWithRuns(deps)} />
 * );
 * ```
 */
import type { FC } from "hono/jsx";
import type { Experiment, ExperimentRun } from "../services/experiments.ts";
import { Layout } from "./layout.tsx";

type Listed = Experiment & { runs: ExperimentRun[] };

const RunsTable: FC<{ runs: ExperimentRun[] }> = ({ runs }) => (
  <table>
    <thead>
      <tr>
        <th>run</th>
        <th>when</th>
        <th>cells</th>
        <th>heatmaps</th>
        <th>CSV</th>
      </tr>
    </thead>
    <tbody>
      {runs.map((r) => (
        <tr>
          <td>
            <a href={`/runs/${r.runId}`}>{r.runId}</a>
          </td>
          <td>{r.at.replace("T", " ").slice(0, 19)}</td>
          <td>{r.cells}</td>
          <td>
            {r.artifact ? <a href={`/artifacts/${r.artifact}?type=html`}>report (HTML)</a> : ""}
          </td>
          <td>
            {r.cells ? <a href={`/experiments/${r.runId}/summary.csv`}>summary.csv</a> : ""}
            {r.csv ? <div class="muted" style="font-size:11px">{r.csv}</div> : null}
          </td>
        </tr>
      ))}
    </tbody>
  </table>
);

/** One experiment: its runs, the latest run's report; headings one level under `top`. */
const ExperimentSection: FC<{ e: Listed; top: boolean }> = ({ e, top }) => {
  const latest = e.runs[0];
  return (
    <section>
      {top ? <h1>{e.title}</h1> : <h2>{e.title}</h2>}
      {e.description ? <p class="muted">{e.description}</p> : null}
      {e.runs.length === 0
        ? (
          <p class="muted">
            No experiment yet: <code>deno task run {e.dagId}</code>.
          </p>
        )
        : (
          <div>
            <RunsTable runs={e.runs} />
            {latest.artifact
              ? (
                <div>
                  {top ? <h2>Latest: run {latest.runId}</h2> : <h3>Latest: run {latest.runId}</h3>}
                  <iframe
                    src={`/artifacts/${latest.artifact}?type=html`}
                    sandbox=""
                    style="width:100%;height:900px;border:1px solid #e5e8ec;background:#fff"
                    title={`${e.title}: report of run ${latest.runId}`}
                  >
                  </iframe>
                </div>
              )
              : null}
          </div>
        )}
    </section>
  );
};

export const ExperimentsPage: FC<{ experiments: Listed[] }> = ({ experiments }) => (
  <Layout title="Experiments">
    {experiments.length === 1 ? <ExperimentSection e={experiments[0]} top /> : (
      <div>
        <h1>Experiments</h1>
        {experiments.length === 0
          ? (
            <p class="muted">
              No DAG declares an experiment. A DAG that does (<code>
                experiment: {"{"} summaryTask: "…" {"}"}
              </code>{" "}
              in its options, naming the task whose return value summarises a run) has its runs
              listed here.
            </p>
          )
          : experiments.map((e) => <ExperimentSection key={e.dagId} e={e} top={false} />)}
      </div>
    )}
  </Layout>
);
