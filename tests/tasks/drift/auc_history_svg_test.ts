import assert from "node:assert/strict";
import { type AucHistoryPoint, aucHistorySvg } from "../../../tasks/drift/auc_history_svg.tsx";
import { detectDrift } from "../../../tasks/drift/detect.ts";
import { renderDriftReportHtml } from "../../../tasks/drift/report_html.tsx";
import { aucHistory } from "../../../tasks/monitoring/auc_history.ts";
import type { MetricsRow } from "../../../tasks/monitoring/metrics_table.ts";

const HISTORY: AucHistoryPoint[] = [
  { batch: 0, estimated: 0.72, ciLow: 0.7, ciHigh: 0.74, realized: 0.71, alarms: [] },
  { batch: 1, estimated: 0.71, ciLow: 0.69, ciHigh: 0.73, realized: 0.64, alarms: [] },
  { batch: 2, estimated: 0.7, ciLow: 0.68, ciHigh: 0.72, realized: null, alarms: ["<col>"] },
  { batch: 3, estimated: 0.69, ciLow: 0.67, ciHigh: 0.71, realized: null, alarms: [] },
];

function report() {
  const ref = { x: Float64Array.from({ length: 300 }, (_, i) => i % 17) };
  return detectDrift(ref, ref);
}

Deno.test("auc history: the report charts estimated vs realized AUC with intervals, axes, legend, alarms", () => {
  const html = renderDriftReportHtml(report(), { title: "t", history: HISTORY });
  assert.match(html, /<h2>ROC AUC over the stream<\/h2>/);
  assert.match(html, /covariate shift only/);
  const svg = aucHistorySvg(HISTORY);
  assert.ok(html.includes(svg));
  assert.match(svg, /<g class="axes">/);
  assert.match(svg, />batch<\/text>/);
  assert.match(svg, />ROC AUC<\/text>/);
  assert.match(
    svg,
    /<g class="legend">.*estimated \(CBPE\) with interval.*realized.*sequential alarm/,
  );
  // the interval band runs over the 4 highs and back over the 4 lows
  const band = svg.match(/<path class="interval" d="([^"]+)"/)![1];
  assert.equal(band.split(/[ML]/).filter((s) => s.trim()).length, 8);
  // a point per estimate and per realized value; realized stops where labels have not landed
  assert.equal((svg.match(/: estimated 0\.\d{4}/g) ?? []).length, 4);
  assert.equal((svg.match(/: realized 0\.\d{4}/g) ?? []).length, 2);
  assert.match(svg, /batch 1: realized 0\.6400/);
  const realized = svg.match(/<path class="realized" d="([^"]+)"/)![1];
  assert.equal((realized.match(/[ML]/g) ?? []).length, 2);
  // one alarm mark, label escaped
  assert.equal((svg.match(/<g class="alarm">/g) ?? []).length, 1);
  assert.match(svg, /batch 2: sequential alarm \(&lt;col&gt;\)/);
  // y axis spans the values (0.64 … 0.74) with a margin, inside [0, 1]
  const ticks = [...svg.matchAll(/text-anchor="end">(0\.\d{3})</g)].map((m) => Number(m[1]));
  assert.ok(ticks[0] < 0.64 && ticks.at(-1)! > 0.74 && ticks.at(-1)! <= 1, String(ticks));
});

Deno.test("auc history: absent without history, and without any value, the report unchanged", () => {
  const r = report();
  const plain = renderDriftReportHtml(r, { title: "t" });
  assert.doesNotMatch(plain, /ROC AUC over the stream/);
  assert.equal(renderDriftReportHtml(r, { title: "t", history: [] }), plain);
  const empty = [{
    batch: 0,
    estimated: null,
    ciLow: null,
    ciHigh: null,
    realized: null,
    alarms: [],
  }];
  assert.equal(aucHistorySvg(empty), "");
  assert.equal(renderDriftReportHtml(r, { title: "t", history: empty }), plain);
  // one batch: a chart still (x centred), no division by zero
  const one = aucHistorySvg(HISTORY.slice(0, 1));
  assert.match(one, /<svg /);
  assert.doesNotMatch(one, /NaN|Infinity/);
});

function row(batch: number, metrics: Record<string, unknown>, details: Record<string, unknown>) {
  return { batch, metrics, details } as unknown as MetricsRow;
}

Deno.test("auc history: read from the stream's monitoring rows (latest pass, then this batch)", () => {
  const rows = [
    row(0, { roc_auc: { reference: 0.7, realized: 0.5, estimated: 0.5 } }, {}), // an older pass
    row(0, {
      roc_auc: { reference: 0.7, realized: 0.71, estimated: 0.72, estimatedInterval: [0.7, 0.74] },
    }, { sequential: { alarms: [] } }),
    row(1, { roc_auc: { reference: 0.7, realized: null } }, { sequential: { alarms: ["x"] } }),
    row(2, {}, {}), // a row written before estimates were recorded
  ];
  const current = { ...HISTORY[3], batch: 3 };
  assert.deepEqual(aucHistory(rows, current), [
    { batch: 0, estimated: 0.72, ciLow: 0.7, ciHigh: 0.74, realized: 0.71, alarms: [] },
    { batch: 1, estimated: null, ciLow: null, ciHigh: null, realized: null, alarms: ["x"] },
    { batch: 2, estimated: null, ciLow: null, ciHigh: null, realized: null, alarms: [] },
    current,
  ]);
  // a restart: the current batch 1 follows the stored batches 0 … 2 of the previous pass
  assert.deepEqual(aucHistory(rows, { ...current, batch: 1 }).map((p) => p.batch), [0, 1]);
});
