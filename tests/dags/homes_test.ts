// Two fresh homes (PGlite under each DRIFTFLOW_HOME) sharing one prepared data directory, each
// running `deno task run drift_monitoring` as a user would: the batch files a run generates go
// under its own home (the shared data stays as prepared, and neither home overwrites the other's
// files), and with no champion registered yet get_champion skips with the reason — in the table,
// in the task's log — and the run ends without a failure.
import assert from "node:assert/strict";
import { parquetRowCount } from "../../tasks/data/parquet.ts";
import { noChampionReason } from "../../tasks/monitoring/mod.ts";
import { runCli } from "../runner/processes.ts";
import { writeFakeFlights } from "./helpers.ts";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

Deno.test({
  name:
    "drift_monitoring on two fresh homes: batches under each home, none overwritten; no champion: skipped, said why",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-homes-" });
    try {
      const data = `${dir}/data`;
      await writeFakeFlights(`${data}/flights`, 1000, 3000);
      const homes = { a: `${dir}/home-a`, b: `${dir}/home-b` };
      const run = (home: string, batchSize: number) =>
        runCli(["run", "drift_monitoring", "--param", `batchSize=${batchSize}`], {
          DRIFTFLOW_HOME: home,
          DRIFTFLOW_DATA: data,
        }, { timeoutMs: 240_000 });
      const batch0 = (home: string) => `${home}/batches/flights-batch-0000.parquet`;

      const a = await run(homes.a, 500);
      assert.equal(a.code, 0, `${a.stdout}\n${a.stderr}`);
      const aBytes = await Deno.readFile(batch0(homes.a));
      assert.equal(await parquetRowCount(batch0(homes.a)), 500);

      const b = await run(homes.b, 700);
      assert.equal(b.code, 0, `${b.stdout}\n${b.stderr}`);
      assert.equal(await parquetRowCount(batch0(homes.b)), 700);
      // home B's run left home A's batch as it was, and wrote nothing into the shared data
      assert.deepEqual(await Deno.readFile(batch0(homes.a)), aBytes);
      assert.equal(await exists(`${data}/batches`), false, "a run wrote into the shared data dir");

      for (const out of [a, b]) {
        // the run's table: the champion's task skipped with its reason, the rest of the run with
        // it, nothing failed, and the run a success (the engine's rule for skipped tasks)
        assert.match(out.stdout, /simulate_batch\s+success/);
        const champion = out.stdout.split("\n").find((l) => l.startsWith("get_champion ")) ?? "";
        assert.match(champion, /^get_champion\s+skipped\s+1\s/, out.stdout);
        assert.ok(champion.endsWith(`skipped: ${noChampionReason("flights_delay")}`), champion);
        for (const task of ["detect_drift", "evaluate_severity", "save_state"]) {
          assert.match(out.stdout, new RegExp(`${task}\\s+skipped`), out.stdout);
        }
        assert.doesNotMatch(out.stdout, /failed/, out.stdout);
        assert.match(out.stdout, /run \d+ of dag drift_monitoring: success/);
      }
      // the task's log says what to do
      const runId = /run (\d+) of dag drift_monitoring/.exec(a.stdout)![1];
      const log = await runCli(["logs", runId, "get_champion"], { DRIFTFLOW_HOME: homes.a });
      assert.equal(log.code, 0, log.stderr);
      assert.ok(
        log.stdout.includes(`skipped the task: ${noChampionReason("flights_delay")}`),
        log.stdout,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
