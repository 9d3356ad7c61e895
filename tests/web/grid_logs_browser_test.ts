// The grid's duration bars and summary, and the log view's tabs per try, as a person sees them in
// Chromium (playwright-core). Screenshots go to tests/web/screenshots/ (grid-bars.png, logs-tabs.png).
import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { z } from "zod";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { dag } from "../../runner/dag.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import { syncDag } from "../../runner/cli/common.ts";
import { openPglite } from "../../runner/store/pglite.ts";
import { Store } from "../../runner/store/store.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { createApp } from "../../web/app.tsx";
import { freePort } from "../net.ts";

const CHROMIUM = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";
const SHOTS = "tests/web/screenshots";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const flaky = dag({
  id: "web_flaky",
  params: z.object({ fail: z.boolean().default(false) }),
  defaults: { retries: 1, retryDelay: "0s" },
})
  .task("extract", { run: async () => await sleep(20) })
  .task("train", {
    deps: ["extract"],
    run: async (ctx) => {
      ctx.log(`training, attempt ${ctx.tryNumber}`);
      await sleep(150);
      if (ctx.tryNumber === 1) throw new Error("the first try fails");
      ctx.log("trained");
    },
  })
  .task("check", {
    deps: ["train"],
    retries: 0,
    run: (ctx) => {
      if (ctx.params.fail) throw new Error("check failed on purpose");
    },
  });

Deno.test({
  name: "browser: the grid's duration bars and summary; the log view's tab per try",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const store = new Store(await openPglite());
    await store.migrate();
    const artifacts = new LocalArtifactStore(await Deno.makeTempDir());
    await syncDag(store, flaky);
    const runs: number[] = [];
    for (const fail of [false, true, false]) {
      const run = await createDagRun(store, flaky, { params: { fail } });
      await new Executor({ store, artifacts }).runToEnd(flaky, run.id);
      runs.push(run.id);
    }
    const app = createApp({
      store,
      registry: () => ModelRegistry.open(store.db),
      dags: () => new Map([[flaky.id, flaky]]),
      token: "t",
      artifacts,
    });
    const stop = new AbortController();
    const port = freePort();
    const server = Deno.serve(
      { port, hostname: "127.0.0.1", signal: stop.signal, onListen: () => {} },
      app.fetch,
    );
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      timeout: 60_000,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
      await page.goto(`http://127.0.0.1:${port}/dags/web_flaky`, { timeout: 30_000 });
      assert.equal(
        (await page.locator("p.summary").innerText()).replace(/median duration .*/, ""),
        "3 runs shown · 2 success · 1 failed · 0 running · ",
      );
      const bars = await page.locator("table.grid span.bar").evaluateAll((els) =>
        els.map((e) => ({
          title: e.getAttribute("title") ?? "",
          w: e.getBoundingClientRect().width,
        }))
      );
      assert.equal(bars.length, 9, "a bar per task instance");
      const trains = bars.filter((b) => b.title.startsWith("train"));
      const extracts = bars.filter((b) => b.title.startsWith("extract"));
      assert.ok(Math.max(...trains.map((b) => b.w)) === 32, "the longest fills the cell");
      for (const e of extracts) assert.ok(e.w < 32 && e.w >= 1, "shorter tasks, shorter bars");
      assert.ok(await page.locator("p[aria-label='state colours']").isVisible(), "legend");
      assert.equal(await page.locator("table:not(.grid) time").count(), 3);
      await page.screenshot({ path: `${SHOTS}/grid-bars.png`, fullPage: true });

      await page.goto(`http://127.0.0.1:${port}/runs/${runs[0]}/tasks/train/logs`);
      const tabs = page.locator("[role=tablist][aria-label='tries'] a");
      assert.deepEqual(
        (await tabs.allInnerTexts()).map((t) => t.match(/^try \d+/)?.[0]),
        ["try 1", "try 2"],
      );
      assert.equal(
        await page.locator("[role=tablist][aria-label='tries'] a[aria-current=page]").innerText()
          .then((t) => t.startsWith("try 2")),
        true,
        "the latest try is selected",
      );
      assert.match(await page.locator("p.try-header").innerText(), /try 2 · host \S+/);
      const host = (await tabs.last().locator(".host").innerText()).trim();
      assert.ok(host.length > 0, "the tab's header names the try's host");
      assert.match(await page.locator("p.try-header").innerText(), new RegExp(`host ${host}`));
      assert.match(await page.locator("pre.log").innerText(), /Z training, attempt 2\n.*Z trained/);
      await page.screenshot({ path: `${SHOTS}/logs-tabs.png`, fullPage: true });
      await tabs.first().click();
      await page.waitForURL(/try=1$/);
      assert.match(await page.locator("pre.log").innerText(), /Z training, attempt 1/);
      assert.match(await page.locator("p.try-header").innerText(), /try 1 · host \S+/);
    } finally {
      await browser.close();
      stop.abort();
      await server.finished;
      await store.close();
    }
  },
});
