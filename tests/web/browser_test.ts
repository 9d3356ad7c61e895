// The UI in real headless Chromium (Debian's, driven by playwright-core): sign in, open the grid,
// trigger a run from the form, watch it finish. Screenshots go to tests/web/screenshots/.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const SHOTS = "tests/web/screenshots";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test({
  name: "browser: sign in, open the grid, trigger a run from the form, watch it finish",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "web/main.ts", "--port", String(port), "--scheduler", "--tick-ms", "200"],
      env: {
        DRIFTFLOW_HOME: await Deno.makeTempDir(),
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
      for (let i = 0; i < 100; i++) {
        try {
          if ((await fetch(`${base}/health`)).ok) break;
        } catch { /* not up yet */ }
        await new Promise((r) => setTimeout(r, 100));
      }
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
    } finally {
      await browser.close();
      server.kill("SIGTERM");
      await server.status;
    }
  },
});
