import assert from "node:assert/strict";
import { Random } from "../../../models/core/random.ts";
import {
  cusumThreshold,
  DetectorState,
  falseAlarmStatement,
  initDetector,
  nextDetector,
  nullModel,
  siegmundArl0,
  standardise,
  zFromPValue,
} from "../../../tasks/drift/sequential.ts";
import { normalSf } from "../../../tasks/drift/special.ts";

/** Runs a detector over a stream of z values; alarm batch indices. */
function run(state: DetectorState, zs: ArrayLike<number>): number[] {
  const alarms: number[] = [];
  for (let t = 0; t < zs.length; t++) {
    const r = nextDetector(state, zs[t]);
    state = r.state;
    if (r.alarm) alarms.push(t);
  }
  return alarms;
}

function stream(seed: number, n: number, mean: (t: number) => number): Float64Array {
  const rng = new Random(seed);
  return Float64Array.from({ length: n }, (_, t) => mean(t) + rng.normal());
}

Deno.test("sequential: Siegmund's ARL0 and its inverse (k = 0.5, h = 5 → ≈ 938 batches)", () => {
  assert.ok(Math.abs(siegmundArl0(0.5, 5) - 938) < 2, `${siegmundArl0(0.5, 5)}`);
  assert.ok(Math.abs(cusumThreshold(938, 0.5) - 5) < 0.01);
  assert.ok(Math.abs(zFromPValue(0.025) - 1.959964) < 1e-6);
  assert.ok(Math.abs(normalSf(zFromPValue(0.3)) - 0.3) < 1e-9);
  assert.equal(zFromPValue(1), -Infinity);
  const nm = nullModel([0.7, 0.72, 0.74]);
  assert.ok(Math.abs(standardise(0.68, nm, false) - 2) < 1e-9);
});

for (const kind of ["cusum", "page_hinkley"] as const) {
  Deno.test(`sequential ${kind}: false alarms per 100 clean batches at the stated rate (300 seeds)`, () => {
    for (const arl0 of [100, 500]) {
      let alarms = 0, batches = 0;
      for (let seed = 0; seed < 300; seed++) {
        const zs = stream(seed, 200, () => 0);
        alarms += run(initDetector(kind, { arl0 }), zs).length;
        batches += zs.length;
      }
      const per100 = (100 * alarms) / batches, stated = 100 / arl0;
      // at most 1.3× the stated rate (clipping only lowers it), and not vacuously silent
      assert.ok(per100 <= 1.3 * stated, `${kind} ARL0 ${arl0}: ${per100} per 100 vs ${stated}`);
      assert.ok(per100 >= 0.3 * stated, `${kind} ARL0 ${arl0}: ${per100} per 100 vs ${stated}`);
    }
    // the default (ARL0 500) is at most 1 per 100 batches
    assert.match(falseAlarmStatement(initDetector(kind)), /0\.20 false alarms per 100/);
  });

  Deno.test(`sequential ${kind}: a known change point is caught with a measured delay (200 seeds)`, () => {
    const onset = 50, seeds = 200;
    const delays: number[] = [];
    let early = 0;
    for (let seed = 0; seed < seeds; seed++) {
      const zs = stream(1000 + seed, 150, (t) => (t >= onset ? 1 : 0));
      const alarms = run(initDetector(kind), zs);
      early += alarms.filter((t) => t < onset).length;
      const first = alarms.find((t) => t >= onset);
      if (first !== undefined) delays.push(first - onset + 1);
    }
    delays.sort((a, b) => a - b);
    const median = delays[Math.floor(delays.length / 2)];
    // Page–Hinkley's running mean absorbs part of a step, so it misses a few that CUSUM catches
    const detected = kind === "cusum" ? 0.98 : 0.95;
    assert.ok(delays.length >= detected * seeds, `detected ${delays.length}/${seeds}`);
    assert.ok(median <= 15, `median delay ${median} batches`);
    // before the onset: false alarms at the stated rate (0.2 per 100 batches × 50 batches)
    assert.ok(early / seeds <= 0.2, `early alarms per stream ${early / seeds}`);
  });
}

Deno.test("sequential cusum: an incremental drift too small for one batch's test is caught", () => {
  const onset = 20, seeds = 200;
  const meanAt = (t: number) => (t >= onset ? 0.02 * (t - onset + 1) : 0);
  const delays: number[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    const zs = stream(2000 + seed, 200, meanAt);
    const first = run(initDetector("cusum"), zs).find((t) => t >= onset);
    if (first !== undefined) delays.push(first - onset + 1);
  }
  delays.sort((a, b) => a - b);
  const median = delays[Math.floor(delays.length / 2)];
  assert.ok(delays.length >= 0.98 * seeds, `detected ${delays.length}/${seeds}`);
  // at the median detection the batch's mean z is below the one-sided 5% critical value (1.645):
  // a single-batch test would still miss it more often than not
  const zAtDetection = meanAt(onset + median - 1);
  assert.ok(zAtDetection < 1.645, `mean z at detection ${zAtDetection} (delay ${median})`);
  const singleBatchPower = normalSf(1.645 - zAtDetection);
  assert.ok(singleBatchPower < 0.5, `single-batch power then ${singleBatchPower}`);
});

Deno.test("sequential: a one-batch blip never alarms on its own and barely moves later alarms", () => {
  for (const kind of ["cusum", "page_hinkley"] as const) {
    let atBlip = 0, after = 0;
    const seeds = 300;
    for (let seed = 0; seed < seeds; seed++) {
      const zs = stream(3000 + seed, 60, () => 0);
      zs[30] = 12; // p ≈ 1e-33 in one batch
      const alarms = run(initDetector(kind), zs);
      if (alarms.includes(30)) atBlip++;
      if (alarms.some((t) => t > 30)) after++;
    }
    // only where chance evidence had already accumulated (S > 0 before the blip)
    assert.ok(atBlip / seeds <= 0.05, `${kind} alarmed on the blip ${atBlip / seeds}`);
    // a blip from a clean state, with the default settings, once past Page–Hinkley's minBatches
    // (so it is the clipping that keeps it silent, not the warm-up)
    let clean = initDetector(kind);
    for (let t = 0; t < 5; t++) clean = nextDetector(clean, 0).state;
    const fresh = nextDetector(clean, 1e6);
    assert.equal(fresh.alarm, false, `${kind}: a blip from a clean state alarmed`);
    assert.ok(
      after / seeds <= 0.15,
      `${kind}: alarms in the 30 batches after a blip ${after / seeds}`,
    );
  }
});

Deno.test("sequential: state is plain JSON — a stream resumed from stored JSON equals one run", () => {
  for (const kind of ["cusum", "page_hinkley"] as const) {
    const zs = stream(7, 300, (t) => (t >= 100 ? 0.8 : 0));
    let live = initDetector(kind);
    let stored = JSON.stringify(initDetector(kind));
    for (const zv of zs) {
      const a = nextDetector(live, zv);
      const b = nextDetector(DetectorState.parse(JSON.parse(stored)), zv);
      assert.equal(a.alarm, b.alarm);
      live = a.state;
      stored = JSON.stringify(b.state);
    }
    assert.deepEqual(JSON.parse(stored), JSON.parse(JSON.stringify(live)));
    assert.ok(live.alarms >= 1);
  }
  assert.throws(() => nextDetector(initDetector("cusum"), NaN), /z is NaN/);
});

Deno.test("sequential page_hinkley: no alarm before minBatches, fresh or after a reset", () => {
  // the reviewer's repro: ARL0 20, minBatches 5, z = −2.5 then +2.5 alarmed at batch 2
  let st = initDetector("page_hinkley", { arl0: 20, minBatches: 5 });
  st = nextDetector(st, -2.5).state;
  assert.equal(nextDetector(st, 2.5).alarm, false, "alarmed at batch 2 of minBatches 5");
  for (const minBatches of [3, 5, 8]) {
    let alarmsAfterWarmUp = 0;
    for (let seed = 0; seed < 100; seed++) {
      // a hard stream for the rule: a sharp drop then extreme drift, alternating
      const rng = new Random(4000 + seed);
      let state = initDetector("page_hinkley", { arl0: 20, minBatches });
      let sinceReset = 0;
      for (let t = 0; t < 60; t++) {
        const zv = t % 10 === 0 ? -2.5 : 2.5 * rng.next() + (t % 10 < 3 ? 0 : 1);
        const r = nextDetector(state, zv);
        sinceReset++;
        assert.ok(
          !r.alarm || sinceReset >= minBatches,
          `seed ${seed}: alarm ${sinceReset} batches after a reset, minBatches ${minBatches}`,
        );
        if (r.alarm) {
          alarmsAfterWarmUp++;
          sinceReset = 0;
        }
        state = r.state;
      }
    }
    // the stream does drift: the rule delays alarms, it does not silence the detector
    assert.ok(alarmsAfterWarmUp > 0, `minBatches ${minBatches}: no alarm at all`);
  }
});
