// The CLI at the edges (issue 15 items 3, 5, 6): backfill's range, the README's own example on a
// fresh setup, and unknown params. Spawns the CLI as a user would, each on a fresh PGlite home.
import assert from "node:assert/strict";
import { runCli } from "./processes.ts";
import { join } from "node:path";

const cli = (home: string, dags: string, args: string[]) =>
  runCli(args, { DRIFTFLOW_HOME: home, DRIFTFLOW_DAGS: dags });

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "cli: backfill includes both ends; --from D --to D makes the one run at D",
  ...opts,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "driftflow-backfill-" });
    try {
      const dags = "tests/fixtures/dags_semantics";
      const three = await cli(home, dags, [
        "backfill",
        "daily",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-03",
      ]);
      assert.equal(three.code, 0, three.stderr);
      const dates = [...three.stdout.matchAll(/^(2026-\S+)\s+\d+\s+success/gm)].map((m) => m[1]);
      assert.deepEqual(dates, [
        "2026-01-01T00:00:00.000Z",
        "2026-01-02T00:00:00.000Z",
        "2026-01-03T00:00:00.000Z",
      ]);
      const one = await cli(home, dags, [
        "backfill",
        "daily",
        "--from",
        "2026-02-01",
        "--to",
        "2026-02-01",
      ]);
      assert.equal(one.code, 0, one.stderr);
      assert.match(one.stdout, /^2026-02-01T00:00:00.000Z\s+\d+\s+success/m);
      const none = await cli(home, dags, [
        "backfill",
        "daily",
        "--from",
        "2026-02-01T01:00:00Z",
        "--to",
        "2026-02-01T02:00:00Z",
      ]);
      assert.equal(none.code, 2, none.stdout);
      assert.match(none.stderr, /no tick of "@daily".*the next is 2026-02-02T00:00:00.000Z/);
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test({
  name: "cli: the README's own example runs as written on a fresh setup; unknown --param exits 2",
  ...opts,
  async fn() {
    const home = await Deno.makeTempDir({ prefix: "driftflow-readme-" });
    const dags = join(home, "dags");
    await Deno.mkdir(dags);
    try {
      const readme = await Deno.readTextFile("README.md");
      const block = /```ts\n(\/\/ dags\/tour\.ts[\s\S]*?)```/.exec(readme);
      assert.ok(block, "the README has the dags/tour.ts example");
      await Deno.writeTextFile(join(dags, "tour.ts"), block[1]);
      await Deno.copyFile("dags/example.ts", join(dags, "example.ts"));

      const validate = await cli(home, dags, ["dags", "validate"]);
      assert.equal(validate.code, 0, validate.stdout + validate.stderr);
      const run = await cli(home, dags, ["run", "tour"]);
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /report\s+success/);
      assert.match(run.stdout, /retrain\s+success/);
      assert.match(run.stdout, /run \d+ of dag tour: success/);
      const pools = await cli(home, dags, ["pools"]);
      assert.match(pools.stdout, /reports\s+128/);

      const typo = await cli(home, dags, ["run", "tour", "--param", "nosuch=1"]);
      assert.equal(typo.code, 2, typo.stdout + typo.stderr);
      assert.match(typo.stderr, /params.nosuch: unknown param; the DAG's params are: batchSize/);
      const runs = await cli(home, dags, ["runs", "tour", "--json"]);
      const doc = JSON.parse(runs.stdout) as { runs: { state: string }[] };
      assert.deepEqual(doc.runs.map((r) => r.state), ["success"], "no run left queued");
    } finally {
      await Deno.remove(home, { recursive: true });
    }
  },
});
