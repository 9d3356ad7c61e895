/**
 * The experiments page: each drift_experiment run (the detection benchmark), with its tables and
 * heatmaps of power, false-positive rates, later periods and the stream protocol (the run's HTML
 * report, sandboxed) and its CSV.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { ExperimentsPage } from "./experiments.tsx";
 * // rows as web/services/monitoring_data.ts's experimentRuns(db) reads them
 * const at = "2026-01-01T12:00:00.000Z";
 * const runs = [{ runId: 3, at, artifact: null, cells: 24, csv: null }];
 * const html = String(<ExperimentsPage runs={runs} />);
 * assert.match(html, /<a href="\/runs\/3">3<\/a>/);
 * assert.match(html, /<a href="\/experiments\/3\/summary.csv">summary.csv<\/a>/);
 * assert.match(String(<ExperimentsPage runs={[]} />), /No experiment yet/);
 * ```
 */
import type { FC } from "hono/jsx";
import { Layout } from "./layout.tsx";

export const ExperimentsPage: FC<{
  runs: { runId: number; at: string; artifact: string | null; cells: number; csv: string | null }[];
}> = (p) => (
  <Layout title="Experiments">
    <h1>Drift detection benchmark</h1>
    {p.runs.length === 0
      ? (
        <p class="muted">
          No experiment yet: <code>deno task run drift_experiment</code> (the same benchmark as{" "}
          <code>deno task bench detection</code>).
        </p>
      )
      : (
        <div>
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
              {p.runs.map((r) => (
                <tr>
                  <td>
                    <a href={`/runs/${r.runId}`}>{r.runId}</a>
                  </td>
                  <td>{r.at.replace("T", " ").slice(0, 19)}</td>
                  <td>{r.cells}</td>
                  <td>
                    {r.artifact
                      ? <a href={`/artifacts/${r.artifact}?type=html`}>report (HTML)</a>
                      : ""}
                  </td>
                  <td>
                    {r.cells ? <a href={`/experiments/${r.runId}/summary.csv`}>summary.csv</a> : ""}
                    {r.csv ? <div class="muted" style="font-size:11px">{r.csv}</div> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {p.runs[0].artifact
            ? (
              <div>
                <h2>Latest: run {p.runs[0].runId}</h2>
                <p class="muted">
                  Power is coloured higher-is-better (red 0 % → green 100 %); false positives on
                  their own lower-is-better scale (green up to the stated 5 %, red from 25 %).
                </p>
                <iframe
                  src={`/artifacts/${p.runs[0].artifact}?type=html`}
                  sandbox=""
                  style="width:100%;height:900px;border:1px solid #e5e8ec;background:#fff"
                  title="experiment heatmaps"
                >
                </iframe>
              </div>
            )
            : null}
        </div>
      )}
  </Layout>
);
