// `deno task bench drift` at a small size: it runs the peer, prints the table with the ratio and the
// figures (time per preset, speedups, peak memory) as JSON lines, and both sides agree on the
// statistics and the verdicts.
import assert from "node:assert/strict";

Deno.test("bench drift prints both sides, the ratio and its figures", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "tests/bench/main.ts", "drift", "--ref", "3000", "--cur", "20000"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  assert.match(text, /speedup \(peer \/ ours\)\s+[\d.]+×/);
  const figures = text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  assert.deepEqual(figures.map((f) => f.metric), [
    "drift.seconds",
    "drift.separate_seconds",
    "drift.default_seconds",
    "drift.evidently_seconds",
    "drift.peer_seconds",
    "drift.peer_default_seconds",
    "drift.peer_evidently_seconds",
    "drift.speedup",
    "drift.separate_speedup",
    "drift.default_speedup",
    "drift.evidently_speedup",
    "drift.raw_data_mb",
    "drift.rss_before_mb",
    "drift.peak_rss_mb",
    "drift.peak_memory_ratio",
    "drift.extra_memory_ratio",
  ]);
  for (const f of figures) {
    // the reports may add nothing measurable to the resident set at this small size
    const floor = f.metric === "drift.extra_memory_ratio" ? 0 : Number.MIN_VALUE;
    assert.ok(Number.isFinite(f.value) && f.value >= floor, JSON.stringify(f));
  }
  const diff = Number(text.match(/largest difference from the peer's statistics: ([\d.e+-]+)/)![1]);
  assert.ok(diff < 1e-9, `statistics differ from numpy/scipy by ${diff}`);
  assert.match(text, /verdicts that differ: 0\n/);
  assert.match(text, /one pass = one call each\s+yes/);
});
