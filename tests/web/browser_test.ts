// The UI in real headless Chromium (Debian's, driven by playwright-core): sign in, open the grid,
// trigger a run from the form, watch it finish. Screenshots go to tests/web/screenshots/.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { freePort, waitForHttp } from "../net.ts";
import { openStore } from "../../runner/store/open.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
import { syncDag } from "../../runner/cli/common.ts";
import { createDagRun } from "../../runner/runs.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";

/** Two versions of a model, v1 the champion (the Models page needs no artifact to list them). */
async function seedModels(home: string) {
  const store = await openStore({ pgliteDir: `${home}/pgdata` });
  try {
    const registry = await ModelRegistry.open(store.db);
    for (const auc of [0.64, 0.66]) {
      await registry.register({
        name: "delays", // not the served model: /health would load its (absent) ONNX file
        algo: "gbdt",
        task: "classification",
        params: {},
        metrics: { roc_auc: auc, accuracy: 0.8, rows: 4000 },
        columns: null,
        fingerprint: { rows: 20000, sha256: "a".repeat(64) },
        artifacts: { onnx: `sha256:${"b".repeat(64)}` },
      });
    }
    await registry.setAlias("delays", "champion", 1, { reason: "first model" });
  } finally {
    await store.close();
  }
}

/** A run of the real drift_monitoring DAG, left queued for the local executor (nothing runs it). */
async function seedGraphRun(home: string): Promise<number> {
  const store = await openStore({ pgliteDir: `${home}/pgdata` });
  try {
    const { default: monitoring } = await import("../../dags/drift_monitoring.ts");
    await syncDag(store, monitoring);
    return (await createDagRun(store, monitoring, {})).id;
  } finally {
    await store.close();
  }
}

type Pt = { x: number; y: number };
type Box = { task: string; x: number; y: number; width: number; height: number };

/** True when segment a–b passes through the inside of `box` (shrunk by `inset`): Liang–Barsky. */
export function segmentEntersBox(a: Pt, b: Pt, box: Box, inset = 2): boolean {
  const [x0, x1] = [box.x + inset, box.x + box.width - inset];
  const [y0, y1] = [box.y + inset, box.y + box.height - inset];
  const dx = b.x - a.x, dy = b.y - a.y;
  let t0 = 0, t1 = 1;
  for (const [p, q] of [[-dx, a.x - x0], [dx, x1 - a.x], [-dy, a.y - y0], [dy, y1 - a.y]]) {
    if (p === 0) {
      if (q < 0) return false;
      continue;
    }
    const r = q / p;
    if (p < 0) t0 = Math.max(t0, r);
    else t1 = Math.min(t1, r);
    if (t0 > t1) return false;
  }
  return true;
}

const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

/** Six monitored batches in the home's PGlite store, as drift_monitoring leaves them. */
async function seedDrift(home: string) {
  const store = await openStore({ pgliteDir: `${home}/pgdata` });
  try {
    const table = await MonitoringTable.open(store.db);
    for (let b = 0; b < 6; b++) {
      await table.insert({
        dagId: "drift_monitoring",
        runId: 1,
        stream: "flights",
        batch: b,
        rows: 5000,
        driftedShare: b < 3 ? 0 : 0.4,
        severity: b < 3 ? "none" : "major",
        action: b === 3 ? "retrained: v2 promoted" : "log",
        model: "flights_delay",
        championVersion: b > 3 ? 2 : 1,
        rocAuc: 0.64,
        details: {
          from: new Date(Date.UTC(2001, 1, 6 + 7 * b)).toISOString(),
          columns: Object.fromEntries(
            ["distance", "hour"].map((
              c,
            ) => [c, {
              test: "wasserstein",
              statistic: b * 0.05,
              drifted: b >= 3 && c === "distance",
            }]),
          ),
        },
      });
    }
  } finally {
    await store.close();
  }
}
const SHOTS = "tests/web/screenshots";

Deno.test({
  name: "browser: sign in, open the grid, trigger a run from the form, watch it finish",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const home = await Deno.makeTempDir();
    await seedDrift(home);
    const graphRun = await seedGraphRun(home);
    await seedModels(home);
    const server = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "web/main.ts", "--port", String(port), "--scheduler", "--tick-ms", "200"],
      env: {
        DRIFTFLOW_HOME: home,
        DRIFTFLOW_DAGS: "dags",
        DRIFTFLOW_TOKEN: "browser-token",
      },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    try {
      await waitForHttp(`${base}/health`);
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      await page.goto(`${base}/login?next=/`);
      await page.fill("input[name=token]", "browser-token");
      await page.click("button[type=submit]");
      await page.waitForURL(`${base}/`);
      assert.ok(await page.isVisible("text=example"));
      await page.screenshot({ path: `${SHOTS}/dags.png` });

      await page.click("a[href='/dags/example']");
      await page.waitForURL(`${base}/dags/example`);
      await page.screenshot({ path: `${SHOTS}/grid-empty.png` });

      await page.click("text=trigger a run");
      await page.fill("input[name='param.batchSize']", "0");
      await page.click("button[type=submit]");
      assert.ok(
        await page.isVisible("text=Too small"),
        "a bad value shows its error beside the field",
      );
      await page.fill("input[name='param.batchSize']", "3");
      await page.fill("textarea[name=conf]", '{"from": "the browser"}');
      await page.click("button[type=submit]");
      await page.waitForURL(/\/runs\/\d+$/);
      await page.waitForSelector("h1 .state:text('success')", { timeout: 60_000 });
      assert.ok(await page.isVisible("svg[aria-label='task graph']"));
      await page.screenshot({ path: `${SHOTS}/run.png`, fullPage: true });

      // drift_monitoring's graph: laid out by dagre, no edge through a box, an arrow on every edge
      await page.goto(`${base}/runs/${graphRun}`);
      const svg = page.locator("svg[aria-label='task graph']");
      const geometry = await svg.evaluate((el) => ({
        boxes: [...el.querySelectorAll("rect.task-box")].map((r) => ({
          task: r.getAttribute("data-task") ?? "",
          x: Number(r.getAttribute("x")),
          y: Number(r.getAttribute("y")),
          width: Number(r.getAttribute("width")),
          height: Number(r.getAttribute("height")),
        })),
        edges: [...el.querySelectorAll("path.edge")].map((e) => ({
          from: e.getAttribute("data-from"),
          to: e.getAttribute("data-to"),
          d: e.getAttribute("d") ?? "",
          marker: e.getAttribute("marker-end"),
        })),
        arrowHeads: el.querySelectorAll("marker#graph-arrow path").length,
        pageWidth: el.ownerDocument.documentElement.scrollWidth,
      }));
      assert.ok(geometry.boxes.length >= 10, "drift_monitoring has its tasks drawn");
      assert.ok(geometry.edges.length >= geometry.boxes.length - 1);
      assert.equal(geometry.arrowHeads, 1);
      const crossings: string[] = [];
      for (const e of geometry.edges) {
        assert.equal(e.marker, "url(#graph-arrow)", `${e.from} → ${e.to} has an arrowhead`);
        const pts = [...e.d.matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((m) => ({
          x: Number(m[1]),
          y: Number(m[2]),
        }));
        assert.ok(pts.length >= 2, `${e.from} → ${e.to} is drawn`);
        for (let i = 1; i < pts.length; i++) {
          for (const box of geometry.boxes) {
            if (segmentEntersBox(pts[i - 1], pts[i], box)) {
              crossings.push(`${e.from} → ${e.to} crosses ${box.task}`);
            }
          }
        }
      }
      assert.deepEqual(crossings, [], "no edge passes through a task's box");
      assert.ok(geometry.pageWidth <= 1200, "the graph scrolls in its own area, not the page");
      const before = Number(await svg.getAttribute("width"));
      await page.click("button.zoom-in");
      assert.ok(Number(await svg.getAttribute("width")) > before, "zoom in enlarges the graph");
      await page.click("button.zoom-fit");
      await page.screenshot({ path: `${SHOTS}/run-graph.png`, fullPage: true });

      await page.goto(`${base}/dags/example`);
      assert.equal(await page.locator("table.grid a[title^='run']").count(), 1);
      await page.screenshot({ path: `${SHOTS}/grid.png` });

      // the drift dashboard, on the batches seeded before the server started
      await page.click("nav a[href='/drift']");
      await page.waitForURL(`${base}/drift`);
      const chart = await page.locator("svg[aria-label='drifted share per batch']").boundingBox();
      assert.ok(chart && chart.width > 500, "the share chart is drawn");
      assert.equal(
        await page.locator("svg[aria-label='drifted share per batch'] circle").count(),
        6,
      );
      assert.ok(
        await page.locator("svg[aria-label^='per-column drift over batches'] rect.cell").count() >=
          12,
      );
      assert.ok(await page.isVisible("text=retrained: v2 promoted"));
      assert.ok(
        await page.isVisible("svg[aria-label='drifted share per batch'] >> text=2001-02-06"),
      );
      assert.ok(await page.isVisible("svg[aria-label^='per-column drift'] g.legend"));
      await page.screenshot({ path: `${SHOTS}/drift.png`, fullPage: true });

      // Models: promote v2 with a reason; the page says so, offers the roll-back, keeps the move
      await page.click("nav a[href='/models']");
      await page.waitForURL(`${base}/models`);
      assert.ok(await page.isVisible("th:text('roc_auc')"), "metrics in their own columns");
      const promote = page.locator("form.alias-form", { hasText: "Promote v2 to champion" });
      await promote.locator("input[name=reason]").fill("v2 wins on the March weeks");
      await promote.locator("button[type=submit]").click();
      await page.waitForURL(`${base}/models?moved=delays`);
      assert.ok(await page.isVisible("text=delays@champion → v2 (was v1) by web UI"));
      assert.ok(await page.isVisible("button:text('Roll back champion to v1')"));
      const moves = page.locator("section table").nth(1);
      assert.ok(await moves.locator("td:text('web UI')").isVisible(), "who moved it");
      assert.ok(await moves.locator("td:text('v2 wins on the March weeks')").isVisible(), "why");
      await page.screenshot({ path: `${SHOTS}/models.png`, fullPage: true });

      await page.click("nav a[href='/experiments']");
      await page.waitForURL(`${base}/experiments`);
      await page.screenshot({ path: `${SHOTS}/experiments.png`, fullPage: true });
    } finally {
      await browser.close();
      server.kill("SIGTERM");
      await server.status;
    }
  },
});

Deno.test("the crossing check the graph test relies on sees a segment through a box", () => {
  const box = { task: "t", x: 100, y: 100, width: 170, height: 38 };
  assert.ok(segmentEntersBox({ x: 0, y: 119 }, { x: 400, y: 119 }, box), "straight through");
  assert.ok(segmentEntersBox({ x: 90, y: 90 }, { x: 280, y: 150 }, box), "diagonally through");
  assert.ok(!segmentEntersBox({ x: 0, y: 150 }, { x: 400, y: 150 }, box), "passes below");
  assert.ok(!segmentEntersBox({ x: 270, y: 119 }, { x: 330, y: 119 }, box), "leaves from its side");
});
