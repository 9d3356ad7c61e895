import assert from "node:assert/strict";
import { clopperPearson, estimationSvg } from "../../../tests/bench/estimation.ts";

Deno.test("bench estimation: the chart draws each batch's interval, estimate and realized value", () => {
  const rows = [
    { group: "clean", name: "same period", est: 0.62, real: 0.61, ciLow: 0.6, ciHigh: 0.64 },
    { group: "clean", name: "same period", est: 0.63, real: 0.64, ciLow: 0.61, ciHigh: 0.65 },
    { group: "natural", name: "May <hot>", est: 0.62, real: 0.66, ciLow: 0.6, ciHigh: 0.64 },
  ];
  const svg = estimationSvg(rows, "t & t");
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/stroke="#90caf9"/g)?.length, 3); // intervals
  assert.equal(svg.match(/<circle[^>]*fill="#1565c0"/g)?.length, 3); // estimates
  assert.equal(svg.match(/<circle[^>]*fill="#000"/g)?.length, 3); // realized
  assert.ok(svg.includes("May &lt;hot>") && svg.includes("t &amp; t"));
  assert.equal(svg.match(/>same period</g)?.length, 1); // one label per group of batches
});

Deno.test("bench estimation: Clopper–Pearson intervals of a coverage share match known values", () => {
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 5e-4, `${a} vs ${b}`);
  // 8 of 10 (the README's old 0.80): 0.4439–0.9748 (R: binom.test(8, 10)$conf.int)
  let ci = clopperPearson(8, 10);
  near(ci.low, 0.4439);
  near(ci.high, 0.9748);
  ci = clopperPearson(50, 100);
  near(ci.low, 0.3983);
  near(ci.high, 0.6017);
  ci = clopperPearson(0, 10);
  assert.equal(ci.low, 0);
  near(ci.high, 0.3085);
  ci = clopperPearson(10, 10);
  near(ci.low, 0.6915);
  assert.equal(ci.high, 1);
  assert.throws(() => clopperPearson(3, 2), /0 ≤ k ≤ n/);
});
