/**
 * `deno task serve` refuses bad option values before it starts anything (exit 2, one line naming
 * the option): `--concurrency 0` used to start a worker that could never run a task.
 */
import assert from "node:assert/strict";

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
