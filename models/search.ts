/**
 * Hyperparameter search over a declared space: random sampling and successive halving (Jamieson
 * and Talwalkar 2016). Trials are plain data, so a DAG can map one task instance over them and the
 * engine runs them in parallel and keeps each in the history; see dags/hp_search.ts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { halvingPlan, sampleTrials } from "./search.ts";
 * const space = { learningRate: { type: "float", low: 0.02, high: 0.3, log: true } } as const;
 * const trials = sampleTrials(space, 9, 1);
 * assert.equal(trials.length, 9);
 * assert.ok(trials.every((t) => Number(t.params.learningRate) >= 0.02));
 * assert.deepEqual(halvingPlan(9, 3, 100), [
 *   { trials: 9, rounds: 11 },
 *   { trials: 3, rounds: 33 },
 *   { trials: 1, rounds: 100 },
 * ]);
 * ```
 */
import { z } from "zod";
import type { Table } from "./core/table.ts";
import { Random } from "./core/random.ts";
import { higherIsBetter, type MetricName } from "./metrics.ts";
import { trainModel } from "./model.ts";

/** One dimension of a search space. */
export const Dimension = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("int"),
    low: z.number().int(),
    high: z.number().int(),
    log: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("float"),
    low: z.number(),
    high: z.number(),
    log: z.boolean().default(false),
  }),
  z.object({
    type: z.literal("choice"),
    values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1),
  }),
]).refine((d) => d.type === "choice" || d.low <= d.high, { message: "low must not exceed high" })
  .refine((d) => d.type === "choice" || !d.log || d.low > 0, {
    message: "a log scale needs low > 0",
  });

/** A search space: hyperparameter name → dimension. */
export const SearchSpace = z.record(z.string(), Dimension);
export type SearchSpace = z.input<typeof SearchSpace>;

/** A default space for the GBDT. */
export const GBDT_SPACE: SearchSpace = {
  learningRate: { type: "float", low: 0.03, high: 0.3, log: true },
  numLeaves: { type: "int", low: 7, high: 63, log: true },
  minSamplesLeaf: { type: "int", low: 5, high: 100, log: true },
  l2: { type: "float", low: 0.001, high: 10, log: true },
  colSubsample: { type: "float", low: 0.5, high: 1 },
};

/** One trial's parameters. */
export interface Trial {
  trial: number;
  params: Record<string, string | number | boolean>;
}

/** `n` seeded random draws from the space. */
export function sampleTrials(space: SearchSpace, n: number, seed: number): Trial[] {
  const s = SearchSpace.parse(space);
  const rng = new Random(seed);
  return Array.from({ length: n }, (_, trial) => {
    const params: Trial["params"] = {};
    for (const [name, d] of Object.entries(s)) {
      if (d.type === "choice") params[name] = d.values[rng.int(d.values.length)];
      else {
        const u = rng.next();
        const v = d.log
          ? Math.exp(Math.log(d.low) + u * (Math.log(d.high) - Math.log(d.low)))
          : d.low + u * (d.high - d.low);
        params[name] = d.type === "int" ? Math.min(d.high, Math.max(d.low, Math.round(v))) : v;
      }
    }
    return { trial, params };
  });
}

/** The rungs of successive halving: how many trials survive and with how many boosting rounds. */
export function halvingPlan(
  trials: number,
  eta: number,
  maxRounds: number,
): { trials: number; rounds: number }[] {
  const rungs: { trials: number; rounds: number }[] = [];
  let k = 0;
  while (Math.floor(trials / eta ** k) >= 1) k++;
  for (let r = 0; r < k; r++) {
    rungs.push({
      trials: Math.max(1, Math.floor(trials / eta ** r)),
      rounds: Math.max(1, Math.round(maxRounds / eta ** (k - 1 - r))),
    });
  }
  return rungs;
}

/** A trial's outcome. */
export interface TrialResult extends Trial {
  rounds: number;
  metric: MetricName;
  value: number;
}

/** Trains one trial and scores it on its validation split. */
export function evaluateTrial(
  table: Table,
  trial: Trial,
  opts: {
    target: string;
    metric: MetricName;
    rounds: number;
    seed: number;
    validFraction?: number;
  },
): TrialResult {
  const { model } = trainModel(table, {
    target: opts.target,
    algo: "gbdt",
    seed: opts.seed,
    validFraction: opts.validFraction ?? 0.25,
    params: { ...trial.params, nEstimators: opts.rounds },
  });
  const value = model.metrics[opts.metric];
  if (value === undefined) {
    throw new Error(
      `the model reports no "${opts.metric}" (it has ${Object.keys(model.metrics).join(", ")})`,
    );
  }
  return { ...trial, rounds: opts.rounds, metric: opts.metric, value };
}

/** The best `k` results, best first. */
export function bestOf(results: TrialResult[], k: number): TrialResult[] {
  if (results.length === 0) return [];
  const sign = higherIsBetter(results[0].metric) ? -1 : 1;
  return [...results].sort((a, b) => sign * (a.value - b.value)).slice(0, k);
}
