/**
 * The champion/challenger gate: scores the `champion` and `challenger` versions of a registered
 * model on the same test set (training's out-of-time holdout, or the latest labelled batch) through
 * ONNX Runtime (the serving path), with a paired bootstrap on their difference, and promotes the
 * challenger only when it wins by the margin AND the one-sided (1 − alpha) lower bound of the
 * improvement is above zero. The bound's standard error adds two sources of noise: the test rows
 * (paired bootstrap) and retraining itself (`retrain_sd` of each version: the spread of the metric
 * over refits of the same configuration on subsamples of its training rows, measured by
 * `training`) — two fits of the same data on different seeds differ by more than the test rows
 * alone show, and without the second term such a "challenger" is promoted about twice as often as
 * alpha. So a challenger no better than the champion is promoted at most at rate alpha
 * (asymptotically; tested on seed-only retrains). The verdict carries the data it used (rows, time
 * range, content hash), each side's metric with its interval, the improvement's interval and the
 * error rate. Promotion moves the aliases and records why in the alias history.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../runner/artifacts/local.ts";
 * import { openPglite } from "../runner/store/pglite.ts";
 * import { Random } from "./core/random.ts";
 * import { compareChallenger } from "./gate.ts";
 * import { trainModel } from "./model.ts";
 * import { fingerprintTable, registerModel } from "./package.ts";
 * import { ModelRegistry } from "./registry/registry.ts";
 * const rng = new Random(1);
 * const rows = (n: number) => {
 *   const a = Float64Array.from({ length: n }, () => rng.normal());
 *   const b = Float64Array.from({ length: n }, () => rng.normal());
 *   return { a, b, y: Float64Array.from(a, (v, i) => (v + b[i] > 0 ? 1 : 0)) };
 * };
 * const train = rows(400), holdout = rows(400);
 * const params = { nEstimators: 20, minSamplesLeaf: 10 };
 * // a weak champion that sees `a` only, and a challenger that sees both
 * const weak = trainModel({ a: train.a, y: train.y }, { target: "y", params }).model;
 * const strong = trainModel(train, { target: "y", params }).model;
 * const dir = await Deno.makeTempDir();
 * const db = await openPglite(); // in memory
 * try {
 *   const registry = await ModelRegistry.open(db);
 *   const deps = { registry, artifacts: new LocalArtifactStore(dir) };
 *   const fingerprint = await fingerprintTable(train);
 *   const v1 = await registerModel(deps, weak, { name: "delays", fingerprint });
 *   await deps.registry.setAlias("delays", "champion", v1.version, { reason: "first model" });
 *   const v2 = await registerModel(deps, strong, { name: "delays", fingerprint });
 *   await deps.registry.setAlias("delays", "challenger", v2.version, { reason: "retrained" });
 *   const verdict = await compareChallenger("delays", holdout, "roc_auc", {
 *     ...deps,
 *     margin: 0.005,
 *     rounds: 100,
 *     promote: true,
 *   });
 *   assert.ok(verdict.promoted, verdict.reason); // the reason says by how much, on which rows
 *   assert.equal(verdict.data.rows, 400);
 *   assert.equal((await deps.registry.resolve("delays@champion")).version, v2.version);
 * } finally {
 *   await db.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import type { ArtifactStore } from "../runner/artifacts/artifact_store.ts";
import { rowCount, type Table } from "./core/table.ts";
import { Random } from "./core/random.ts";
import { classIndex } from "./core/columns.ts";
import {
  drawResample,
  higherIsBetter,
  type MetricName,
  METRICS,
  normalQuantile,
  onResamples,
} from "./metrics.ts";
import { fingerprintTable, loadModel } from "./package.ts";
import { runOnnx } from "./onnx/runtime.ts";
import { timeRange } from "./reference.ts";
import { ModelNotFoundError, type ModelRegistry } from "./registry/registry.ts";

/** One side's score with its 95 % percentile bootstrap interval. */
export interface SideScore {
  version: number;
  value: number;
  ciLow: number;
  ciHigh: number;
}

/** The test set the gate scored on. */
export interface GateData {
  /** Labelled rows scored. */
  rows: number;
  from: string | null;
  to: string | null;
  timeColumn: string | null;
  /** SHA-256 of the test table's content. */
  sha256: string;
}

/** The gate's verdict. */
export interface GateVerdict {
  metric: MetricName;
  data: GateData;
  champion: SideScore | null;
  challenger: SideScore;
  /**
   * challenger − champion, oriented so that positive is better; `ciLow` is the one-sided
   * (1 − alpha) lower bound and `ciHigh` the (1 − alpha) upper bound.
   */
  improvement: Improvement | null;
  margin: number;
  /** The rate at which a challenger no better than the champion is promoted (alpha). */
  errorRate: number;
  rounds: number;
  method: "paired bootstrap";
  promoted: boolean;
  wouldPromote: boolean;
  reason: string;
}

/** The improvement (challenger − champion, positive = better) and its interval's parts. */
export interface Improvement {
  value: number;
  /** value ∓ z(1 − alpha) · se. */
  ciLow: number;
  ciHigh: number;
  /** sqrt(bootstrapSe² + retrainSd²). */
  se: number;
  /** The paired bootstrap over the test rows: its SE and percentile (alpha, 1 − alpha) bounds. */
  bootstrap: { se: number; ciLow: number; ciHigh: number };
  /** SD of the difference between two retrains of the same data (0 when unknown). */
  retrainSd: number;
}

/** What the decision takes. */
export interface DecisionOptions {
  metric: MetricName;
  margin?: number;
  alpha?: number;
  rounds?: number;
  seed?: number;
  /** SD of the metric's difference between two retrains of the same data (default 0). */
  retrainSd?: number;
}

/** The pure decision on scores of both sides for the same labelled rows. */
export interface Decision {
  champion: { value: number; ciLow: number; ciHigh: number } | null;
  challenger: { value: number; ciLow: number; ciHigh: number };
  improvement: Improvement | null;
  wouldPromote: boolean;
  margin: number;
  errorRate: number;
  rounds: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;

/**
 * Champion vs challenger on the same rows (`champion` null: no champion yet): each side's metric
 * with a 95 % percentile bootstrap interval, and the oriented difference with its standard error
 * (paired bootstrap SE combined with the retraining SD); promote when the difference is at least
 * `margin` and its one-sided (1 − alpha) normal lower bound is above zero.
 */
export function gateDecision(
  y: ArrayLike<number>,
  champion: ArrayLike<number> | null,
  challenger: ArrayLike<number>,
  opts: DecisionOptions,
): Decision {
  const margin = opts.margin ?? 0.005, rounds = opts.rounds ?? 500, alpha = opts.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`gate: alpha ${alpha} is not in (0, 0.5)`);
  const fn = METRICS[opts.metric];
  const sign = higherIsBetter(opts.metric) ? 1 : -1;
  const n = y.length;
  if (n === 0) throw new RangeError("gate: the test set has no labelled rows");
  const rng = new Random(opts.seed ?? 0);
  const chaVals: number[] = [], chVals: number[] = [], diffs: number[] = [];
  // each model's metric on a resample, paired: the same rows drawn for both
  const onCha = onResamples(fn, y, challenger);
  const onCh = champion ? onResamples(fn, y, champion) : null;
  const drawn = new Uint32Array(n), counts = new Uint32Array(n);
  for (let r = 0; r < rounds; r++) {
    drawResample(rng, drawn, counts);
    const va = onCha(drawn, counts);
    const vb = onCh ? onCh(drawn, counts) : NaN;
    if (Number.isFinite(va)) chaVals.push(va);
    if (champion) {
      if (Number.isFinite(vb)) chVals.push(vb);
      if (Number.isFinite(va) && Number.isFinite(vb)) diffs.push(sign * (va - vb));
    }
  }
  const interval = (values: number[], value: number, lo: number, hi: number) => {
    const v = values.sort((x, z) => x - z);
    return { value, ciLow: quantile(v, lo), ciHigh: quantile(v, hi) };
  };
  const challengerScore = interval(chaVals, fn(y, challenger), 0.025, 0.975);
  if (!champion) {
    return {
      champion: null,
      challenger: challengerScore,
      improvement: null,
      wouldPromote: true,
      margin,
      errorRate: alpha,
      rounds,
    };
  }
  const championScore = interval(chVals, fn(y, champion), 0.025, 0.975);
  const value = sign * (challengerScore.value - championScore.value);
  const pct = interval(diffs, value, alpha, 1 - alpha);
  const mean = diffs.reduce((t, v) => t + v, 0) / Math.max(1, diffs.length);
  const bootSe = Math.sqrt(
    diffs.reduce((t, v) => t + (v - mean) ** 2, 0) / Math.max(1, diffs.length - 1),
  );
  const retrainSd = opts.retrainSd ?? 0;
  const se = Math.sqrt(bootSe ** 2 + retrainSd ** 2);
  const z = normalQuantile(1 - alpha);
  const improvement: Improvement = {
    value,
    ciLow: value - z * se,
    ciHigh: value + z * se,
    se,
    bootstrap: { se: bootSe, ciLow: pct.ciLow, ciHigh: pct.ciHigh },
    retrainSd,
  };
  return {
    champion: championScore,
    challenger: challengerScore,
    improvement,
    wouldPromote: improvement.value >= margin && improvement.ciLow > 0,
    margin,
    errorRate: alpha,
    rounds,
  };
}

/** Labels and the score the metric needs, from the ONNX outputs; unlabelled rows dropped. */
async function scores(
  onnx: Uint8Array,
  model: Awaited<ReturnType<typeof loadModel>>["model"],
  holdout: Table,
): Promise<{ y: Float64Array; s: Float64Array }> {
  const spec = model.spec;
  const out = await runOnnx(onnx, holdout, spec);
  const n = rowCount(holdout);
  if (spec.target.task === "regression") {
    const y = holdout[spec.target.names[0]] as Float64Array;
    return { y, s: Float64Array.from({ length: n }, (_, i) => out.predictions![i * out.width]) };
  }
  if (out.width !== 2) throw new Error("the gate compares binary classifiers or regressors");
  const all = classIndex(holdout[spec.target.names[0]], spec.target.classes!);
  const y: number[] = [], s: number[] = [];
  for (let i = 0; i < n; i++) {
    if (all[i] < 0) continue;
    y.push(all[i]);
    s.push(out.probabilities![i * 2 + 1]);
  }
  return { y: Float64Array.from(y), s: Float64Array.from(s) };
}

const f4 = (v: number) => v.toFixed(4);

/**
 * SD of the difference between two retrains, from the versions' recorded per-model retrain SDs
 * (`retrain_sd_<metric>`): sqrt(a² + b²), one side's √2·a when only it has one, else 0.
 */
export function retrainSdOf(
  metric: MetricName,
  ...sides: (Awaited<ReturnType<typeof loadModel>> | null)[]
): number {
  const sds = sides.map((s) => s?.version?.metrics[`retrain_sd_${metric}`])
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (sds.length === 0) return 0;
  const meanSq = sds.reduce((t, v) => t + v * v, 0) / sds.length;
  return Math.sqrt(2 * meanSq);
}

/** Compares champion and challenger of `name` on `holdout` by `metric`; optionally promotes. */
export async function compareChallenger(
  name: string,
  holdout: Table,
  metric: MetricName,
  opts: {
    registry: ModelRegistry;
    artifacts: ArtifactStore;
    margin?: number;
    /** One-sided error rate of promoting a challenger that is no better (default 0.05). */
    alpha?: number;
    rounds?: number;
    seed?: number;
    promote?: boolean;
    runId?: number | null;
    /** The test set's time column, for the time range in the verdict (default "date"). */
    timeColumn?: string | null;
    /** SD of the difference between retrains; default from the versions' `retrain_sd` metrics. */
    retrainSd?: number;
  },
): Promise<GateVerdict> {
  const challenger = await loadModel(`${name}@challenger`, opts);
  const ch = await scores(challenger.onnx, challenger.model, holdout);
  let champion: Awaited<ReturnType<typeof loadModel>> | null = null;
  try {
    champion = await loadModel(`${name}@champion`, opts);
  } catch (e) {
    if (!(e instanceof ModelNotFoundError)) throw e; // no champion yet
  }
  const cs = champion ? await scores(champion.onnx, champion.model, holdout) : null;
  const d = gateDecision(ch.y, cs?.s ?? null, ch.s, {
    metric,
    margin: opts.margin,
    alpha: opts.alpha,
    rounds: opts.rounds,
    seed: opts.seed,
    retrainSd: opts.retrainSd ?? retrainSdOf(metric, challenger, champion),
  });
  const timeColumn = opts.timeColumn === undefined ? "date" : opts.timeColumn;
  const data: GateData = {
    rows: ch.y.length,
    ...timeRange(holdout, timeColumn),
    timeColumn: timeColumn !== null && timeColumn in holdout ? timeColumn : null,
    sha256: (await fingerprintTable(holdout)).sha256,
  };
  const on = `on ${data.rows} rows${data.from ? ` from ${data.from} to ${data.to}` : ""} (sha256 ${
    data.sha256.slice(0, 12)
  }…)`;
  const challengerScore = { version: challenger.version!.version, ...d.challenger };
  const base = {
    metric,
    data,
    challenger: challengerScore,
    margin: d.margin,
    errorRate: d.errorRate,
    rounds: d.rounds,
    method: "paired bootstrap" as const,
    promoted: false,
    wouldPromote: d.wouldPromote,
  };
  let verdict: GateVerdict;
  if (!champion || !d.champion || !d.improvement) {
    verdict = {
      ...base,
      champion: null,
      improvement: null,
      reason: `no champion yet: version ${challengerScore.version} becomes champion (${metric} ${
        f4(challengerScore.value)
      } ${on})`,
    };
  } else {
    const championScore = { version: champion.version!.version, ...d.champion };
    const imp = d.improvement;
    const sides = `${metric} ${f4(challengerScore.value)} vs ${f4(championScore.value)}`;
    const bound = `${Math.round((1 - d.errorRate) * 100)}% lower bound ${f4(imp.ciLow)} (SE ${
      f4(imp.se)
    }: paired bootstrap ${f4(imp.bootstrap.se)} over ${d.rounds} rounds, retraining ${
      f4(imp.retrainSd)
    }; a challenger no better than the champion is promoted at most ${
      d.errorRate * 100
    }% of the time)`;
    verdict = {
      ...base,
      champion: championScore,
      improvement: imp,
      reason: d.wouldPromote
        ? `challenger v${challengerScore.version} beats champion v${championScore.version} on ${metric} by ${
          f4(imp.value)
        } ≥ margin ${d.margin}, ${bound}: ${sides} ${on}`
        : `challenger v${challengerScore.version} does not beat champion v${championScore.version} on ${metric} by the margin ${d.margin} with its lower bound above 0: improvement ${
          f4(imp.value)
        }, ${bound}: ${sides} ${on}`,
    };
  }
  if (opts.promote && verdict.wouldPromote) {
    const why = { reason: verdict.reason, runId: opts.runId ?? null };
    if (verdict.champion) {
      await opts.registry.setAlias(name, "previous_champion", verdict.champion.version, why);
    }
    await opts.registry.setAlias(name, "champion", verdict.challenger.version, why);
    await opts.registry.setAlias(name, "challenger", null, why);
    verdict.promoted = true;
  }
  return verdict;
}
