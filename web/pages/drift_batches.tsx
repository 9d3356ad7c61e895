/**
 * The drift page's table of batches, newest first, as `deno task monitoring` prints them: severity,
 * action (promoted or kept), champion, AUC reference/realized/estimated, significant changes,
 * injected drift and links to each batch's HTML and JSON reports, with the reasons, the verdicts
 * before and after the labels and the sequential alarms under each batch.
 *
 * @example
 * ```tsx
 * import { BatchTable } from "./drift_batches.tsx";
 * import type { DriftRow } from "../services/monitoring_data.ts";
 *
 * const section = (rows: DriftRow[]) => <BatchTable rows={rows} />; // rows: latestPass(driftRows(…))
 * ```
 */
import type { FC } from "hono/jsx";
import type { DriftRow } from "../services/monitoring_data.ts";
import { actionText, fmtInterval, SEVERITY_COLOUR } from "./drift_format.ts";

/** "why:" and the first reason (as `deno task monitoring` prints it), the rest behind a disclosure. */
const Reasons: FC<{ reasons: string[] }> = ({ reasons }) =>
  reasons.length === 0 ? <span class="muted">–</span> : reasons.length === 1
    ? (
      <span>
        <span class="muted">why:</span> {reasons[0]}
      </span>
    )
    : (
      <details>
        <summary>
          <span class="muted">why:</span> {reasons[0]}{" "}
          <span class="muted">(+{reasons.length - 1} more)</span>
        </summary>
        <ul style="margin:4px 0;padding-left:18px">
          {reasons.slice(1).map((x, k) => <li key={k}>{x}</li>)}
        </ul>
      </details>
    );

const AucCell: FC<{ v: number | null; iv?: [number, number] | null; none?: string }> = (
  { v, iv, none },
) => (
  <td style="text-align:right;white-space:nowrap">
    {v === null ? <span class="muted" style="font-size:12px">{none ?? "–"}</span> : v.toFixed(3)}
    {iv ? <div class="muted" style="font-size:11px">{fmtInterval(iv)}</div> : null}
  </td>
);

/** The batches, newest first, each with its reasons on the row under it. */
export const BatchTable: FC<{ rows: DriftRow[] }> = ({ rows }) => (
  <>
    <style>
      {"table.batches{font-size:13px}table.batches th,table.batches td{padding:5px 7px}" +
        "table.batches tr.has-why td{border-bottom:0}"}
    </style>
    <div style="overflow-x:auto">
      <table class="batches">
        <thead>
          <tr>
            <th>batch</th>
            <th>from</th>
            <th>severity</th>
            <th>action</th>
            <th title="the champion's version when the batch was judged">champion</th>
            <th title="the champion's ROC AUC on its out-of-time holdout">AUC reference</th>
            <th title="the champion's ROC AUC on the batch's labels">AUC realized</th>
            <th title="estimated without labels, with its interval">AUC estimated</th>
            <th title="share of columns that drifted">drifted</th>
            <th title="columns, data-quality checks and the prediction that changed significantly">
              changed
            </th>
            <th title="ground truth: drift injected into the batch">injected</th>
            <th>report</th>
          </tr>
        </thead>
        <tbody>
          {[...rows].reverse().map((r) => {
            const auc = r.metrics.roc_auc;
            const why = r.reasons.length > 0 || r.verdicts.length > 1 ||
              r.sequentialAlarms.length > 0;
            const main = (
              <tr key={`b${r.id}`} class={why ? "has-why" : ""}>
                <td>
                  <a href={`/runs/${r.runId}`} title={`${r.rows} rows; its run`}>
                    {r.batch}
                  </a>
                </td>
                <td style="white-space:nowrap">{r.from?.slice(0, 10) ?? ""}</td>
                <td>
                  {r.severity
                    ? (
                      <span
                        class="state"
                        title={r.errorRate ?? ""}
                        style={`background:${SEVERITY_COLOUR[r.severity] ?? "#999"}`}
                      >
                        {r.severity}
                      </span>
                    )
                    : null}
                </td>
                <td class="action">{actionText(r)}</td>
                <td style="white-space:nowrap" title={r.model ?? ""}>
                  {r.championVersion === null ? "" : `v${r.championVersion}`}
                </td>
                <AucCell v={auc?.reference ?? null} iv={auc?.referenceInterval} />
                <AucCell v={auc?.realized ?? null} none="no labels yet" />
                <AucCell v={auc?.estimated ?? null} iv={auc?.estimatedInterval} />
                <td>
                  {r.driftedShare === null ? "" : `${(r.driftedShare * 100).toFixed(0)}%`}
                </td>
                <td>{r.driftedColumns.join(", ")}</td>
                <td>{r.injected.join(", ")}</td>
                <td>
                  {r.reportHtml ? <a href={`/artifacts/${r.reportHtml}?type=html`}>HTML</a> : null}
                  {" "}
                  {r.reportJson ? <a href={`/artifacts/${r.reportJson}?type=json`}>JSON</a> : null}
                </td>
              </tr>
            );
            // the reasons under their batch, across the table (they are sentences)
            return why
              ? [
                main,
                <tr key={`r${r.id}`} class="reasons-row">
                  <td></td>
                  <td colspan={11} class="reasons" style="font-size:13px;padding-top:0">
                    <Reasons reasons={r.reasons} />
                    {r.verdicts.length > 1
                      ? (
                        <div class="verdicts">
                          {r.verdicts.map((v, k) => (
                            <span key={k} style="margin-right:14px">
                              <span class="muted">
                                {v.kind === "labels"
                                  ? "when its labels landed:"
                                  : "when the batch came (no labels):"}
                              </span>{" "}
                              {`${v.severity} → ${v.action}`}
                            </span>
                          ))}
                        </div>
                      )
                      : null}
                    {r.sequentialAlarms.length > 0
                      ? (
                        <div class="sequential-alarms">
                          <span class="muted">sequential alarm:</span>{" "}
                          {r.sequentialAlarms.join(", ")}
                        </div>
                      )
                      : null}
                    {r.errorRate
                      ? (
                        <div class="muted error-rate">
                          {`the grade's error rate: ${r.errorRate}`}
                        </div>
                      )
                      : null}
                  </td>
                </tr>,
              ]
              : main;
          })}
        </tbody>
      </table>
    </div>
  </>
);
