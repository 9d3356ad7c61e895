// The UI in real headless Chromium (Debian's, driven by playwright-core): sign in, open the grid,
// trigger a run from the form, watch it finish. Screenshots go to tests/web/screenshots/.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { freePort, waitForHttp } from "../net.ts";
import { openStore } from "../../runner/store/open.ts";
import { MonitoringTable } from "../../tasks/monitoring/metrics_table.ts";

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
        await page.locator("svg[aria-label='per-column drift over batches'] rect").count() >= 12,
      );
      assert.ok(await page.isVisible("text=retrained: v2 promoted"));
      await page.screenshot({ path: `${SHOTS}/drift.png`, fullPage: true });
    } finally {
      await browser.close();
      server.kill("SIGTERM");
      await server.status;
    }
  },
});
