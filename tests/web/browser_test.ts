// The UI in real headless Chromium (Debian's, driven by playwright-core): sign in, open the grid,
// trigger a run from the form (kept through signing in), watch it finish. Screenshots go to
// tests/web/screenshots/.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { freePort, waitForHttp } from "../net.ts";
import { openStore } from "../../runner/store/open.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";
import { Alerter } from "../../tasks/alert/alerter.ts";
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

/**
 * Ten weekly monitored batches in the home's PGlite store, as drift_monitoring leaves them: a prior
 * shift injected at batches 4–5 (recalibrated: v2), a concept change at 7 (retrained: v3), the
 * label-free estimate from batch 2 on, the last batch's labels not in yet; and an alert sent once
 * then suppressed three times.
 */
export async function seedDrift(home: string) {
  const store = await openStore({ pgliteDir: `${home}/pgdata` });
  try {
    const table = await MonitoringTable.open(store.db);
    const grade = ["none", "none", "minor", "none", "prior", "none", "none", "concept", "none"];
    const action = ["log", "log", "log", "log", "recalibrate", "log", "log", "retrain", "log"];
    const realized = [0.70, 0.69, 0.71, 0.70, 0.69, 0.70, 0.68, 0.58, 0.67, null];
    for (let b = 0; b < 10; b++) {
      const version = b <= 4 ? 1 : b <= 7 ? 2 : 3;
      const reference = version === 3 ? 0.68 : 0.7;
      await table.insert({
        dagId: "drift_monitoring",
        runId: 1,
        stream: "flights",
        batch: b,
        rows: 5000,
        driftedShare: b === 4 || b === 5 ? 0.4 : b === 7 ? 0.2 : 0,
        severity: grade[b] ?? "none",
        action: action[b] ?? "log",
        retrained: b === 4 || b === 7,
        promoted: b === 4 || b === 7,
        model: "flights_delay",
        championVersion: version,
        rocAuc: realized[b],
        metrics: {
          roc_auc: {
            reference,
            referenceInterval: [reference - 0.015, reference + 0.015],
            realized: realized[b],
            ...(b >= 2
              ? {
                estimated: b === 7 ? 0.69 : (realized[b] ?? 0.68) + 0.005,
                estimatedInterval: [0.66 + (b % 2) / 100, 0.72 + (b % 2) / 100],
                departed: realized[b] === null ? null : b === 7,
              }
              : {}),
          } as { reference: number; realized: number | null },
        },
        reasons: b === 4
          ? [
            "late share moved 19.5% → 31.0% (two-sample test, p < 0.001) while ROC AUC held",
            "covariates moved with the labels: distance, hour",
          ]
          : b === 7
          ? ["ROC AUC fell 0.120 below the reference (DeLong p < 0.001, both sides' uncertainty)"]
          : b === 2
          ? ["hour: KS p = 0.003 after Holm (significant, small effect)"]
          : [],
        details: {
          from: new Date(Date.UTC(2001, 1, 6 + 7 * b)).toISOString(),
          truth: b === 4 || b === 5
            ? { drifted: true, events: [{ kind: "prior_shift" }] }
            : b === 7
            ? { drifted: true, events: [{ kind: "boundary_rotation" }] }
            : { drifted: false, events: [] },
          drifted: b === 4 ? ["distance", "hour"] : b === 7 ? ["late_prob (prediction)"] : [],
          sequential: {
            alarms: b === 7 ? ["roc_auc_departure", "score_ks"] : [],
            falseAlarmRate: "ARL0 ≥ 500 batches",
          },
          ...(b === 7
            ? {
              verdicts: [
                { at: "t1", kind: "batch", severity: "none", action: "log", reasons: [] },
                { at: "t2", kind: "labels", severity: "concept", action: "retrain", reasons: [] },
              ],
            }
            : {}),
          columns: Object.fromEntries(
            ["distance", "hour"].map((
              c,
            ) => [c, {
              test: "ks",
              statistic: b === 4 || b === 5 ? 0.12 : 0.01 + b * 0.002,
              drifted: (b === 4 && c === "distance") || (b === 2 && c === "hour"),
            }]),
          ),
        },
      });
    }
    const alerter = await Alerter.open(store.db, { channels: [] });
    for (let k = 0; k < 4; k++) {
      await alerter.send({
        level: "WARNING",
        key: "drift:flights",
        title: "flights: prior shift, recalibrating",
        message: "late share moved",
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
      // up when the pages answer (/health is 503 here: the seeded "delays" champion, served since
      // DRIFTFLOW_SERVE_MODEL unset means "the only champion", has no ONNX artifacts)
      await waitForHttp(`${base}/`);
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      // a form sent before signing in is kept through the sign-in, then sent as it was typed
      await page.goto(`${base}/dags/example/trigger`);
      await page.fill("input[name='param.batchSize']", "0");
      await page.fill("textarea[name=conf]", '{"from": "before signing in"}');
      await page.click("button[type=submit]");
      await page.waitForSelector("text=what you typed is kept");
      await page.fill("input[name=token]", "browser-token");
      await page.click("button[type=submit]");
      await page.waitForSelector("h1:text('Signed in')");
      assert.ok(await page.isVisible("text=before signing in"), "the kept form is shown");
      await page.screenshot({ path: `${SHOTS}/signed-in-form-kept.png`, fullPage: true });
      await page.click("button:text('Send it')");
      await page.waitForSelector("text=Too small");
      assert.equal(
        await page.inputValue("textarea[name=conf]"),
        '{"from": "before signing in"}',
        "the typed conf came through signing in",
      );
      assert.equal(await page.inputValue("input[name='param.batchSize']"), "0");

      // drift_monitoring's nested params: a multi-line JSON editor each, pre-filled with the default
      await page.goto(`${base}/dags/drift_monitoring/trigger`);
      const features = page.locator("textarea[name='param.features']");
      assert.ok(await features.isVisible(), "an array param is a JSON editor");
      assert.deepEqual(JSON.parse(await features.inputValue()), [
        "day_of_week",
        "hour",
        "distance",
        "origin",
        "destination",
      ]);
      assert.ok((await features.inputValue()).includes("\n"), "formatted over several lines");
      for (const nested of ["events", "policy", "alerts"]) {
        assert.ok(await page.isVisible(`textarea[name='param.${nested}']`), nested);
      }
      assert.ok(await page.isVisible("input[name='param.batchSize']"), "a scalar stays an input");
      await page.screenshot({ path: `${SHOTS}/trigger-nested.png`, fullPage: true });
      await page.goto(`${base}/`);
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
      const auc = page.locator("svg[aria-label='champion ROC AUC per batch over time']");
      const aucBox = await auc.boundingBox();
      assert.ok(aucBox && aucBox.width > 600, "the AUC chart is drawn");
      assert.equal(await auc.locator("circle.realized-point").count(), 9, "batch 9: no labels");
      assert.equal(await auc.locator("line.estimated-interval").count(), 8);
      assert.ok(await auc.locator("text.axis-title", { hasText: "batch date" }).isVisible());
      assert.ok(await auc.locator("text.axis-title", { hasText: "ROC AUC" }).isVisible());
      assert.ok(await auc.locator("g.x-tick >> text=2001-02-06").isVisible(), "dates on x");
      for (
        const item of [
          "realized",
          "estimated",
          "reference",
          "champion-change",
          "injected",
          "departed",
          "sequential-alarm",
        ]
      ) {
        assert.ok(await auc.locator(`g.legend-item.${item}`).isVisible(), `legend: ${item}`);
      }
      assert.equal(await auc.locator("g.marker.champion-change").count(), 2);
      assert.ok(await auc.locator("text=v1→v2").isVisible());
      assert.ok(await auc.locator("text=injected: boundary_rotation").isVisible());
      assert.equal(await auc.locator("circle.marker.departed").count(), 1);
      assert.equal(await auc.locator("path.marker.sequential-alarm").count(), 1);
      assert.ok(await page.isVisible("text=when its labels landed:"));
      // the markers and points sit inside the plot, left to right in batch order
      const xs = await auc.locator("circle.realized-point").evaluateAll((cs) =>
        cs.map((c) => Number(c.getAttribute("cx")))
      );
      assert.deepEqual(xs, [...xs].sort((a, b) => a - b));
      assert.equal(
        await page.locator("svg[aria-label='drifted share per batch'] circle").count(),
        10,
      );
      assert.ok(
        await page.locator("svg[aria-label^='per-column drift over batches'] rect.cell").count() >=
          20,
      );
      assert.ok(await page.isVisible("td.action:text('retrain (promoted)')"));
      assert.ok(await page.isVisible("td.action:text('recalibrate (promoted)')"));
      assert.ok(await page.isVisible("text=ROC AUC fell 0.120 below the reference"));
      assert.ok(await page.isVisible("text=no labels yet"));
      assert.ok(
        await page.isVisible("svg[aria-label='drifted share per batch'] >> text=2001-02-06"),
      );
      assert.ok(await page.isVisible("svg[aria-label^='per-column drift'] g.legend"));
      // the batch table fits the window: nothing a person needs is scrolled out of sight
      const table = await page.locator("table.batches").boundingBox();
      assert.ok(table && table.x + table.width <= 1200, `the table fits (${table?.width} px)`);
      // the alerts: labelled columns, the three suppressed repeats folded into one row
      assert.ok(await page.isVisible("table.alerts th:text('time (UTC)')"));
      assert.equal(await page.locator("table.alerts tbody tr").count(), 2);
      assert.ok(await page.isVisible("text=suppressed ×3 (cooldown: repeats folded)"));
      await auc.screenshot({ path: `${SHOTS}/drift-auc.png` });
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

      await page.click("nav a[href='/api']");
      await page.waitForURL(`${base}/api`);
      assert.ok(await page.isVisible("h1:text('Driftflow API')"), "the API page renders");
      assert.ok(
        await page.isVisible("#post-predict .summary:text('Predict rows with a model version')"),
        "POST /api/v1/predict is listed with its summary",
      );
      await page.screenshot({ path: `${SHOTS}/api.png`, fullPage: true });
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
