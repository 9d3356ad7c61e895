// drift_experiment's task functions: the setup stored and read back, the grid's chunks judged, a
// scenario of the stream protocol, the summary written.
import assert from "node:assert/strict";
import { parse } from "csv-parse/sync";
import { rowCount } from "../../../models/core/table.ts";
import {
  BENCH_POLICY,
  type ExperimentParams,
  gridChunks,
  loadBenchSetup,
  runCellChunk,
  runScenario,
  storeBenchSetup,
  writeDetectionSummary,
} from "../../../tasks/monitoring/mod.ts";
import { writeFakeFlights } from "../../dags/helpers.ts";
import { openTestEnv } from "./task_env.ts";

Deno.test("gridChunks: one chunk per batch size and seed", () => {
  assert.deepEqual(gridChunks({ sizes: [10, 20], seeds: 2 }), [
    { n: 10, seed: 0 },
    { n: 10, seed: 1 },
    { n: 20, seed: 0 },
    { n: 20, seed: 1 },
  ]);
  assert.deepEqual(gridChunks({ sizes: [10], seeds: 0 }), []);
});

Deno.test("drift_experiment's functions: setup round trip, a chunk's cells, a scenario, the summary", async () => {
  const t = await openTestEnv();
  try {
    const data = await writeFakeFlights(`${t.dir}/data`, 8000, 6000);
    const params: ExperimentParams = {
      data: data.reference,
      stream: data.stream,
      features: ["day_of_week", "hour", "distance", "origin", "destination"],
      target: "late",
      positiveLabel: "yes",
      referenceRows: 2000,
      trainRows: 3000,
      periodRows: 1500,
      periods: 4,
      shifts: [{ name: "distance +1σ", drift: { kind: "mean_shift", column: "distance", k: 1 } }],
      sizes: [500],
      seeds: 1,
      clean: 1,
      scenarios: [{ name: "clean" }],
      streamBatch: 1000,
      policy: BENCH_POLICY,
      out: `${t.dir}/out`,
    };
    const ctx = t.env(params, 21);
    const keys = await storeBenchSetup(ctx);
    assert.equal(keys.later.length, 4);
    assert.match(t.lines.at(-1)!, /^model trained; reference 2000 rows; 4 later periods$/);
    const setup = await loadBenchSetup(ctx, keys);
    assert.equal(rowCount(setup.reference), 2000);
    assert.equal(setup.calibratedShare, keys.calibratedShare);
    assert.deepEqual(setup.later.map((l) => l.name), keys.later.map((l) => l.name));
    assert.ok(setup.scales.distance.std > 0);

    const cells = await runCellChunk(ctx, keys, { n: 500, seed: 0 });
    assert.deepEqual(cells.map((c) => c.kind), ["shift", "clean", "later"]);
    assert.ok(cells.every((c) => c.n === 500 && c.seed === 0));
    const stream = await runScenario(ctx, keys, { name: "clean" });
    assert.equal(stream.summary.scenario, "clean");

    const s = await writeDetectionSummary(ctx, cells, [stream]);
    assert.equal(s.cells, 3);
    assert.equal(s.csv, `${t.dir}/out/run-21/summary.csv`);
    const rows = parse(await Deno.readTextFile(s.csv)) as string[][];
    const power = rows.find((r) =>
      r[0] === "power" && r[1] === "distance +1σ" && r[3] === "policy"
    );
    assert.equal(Number(power![5]), 1, "a 1σ shift is caught at 500 rows");
    assert.equal(
      new TextDecoder().decode(await ctx.getArtifact(s.csvArtifact)),
      await Deno.readTextFile(s.csv),
    );
    assert.match(await Deno.readTextFile(s.html), /Stream protocol/);
    assert.equal(
      t.lines.at(-1),
      `wrote ${t.dir}/out/run-21/summary.csv and ${t.dir}/out/run-21/report.html`,
    );
  } finally {
    await t.close();
  }
});
