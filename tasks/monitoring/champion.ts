/**
 * The champion as monitoring sees it: its version, the data it is compared with (the out-of-time
 * holdout `training` recorded — the honest reference), and its scores on a table through its ONNX
 * graph (the serving path).
 *
 * @example
 * ```ts
 * import { championReference, scoreTable } from "./champion.ts";
 * const c = await championReference(registry, "flights_delay");
 * const scored = await scoreTable(onnx, model, batch, "yes", "__score");
 * ```
 */
import type { ModelRegistry, ModelVersion } from "../../models/registry/registry.ts";
import type { TrainedModel } from "../../models/model.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import { rowCount, type Table } from "../data/table.ts";

/** The champion's version and the key or path of its reference data. */
export interface ChampionReference {
  version: number;
  reference: string;
  /** Where the reference came from: the out-of-time holdout, or the training data (older models). */
  kind: "holdout" | "training";
}

/** The reference data a version records: `params.reference.data`, the holdout, else its training data. */
export function referenceOf(v: ModelVersion): ChampionReference {
  const p = v.params as Record<string, unknown>;
  const ref = p.reference as { data?: unknown } | undefined;
  const holdout = typeof ref?.data === "string" ? ref.data : p.holdoutData;
  if (typeof holdout === "string" && holdout) {
    return { version: v.version, reference: holdout, kind: "holdout" };
  }
  if (typeof p.trainingData === "string" && p.trainingData) {
    return { version: v.version, reference: p.trainingData, kind: "training" };
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
