/**
 * The champion/challenger gate: scores the `champion` and `challenger` versions of a registered
 * model on the same holdout through ONNX Runtime (the serving path), with a paired bootstrap
 * interval on their difference, and promotes the challenger only when it wins by the margin and the
 * interval excludes no improvement. Promotion moves the aliases and records why in the alias
 * history.
 *
 * @example
 * ```ts
 * import { compareChallenger } from "./gate.ts";
 * const verdict = await compareChallenger("delays", holdout, "roc_auc", { registry, artifacts, margin: 0.005, promote: true });
 * verdict.promoted; verdict.reason;
 * ```
 */
import type { ArtifactStore } from "../runner/artifacts/artifact_store.ts";
import { rowCount, type Table } from "../tasks/data/table.ts";
import { Random } from "../tasks/random.ts";
import { classIndex } from "./columns.ts";
import { higherIsBetter, type MetricName, METRICS } from "./metrics.ts";
import { loadModel } from "./package.ts";
import { runOnnx } from "./onnx/runtime.ts";
import { ModelNotFoundError, type ModelRegistry } from "./registry/registry.ts";

/** One side's score. */
export interface SideScore {
  version: number;
  value: number;
  ciLow: number;
  ciHigh: number;
}

/** The gate's verdict. */
export interface GateVerdict {
  metric: MetricName;
  champion: SideScore | null;
  challenger: SideScore;
  /** challenger − champion, oriented so that positive is better. */
  improvement: { value: number; ciLow: number; ciHigh: number } | null;
  margin: number;
  promoted: boolean;
  wouldPromote: boolean;
  reason: string;
}

/** Labels and the score the metric needs, from the ONNX outputs. */
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
  const y = classIndex(holdout[spec.target.names[0]], spec.target.classes!);
  if (out.width !== 2) throw new Error("the gate compares binary classifiers or regressors");
  return { y, s: Float64Array.from({ length: n }, (_, i) => out.probabilities![i * 2 + 1]) };
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
    rounds?: number;
    seed?: number;
    promote?: boolean;
    runId?: number | null;
  },
): Promise<GateVerdict> {
  const margin = opts.margin ?? 0.005, rounds = opts.rounds ?? 500;
  const fn = METRICS[metric];
  const sign = higherIsBetter(metric) ? 1 : -1;
  const challenger = await loadModel(`${name}@challenger`, opts);
  const ch = await scores(challenger.onnx, challenger.model, holdout);
  let champion: Awaited<ReturnType<typeof loadModel>> | null = null;
  try {
    champion = await loadModel(`${name}@champion`, opts);
  } catch (e) {
    if (!(e instanceof ModelNotFoundError)) throw e; // no champion yet
  }
  const rng = new Random(opts.seed ?? 0);
  const n = ch.y.length;
  const cs = champion ? await scores(champion.onnx, champion.model, holdout) : null;
  const ys = new Float64Array(n), a = new Float64Array(n), b = new Float64Array(n);
  const chVals: number[] = [], chaVals: number[] = [], diffs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      const k = rng.int(n);
      ys[i] = ch.y[k];
      a[i] = ch.s[k];
      if (cs) b[i] = cs.s[k];
    }
    const va = fn(ys, a);
    chaVals.push(va);
    if (cs) {
      const vb = fn(ys, b);
      chVals.push(vb);
      diffs.push(sign * (va - vb));
    }
  }
  const interval = (values: number[], value: number) => {
    const v = values.filter(Number.isFinite).sort((x, y) => x - y);
    return {
      value,
      ciLow: v[Math.floor(0.025 * v.length)],
      ciHigh: v[Math.min(v.length - 1, Math.floor(0.975 * v.length))],
    };
  };
  const challengerScore = {
    version: challenger.version!.version,
    ...interval(chaVals, fn(ch.y, ch.s)),
  };
  let verdict: GateVerdict;
  if (!champion || !cs) {
    verdict = {
      metric,
      champion: null,
      challenger: challengerScore,
      improvement: null,
      margin,
      promoted: false,
      wouldPromote: true,
      reason: `no champion yet: version ${challengerScore.version} becomes champion`,
    };
  } else {
    const championScore = {
      version: champion.version!.version,
      ...interval(chVals, fn(cs.y, cs.s)),
    };
    const improvement = interval(diffs, sign * (challengerScore.value - championScore.value));
    const wins = improvement.value >= margin && improvement.ciLow > 0;
    verdict = {
      metric,
      champion: championScore,
      challenger: challengerScore,
      improvement,
      margin,
      promoted: false,
      wouldPromote: wins,
      reason: wins
        ? `challenger v${challengerScore.version} beats champion v${championScore.version} on ${metric} by ${
          improvement.value.toFixed(4)
        } (95% CI ${improvement.ciLow.toFixed(4)}..${
          improvement.ciHigh.toFixed(4)
        }) ≥ margin ${margin}`
        : `challenger v${challengerScore.version} does not beat champion v${championScore.version} on ${metric} by the margin ${margin}: improvement ${
          improvement.value.toFixed(4)
        } (95% CI ${improvement.ciLow.toFixed(4)}..${improvement.ciHigh.toFixed(4)})`,
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
