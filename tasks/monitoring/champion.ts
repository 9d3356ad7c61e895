/**
 * The champion as monitoring sees it: its version, the data it is compared with (the out-of-time
 * holdout `training` recorded — the honest reference — at the prior the version records, so a
 * recalibrated champion is compared with its new prior), and its scores on a table through its
 * ONNX graph (the serving path).
 *
 * @example
 * ```ts
 * import { championReference, referenceAtPrior, scoreTable } from "./champion.ts";
 * const c = await championReference(registry, "flights_delay");
 * const ref = referenceAtPrior(holdout, "late", "yes", c.positiveShare, 0);
 * const scored = await scoreTable(onnx, model, batch, "yes", "__score");
 * ```
 */
import type { ModelRegistry, ModelVersion } from "../../models/registry/registry.ts";
import type { TrainedModel } from "../../models/model.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import { rowCount, type Table } from "../data/table.ts";
import { injectDrift } from "../drift/inject.ts";

/** The champion's version and the key or path of its reference data. */
export interface ChampionReference {
  version: number;
  reference: string;
  /** Where the reference came from: the out-of-time holdout, or the training data (older models). */
  kind: "holdout" | "training";
  /**
   * The positive share the version is monitored against (`params.reference.positiveShare`): the
   * holdout's, or a recalibrated version's new prior; null when the version records none.
   */
  positiveShare: number | null;
}

/** The reference data a version records: `params.reference.data`, the holdout, else its training data. */
export function referenceOf(v: ModelVersion): ChampionReference {
  const p = v.params as Record<string, unknown>;
  const ref = p.reference as { data?: unknown } | undefined;
  const holdout = typeof ref?.data === "string" ? ref.data : p.holdoutData;
  const share = (ref as { positiveShare?: unknown } | undefined)?.positiveShare;
  const positiveShare = typeof share === "number" && Number.isFinite(share) ? share : null;
  if (typeof holdout === "string" && holdout) {
    return { version: v.version, reference: holdout, kind: "holdout", positiveShare };
  }
  if (typeof p.trainingData === "string" && p.trainingData) {
    return { version: v.version, reference: p.trainingData, kind: "training", positiveShare };
  }
  throw new Error(
    `${v.name} v${v.version} records no reference data (params.reference.data, holdoutData or trainingData); retrain it with \`deno task run training\``,
  );
}

/** The current champion of `model` and its reference. */
export async function championReference(
  registry: ModelRegistry,
  model: string,
): Promise<ChampionReference> {
  return referenceOf(await registry.resolve(`${model}@champion`));
}

/** The table with the model's probability of `positiveLabel` in column `into`. */
export async function scoreTable(
  onnx: Uint8Array,
  model: TrainedModel,
  t: Table,
  positiveLabel: string,
  into: string,
): Promise<Table> {
  const classes = model.spec.target.classes ?? [];
  const k = classes.indexOf(positiveLabel);
  if (k < 0) {
    throw new RangeError(
      `the model's classes are ${classes.join(", ")}; "${positiveLabel}" is not one of them`,
    );
  }
  const out = await runOnnx(onnx, t, model.spec);
  return {
    ...t,
    [into]: Float64Array.from(
      { length: rowCount(t) },
      (_, i) => out.probabilities![i * out.width + k],
    ),
  };
}

/**
 * The reference at the prior the champion is monitored against: a recalibrated version keeps its
 * parent's holdout but records the new prior, so the holdout's rows are resampled (seeded, within
 * each class — a label shift) to that positive share. Unchanged when the share already matches.
 */
export function referenceAtPrior(
  t: Table,
  target: string,
  positiveLabel: string,
  positiveShare: number | null,
  seed: number,
): Table {
  const y = t[target];
  const n = rowCount(t);
  if (positiveShare === null || y === undefined || n === 0) return t;
  let positives = 0;
  for (let i = 0; i < n; i++) if (y[i] === positiveLabel) positives++;
  if (Math.abs(positives / n - positiveShare) * n < 1) return t;
  return injectDrift(t, { kind: "prior_shift", target, positiveShare, positiveLabel }, { seed })
    .table;
}
