/**
 * Issue 12 item 10: `deno task serve` stops on SIGTERM/SIGINT arriving at any moment, start-up
 * included. Real processes on PGlite: the signal is sent right after spawning, at fixed delays
 * into start-up, while a DAG file is being imported (a DAG that takes 4 s to import writes a marker
 * when its import begins), and once the server listens; each time the process must exit within a
 * bound (it would otherwise run forever: the bound is a hang detector, not a speed claim).
 */
import assert from "node:assert/strict";
import { eventually } from "../runner/processes.ts";
import { serveHome, startServe } from "./serve_process.ts";

const BOUND_MS = 60_000;

async function slowDagHome() {
  const home = await serveHome({ champion: false });
  const marker = `${home.home}/importing`;
  await Deno.writeTextFile(
    `${home.dagsDir}/slow.ts`,
    `import { dag } from "${new URL("../../runner/mod.ts", import.meta.url).href}";
await Deno.writeTextFile(${JSON.stringify(marker)}, "importing");
await new Promise((r) => setTimeout(r, 4000));
export default dag({ id: "slow" }).task("a", { run: () => 1 });
`,
  );
  return { home, marker };
}

/** Exited by itself after the signal: code 0, or killed by that very signal before it listened. */
function stoppedCleanly(status: Deno.CommandStatus | "running", signal: Deno.Signal): boolean {
  return status !== "running" && (status.code === 0 || status.signal === signal);
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name: `serve stops on ${signal} at any moment of start-up and after`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const { home, marker } = await slowDagHome();
      try {
        const moments: [string, (s: ReturnType<typeof startServe>) => Promise<void>][] = [
          ["at once", async () => {}],
          ["after 300 ms", () => new Promise((r) => setTimeout(r, 300))],
          ["after 1.5 s", () => new Promise((r) => setTimeout(r, 1500))],
          ["while a DAG file is imported", async () => {
            await eventually("the DAG import to begin", async () => {
              try {
                await Deno.stat(marker);
                return true;
              } catch {
                return undefined;
              }
            }, BOUND_MS);
          }],
          ["once it listens", (s) => s.ready(BOUND_MS)],
        ];
        for (const [when, wait] of moments) {
          await t.step(when, async () => {
            await Deno.remove(marker).catch(() => {});
            const server = startServe(home);
            try {
              await wait(server);
              server.signal(signal);
              const status = await server.exited(BOUND_MS);
              assert.ok(
                stoppedCleanly(status, signal),
                `${signal} ${when}: ${JSON.stringify(status)}\n${await server.output()}`,
              );
            } finally {
              await server.kill("SIGKILL");
            }
          });
        }
      } finally {
        await home.remove();
      }
    },
  });
}
