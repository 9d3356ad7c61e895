import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { detectDrift } from "../../../tasks/drift/detect.ts";
import { injectDrift } from "../../../tasks/drift/inject.ts";
import { renderDriftReportHtml } from "../../../tasks/drift/report_html.tsx";
import { DriftReport } from "../../../tasks/drift/schema.ts";
import { evaluateSeverity } from "../../../tasks/drift/severity.ts";
import { Random } from "../../../models/core/random.ts";

function report(): DriftReport {
  const rng = new Random(2);
  const n = 2000;
  const table = {
    distance: Float64Array.from({ length: n }, () => 500 + 300 * rng.normal()),
    hour: Float64Array.from({ length: n }, () => rng.int(24)),
    carrier: Array.from({ length: n }, () => ["AA", "DL", "UA", "<WN>"][rng.int(4)]),
  };
  const current = injectDrift(table, { kind: "mean_shift", column: "distance", k: 1 }).table;
  const r = detectDrift(table, current, { multivariate: true });
  r.severity = evaluateSeverity(r);
  return r;
}

Deno.test("report: self-contained HTML with a chart per column, severity and the verdict table", () => {
  const r = report();
  const html = renderDriftReportHtml(r, { title: "Flights <batch 7>" });
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, "no script, no remote resource");
  assert.equal((html.match(/<svg /g) ?? []).length, r.columns.length);
  assert.match(html, /Flights &lt;batch 7&gt;/);
  assert.match(html, /&lt;WN&gt;/, "labels escaped");
  assert.match(html, new RegExp(`class="badge"[^>]*>${r.severity!.severity}<`));
  for (const c of r.columns) assert.match(html, new RegExp(`<td>${c.test}</td>`));
  // the JSON twin round-trips through the schema
  assert.deepEqual(
    DriftReport.parse(JSON.parse(JSON.stringify(r))).columns.length,
    r.columns.length,
  );
});

Deno.test({
  name: "report: opens in Chromium and draws its charts",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const file = `${dir}/drift.html`;
    await Deno.writeTextFile(file, renderDriftReportHtml(report()));
    const browser = await chromium.launch({
      executablePath: Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`file://${file}`);
      const charts = await page.locator("svg").count();
      assert.equal(charts, 3);
      const box = await page.locator("svg").first().boundingBox();
      assert.ok(box && box.width > 300 && box.height > 100, JSON.stringify(box));
      const bars = await page.locator("svg rect").count();
      assert.ok(bars > 20, `${bars} bars drawn`);
      assert.equal(await page.locator("tr.drift").count(), 1, "one drifted column highlighted");
      await Deno.mkdir("tests/web/screenshots", { recursive: true });
      await page.screenshot({ path: "tests/web/screenshots/drift_report.png", fullPage: true });
    } finally {
      await browser.close();
    }
  },
});

Deno.test("report: hostile text in a column name or category is escaped everywhere it is shown", () => {
  const hostile = `<script>alert("x")</script>`;
  const n = 400;
  const ref = {
    [hostile]: Array.from({ length: n }, (_, i) => (i % 3 ? "a" : `<img src=x onerror=1>`)),
    ok: Float64Array.from({ length: n }, (_, i) => i % 7),
  };
  const cur = {
    [hostile]: Array.from({ length: n }, (_, i) => (i % 2 ? "a" : `<img src=x onerror=1>`)),
    ok: Float64Array.from({ length: n }, (_, i) => i % 5),
  };
  const r = detectDrift(ref, cur);
  const html = renderDriftReportHtml(r, { title: hostile });
  assert.doesNotMatch(html, /<script|<img/, "no markup from the data");
  const escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;";
  for (
    const shown of [
      `<title>${escaped}</title>`,
      `<a href="#col-${escaped}">${escaped}</a>`,
      `<section class="chart" id="col-${escaped}"><h3>${escaped} `,
    ]
  ) assert.ok(html.includes(shown), shown);
  assert.match(html, /<title>&lt;img src=x onerror=1&gt;: reference \d/, "bar titles escaped");
});
