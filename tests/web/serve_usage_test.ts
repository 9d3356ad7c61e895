/**
 * `deno task serve` refuses bad option values before it starts anything (exit 2, one line naming
 * the option): `--concurrency 0` used to start a worker that could never run a task. And it takes
 * the serving model from DRIFTFLOW_SERVE_MODEL, saying so when none is configured.
 */
import assert from "node:assert/strict";
import { serveHome, startServe } from "./serve_process.ts";

const MAIN = new URL("../../web/main.ts", import.meta.url).pathname;

for (
  const [args, re] of [
    [["--scheduler", "--concurrency", "0"], /--concurrency must be an integer of at least 1/],
    [["--scheduler", "--concurrency=-1"], /--concurrency must be an integer of at least 1/],
    [["--tick-ms", "0"], /--tick-ms must be an integer of at least 1/],
  ] as const
) {
  Deno.test(`serve ${args.join(" ")}: exit 2 before starting`, async () => {
    const home = await Deno.makeTempDir({ prefix: "driftflow-serve-usage-" });
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, ...args],
        env: { DRIFTFLOW_HOME: home, DRIFTFLOW_TOKEN: "t" },
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 2, stderr);
      assert.match(stderr, re);
      assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  });
}

Deno.test({
  name:
    "serve reads the serving model from DRIFTFLOW_SERVE_MODEL; unset, the only champion, else none",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await serveHome({ champion: false });
    try {
      for (
        const [model, note] of [["", /^no model configured: set DRIFTFLOW_SERVE_MODEL/], [
          "flights_delay",
          /^no model "flights_delay" registered yet$/,
        ]] as const
      ) {
        const server = startServe(home, [], { DRIFTFLOW_SERVE_MODEL: model });
        try {
          await server.ready(60_000);
          const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(10_000) });
          const body = await res.json();
          assert.equal(res.status, 200, JSON.stringify(body));
          assert.equal(body.model, null);
          assert.match(body.note, note);
        } finally {
          await server.kill("SIGTERM", 30_000);
        }
        const output = await server.output();
        if (model) assert.doesNotMatch(output, /DRIFTFLOW_SERVE_MODEL is not set/);
        else assert.match(output, /DRIFTFLOW_SERVE_MODEL is not set: set DRIFTFLOW_SERVE_MODEL/);
      }
    } finally {
      await home.remove();
    }
    // unset, with one model that has a champion: that model is served
    const trained = await serveHome({ champion: true });
    const server = startServe(trained, [], { DRIFTFLOW_SERVE_MODEL: "" });
    try {
      await server.ready(60_000);
      const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(10_000) });
      const body = await res.json();
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.match(body.model, /^flights_delay@\d+$/, JSON.stringify(body));
    } finally {
      await server.kill("SIGTERM", 30_000);
      await trained.remove();
    }
  },
});
