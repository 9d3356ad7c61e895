/**
 * The GBDT trainer's parallel parts: the kernels against plain loops, the same trees for every
 * thread count (histograms in size-determined chunks added in order), workers terminated after
 * training (the test sanitizers catch a leak), and the single-thread fallback when workers are
 * unavailable.
 */
import assert from "node:assert/strict";
import { binColumn, binOf, distinctCounts, fitBins } from "../../models/gbdt/binning.ts";
import {
  addLeafValues,
  B,
  CHUNK_ROWS,
  chunkCount,
  chunkStart,
  HIST,
  histChunk,
  MAX_CHUNKS,
  partitionRows,
} from "../../models/gbdt/kernels.ts";
import { lastPoolStats, setWaitForWorkers } from "../../models/gbdt/pool.ts";
import {
  DEFAULT_THREADS_CAP,
  type GbdtData,
  threadCount,
  trainGbdt,
} from "../../models/gbdt/train.ts";
import { Random } from "../../models/core/random.ts";

/** n rows, 5 features (one with NaNs, one constant), labels for the objective. */
function data(n: number, seed: number, objective: GbdtData["objective"]): GbdtData {
  const rng = new Random(seed);
  const features = Array.from({ length: 5 }, () => new Float64Array(n));
  const labels = [new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    features[0][i] = rng.normal();
    features[1][i] = rng.int(300);
    features[2][i] = rng.next() < 0.05 ? NaN : rng.normal() * 10;
    features[3][i] = 7;
    features[4][i] = rng.int(12);
    const signal = features[0][i] + features[1][i] / 100 - (features[4][i] > 6 ? 1 : 0) +
      rng.normal();
    labels[0][i] = objective === "binary"
      ? (signal > 1 ? 1 : 0)
      : objective === "multiclass"
      ? (signal < 0 ? 0 : signal < 2 ? 1 : 2)
      : signal;
    labels[1][i] = -signal + rng.normal();
  }
  return {
    features,
    labels: objective === "regression" ? labels : [labels[0]],
    objective,
    nClasses: objective === "multiclass" ? 3 : undefined,
  };
}

Deno.test("histChunk equals a plain per-feature loop: unrolled, looped, on a subset", () => {
  const rng = new Random(1);
  const n = 1000;
  // 4 features: the generated unrolled kernel; 70: wider than it goes, the loop
  for (const F of [4, 70]) {
    const rowBins = Uint8Array.from({ length: n * F }, () => rng.int(B));
    const gh = Float64Array.from({ length: 2 * n }, () => rng.normal());
    const rows = Uint32Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 0);
    const all = Int32Array.from({ length: F }, (_, f) => f);
    for (const feats of [all, Int32Array.of(1, 3)]) {
      const out = new Float64Array(F * B * HIST).fill(99); // stale values must be cleared
      histChunk(rowBins, F, rows, 10, rows.length - 5, gh, feats, feats.length, out);
      for (const f of feats) {
        const want = new Float64Array(B * HIST);
        for (let r = 10; r < rows.length - 5; r++) {
          const i = rows[r], b = rowBins[i * F + f];
          want[b * HIST] += gh[2 * i];
          want[b * HIST + 1] += gh[2 * i + 1];
          want[b * HIST + 2] += 1;
        }
        assert.deepEqual(out.subarray(f * B * HIST, (f + 1) * B * HIST), want, `F ${F}, f ${f}`);
      }
    }
  }
});

Deno.test("partitionRows is stable and splits at the bin", () => {
  const bins = Uint8Array.of(5, 1, 9, 3, 3, 8, 0, 4);
  const rows = Uint32Array.of(99, 0, 1, 2, 3, 4, 5, 6, 7, 99);
  const mid = partitionRows(rows, 1, 9, bins, 3, new Uint32Array(10));
  assert.equal(mid, 5);
  assert.deepEqual(Array.from(rows), [99, 1, 3, 4, 6, 0, 2, 5, 7, 99]);
});

Deno.test("chunks depend on the row count only and cover the rows", () => {
  assert.equal(chunkCount(CHUNK_ROWS * 2 - 1), 1);
  assert.equal(chunkCount(CHUNK_ROWS * 2), 2);
  assert.equal(chunkCount(CHUNK_ROWS * 1000), MAX_CHUNKS);
  const nChunks = chunkCount(100_003);
  assert.equal(chunkStart(7, 100_010, 0, nChunks), 7);
  assert.equal(chunkStart(7, 100_010, nChunks, nChunks), 100_010);
  assert.equal(threadCount(3, 10), 3, "an explicit count is kept");
  assert.equal(threadCount(0, 1000), 1, "small data: one thread");
  assert.equal(threadCount(0, CHUNK_ROWS * 2, 10), 1, "few rounds: one thread");
  const auto = threadCount(0, CHUNK_ROWS * 8);
  assert.ok(auto >= 1 && auto <= DEFAULT_THREADS_CAP, `auto ${auto}`);
});

for (const objective of ["binary", "multiclass", "regression"] as const) {
  Deno.test(`gbdt ${objective}: the same trees on 1, 2 and 3 threads`, () => {
    // the root in MAX_CHUNKS chunks (binary) or 2 (the others), and children in fewer
    const d = data(CHUNK_ROWS * (objective === "binary" ? MAX_CHUNKS : 2) + 1234, 3, objective);
    const params = { nEstimators: 6, numLeaves: 15, seed: 2 };
    const one = trainGbdt(d, { ...params, threads: 1 });
    // workers join lazily: wait for them to come up, and check they ran chunks, so the same trees
    // come from more than one thread (the comparison is not vacuous)
    const previous = setWaitForWorkers(30_000);
    try {
      for (const threads of [2, 3]) {
        assert.deepEqual(trainGbdt(d, { ...params, threads }), one, `${threads} threads`);
        const stats = lastPoolStats();
        assert.ok(stats, `${threads} threads: no pool ran`);
        assert.equal(stats.threads, threads);
        assert.equal(stats.started, threads - 1, `${threads} threads: workers up ${stats.started}`);
        assert.ok(stats.workerChunks > 0, `${threads} threads: no worker ran a chunk`);
      }
    } finally {
      setWaitForWorkers(previous);
    }
    if (objective === "binary") {
      // subsampled rows and features take the other paths of the kernels
      const sub = { ...params, rowSubsample: 0.8, colSubsample: 0.6 };
      assert.deepEqual(trainGbdt(d, { ...sub, threads: 2 }), trainGbdt(d, { ...sub, threads: 1 }));
    }
  });
}

Deno.test("gbdt falls back to one thread, with the same trees, when workers are unavailable", () => {
  const d = data(CHUNK_ROWS * 2 + 10, 4, "binary");
  const params = { nEstimators: 4, numLeaves: 7 };
  const want = trainGbdt(d, { ...params, threads: 1 });
  const worker = globalThis.Worker;
  const error = console.error;
  const said: string[] = [];
  Reflect.deleteProperty(globalThis, "Worker");
  console.error = (...args: unknown[]) => said.push(args.join(" "));
  try {
    assert.deepEqual(trainGbdt(d, { ...params, threads: 2 }), want);
  } finally {
    globalThis.Worker = worker;
    console.error = error;
  }
  assert.deepEqual(said, ["GBDT training runs on one thread: this runtime has no Worker"]);
});

Deno.test("gbdt learns on several threads (held-out accuracy), and refuses a bad thread count", () => {
  const d = data(CHUNK_ROWS * 2 + 500, 5, "binary");
  const model = trainGbdt(d, { nEstimators: 30, threads: 2 });
  const test = data(5000, 6, "binary");
  let score = 0;
  const { trees } = model;
  for (let i = 0; i < 5000; i++) {
    let s = model.baseScore[0];
    for (const t of trees) {
      let node = 0;
      while (t.feature[node] >= 0) {
        const x = Math.fround(test.features[t.feature[node]][i]);
        node = x <= t.threshold[node] ? t.left[node] : t.right[node];
      }
      s += t.value[node];
    }
    if ((s > 0 ? 1 : 0) === test.labels[0][i]) score++;
  }
  assert.ok(score / 5000 > 0.75, `accuracy ${score / 5000}`);
  assert.throws(() => trainGbdt(d, { threads: -1 }), /threads/);
  assert.throws(() => trainGbdt(d, { threads: 1000 }), /threads/);
});

Deno.test("binning small-integer columns through a table equals sorting and binary search", () => {
  const rng = new Random(7);
  const columns = [
    Float64Array.from({ length: 5000 }, () => rng.int(12) + 1), // few values: a bin each
    Float64Array.from({ length: 5000 }, () => (rng.next() < 0.02 ? NaN : rng.int(4000) - 2000)),
    Float64Array.from({ length: 50 }, () => 3),
  ];
  for (const [i, col] of columns.entries()) {
    assert.deepEqual(distinctCounts(col), distinctCounts(col, false), `column ${i}`);
    for (const maxBins of [255, 8]) {
      const edges = fitBins(col, maxBins);
      const want = Uint8Array.from(
        col,
        (v) => (Number.isNaN(v) ? edges.length : binOf(Math.fround(v), edges)),
      );
      assert.deepEqual(binColumn(col, edges), want, `column ${i}, ${maxBins} bins`);
    }
  }
  assert.equal(fitBins(columns[0], 255).length, 11, "12 values, 11 thresholds");
});

Deno.test("addLeafValues keeps e^(−score) with the scores, through over- and underflow", () => {
  const rows = Uint32Array.of(2, 0, 1, 3);
  const score = Float64Array.of(0.5, -1, 2, 700);
  const expNeg = score.map((s) => Math.exp(-s));
  // leaves: positions [0, 2) get +0.25, [2, 4) get −900 (row 3 goes to −200: e^200 is finite;
  // row 1 to −901: e^901 overflows and is recomputed, as Infinity, from the score)
  const leaves = Float64Array.of(0, 2, 0.25, 2, 4, -900);
  for (let round = 0; round < 3; round++) {
    addLeafValues(rows, 0, 4, leaves, 2, score, 0, expNeg);
  }
  for (let i = 0; i < 4; i++) {
    const want = Math.exp(-score[i]);
    if (Number.isFinite(want)) {
      assert.ok(Math.abs(expNeg[i] - want) <= 1e-12 * want, `row ${i}: ${expNeg[i]} vs ${want}`);
    } else assert.equal(expNeg[i], want, `row ${i}`);
  }
  assert.deepEqual(Array.from(score), [1.25, -2701, 2.75, -2000]);
});
