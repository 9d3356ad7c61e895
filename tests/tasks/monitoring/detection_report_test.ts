// The benchmark report's heatmaps: power on a higher-is-better scale, false positives on their own
// lower-is-better one (100 % false alarms must never look like 100 % power), each with a legend; the
// CSV quotes fields as RFC 4180 does.
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import {
  detectionCsv,
  HEAT_SCALES,
  heatmapSvg,
  renderDetectionHtml,
} from "../../../tasks/monitoring/detection_report.tsx";
import type { DetectionSummary } from "../../../tasks/monitoring/detection.ts";

const hue = (colour: string) => Number(/^hsl\((\d+)/.exec(colour)![1]);

Deno.test("false positives get a lower-is-better scale; power a higher-is-better one", () => {
  assert.equal(hue(HEAT_SCALES.high.colour(1)), 120, "full power is green");
  assert.equal(hue(HEAT_SCALES.high.colour(0)), 0, "no power is red");
  assert.equal(hue(HEAT_SCALES.low.colour(0)), 120, "no false alarm is green");
  assert.equal(hue(HEAT_SCALES.low.colour(0.05)), 120, "the stated 5 % is still green");
  assert.equal(hue(HEAT_SCALES.low.colour(0.25)), 0, "25 % false alarms is red");
  assert.equal(hue(HEAT_SCALES.low.colour(1)), 0, "every clean batch flagged is red");
  for (let v = 0; v < 1; v += 0.05) {
    assert.ok(hue(HEAT_SCALES.low.colour(v + 0.05)) <= hue(HEAT_SCALES.low.colour(v)), "monotone");
    assert.ok(hue(HEAT_SCALES.high.colour(v + 0.05)) >= hue(HEAT_SCALES.high.colour(v)));
  }
});

Deno.test("a false-positive heatmap is red where every clean batch was flagged, with a legend", () => {
  const svg = heatmapSvg("fpr", ["n = 100"], ["psi", "ks"], (_r, d) => d === "psi" ? 1 : 0, "low");
  const fills = [...svg.matchAll(/<rect [^>]*fill="(hsl\([^"]+\))"><title>n = 100 · (\w+)/g)]
    .map((m) => [m[2], hue(m[1])]);
  assert.deepEqual(fills, [["psi", 0], ["ks", 120]]);
  assert.match(svg, /<g class="legend"><text[^>]*>lower is better/);
  const power = heatmapSvg("power", ["x"], ["ks"], () => 1);
  assert.match(power, /higher is better/);
});

Deno.test("detectionCsv quotes shifts with commas, quotes and newlines so a CSV reader gets them back", () => {
  const shift = 'distance +0.5σ, "far"\nand a second line';
  const summary = {
    power: [{ shift, n: 200, detector: "default", runs: 4, rate: 0.5 }],
    fpr: [{ n: 200, detector: "default", runs: 4, rate: 0.05 }],
  } as unknown as DetectionSummary;
  const rows = parse(detectionCsv(summary)) as string[][];
  assert.deepEqual(rows, [
    ["kind", "shift", "n", "detector", "runs", "rate"],
    ["power", shift, "200", "default", "4", "0.5000"],
    ["fpr", "", "200", "default", "4", "0.0500"],
  ]);
});

Deno.test("the detection page escapes hostile shift names and notes in its heatmaps and tables", () => {
  const shift = `<script>alert("x")</script>`;
  const summary = {
    power: [{ shift, n: 200, detector: "policy", runs: 4, rate: 0.5 }],
    fpr: [{ n: 200, detector: "policy", runs: 4, rate: 0.05 }],
    later: [],
    meanPower: [{ n: 200, detector: "policy", rate: 0.5 }],
  } as unknown as DetectionSummary;
  const html = renderDetectionHtml(summary, [], { title: "<b>t</b>", note: "<i>n</i> & more" });
  assert.doesNotMatch(html, /<script|<i>|<b>t/);
  const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
  for (
    const shown of [
      `text-anchor="end">${escaped}</text>`, // a heatmap's row
      `<title>${escaped} · policy: 50%</title>`, // a heatmap's cell
      `<td>${escaped}</td><td>50%</td>`, // the power table
    ]
  ) assert.ok(html.includes(shown), shown);
  assert.match(html, /<h1>&lt;b&gt;t&lt;\/b&gt;<\/h1><p>&lt;i&gt;n&lt;\/i&gt; &amp; more<\/p>/);
});
