// The experiment report's heatmaps: power on a higher-is-better scale, false positives on their own
// lower-is-better scale (100 % false alarms must not look like 100 % power), each with a legend.
import assert from "node:assert/strict";
import { renderExperimentHtml, SCALES, summaryCsv } from "../../../tasks/drift/experiment.ts";

const hue = (colour: string) => Number(/^hsl\((\d+)/.exec(colour)![1]);

Deno.test("false positives get a lower-is-better scale; power a higher-is-better one", () => {
  assert.equal(hue(SCALES.higher.colour(1)), 120, "full power is green");
  assert.equal(hue(SCALES.higher.colour(0)), 0, "no power is red");
  assert.equal(hue(SCALES.lower.colour(0)), 120, "no false alarm is green");
  assert.equal(hue(SCALES.lower.colour(1)), 0, "every clean batch flagged is red");
  assert.ok(hue(SCALES.lower.colour(0.05)) >= 90, "at the stated 5 % it is still green-ish");
  assert.ok(hue(SCALES.lower.colour(0.25)) <= 5, "25 % false alarms is red");
  for (let v = 0; v < 1; v += 0.05) {
    assert.ok(hue(SCALES.lower.colour(v + 0.05)) <= hue(SCALES.lower.colour(v)), "monotone");
  }
});

Deno.test("the report's false-positive heatmap is red where every clean batch was flagged", () => {
  const summary = [
    {
      injection: "x",
      batchSize: 200,
      detector: "psi" as const,
      runs: 4,
      power: 1,
      falsePositiveRate: 1,
    },
    {
      injection: "x",
      batchSize: 200,
      detector: "ks" as const,
      runs: 4,
      power: 1,
      falsePositiveRate: 0,
    },
  ];
  const html = renderExperimentHtml(summary);
  const fpr = /<svg[^>]*data-scale="lower"[^>]*>(.*?)<\/svg>/s.exec(html)![1];
  const power = /<svg[^>]*data-scale="higher"[^>]*>(.*?)<\/svg>/s.exec(html)![1];
  const cellHues = (svg: string) =>
    [...svg.matchAll(/<rect [^>]*fill="(hsl[^"]+)"><title>[^<]*: (\d+)%/g)].map((m) => [
      Number(m[2]),
      hue(m[1]),
    ]);
  assert.deepEqual(cellHues(fpr).sort(), [[0, 120], [100, 0]].sort());
  assert.deepEqual(cellHues(power).map(([v, h]) => [v, h]), [[100, 120], [100, 120]]);
  for (const svg of [fpr, power]) assert.match(svg, /<g class="legend">.*%<\/text>/s);
  assert.match(fpr, /lower is better/);
  assert.match(summaryCsv(summary), /"x",200,psi,4,1\.0000,1\.0000/);
});
