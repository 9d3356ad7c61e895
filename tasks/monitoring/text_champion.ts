/**
 * `text_monitoring`'s spam filter: the champion the run works with — the registered one, or, when
 * there is none, one trained on the reference mails (embeddings + logistic regression), registered
 * with its baseline (the reference's embeddings) and made champion — and the version loaded.
 *
 * @example
 * ```ts
 * import { textChampion } from "./text_champion.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * const missing = await textChampion({ db: store.db, artifacts: new LocalArtifactStore(dir) }, "spam_filter", 1)
 *   .then(() => false, () => true);
 * if (!missing) throw new Error("no such version");
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import { fingerprintTable, loadModel, registerModel } from "../../models/package.ts";
import { ModelNotFoundError, ModelRegistry } from "../../models/registry/registry.ts";
import { getTable, putTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";
import { trainTextModel } from "./text.ts";
import type { TextMonitorParams } from "./text_params.ts";

/** The version the run settled on and its baseline data (artifact key or path). */
export interface TextChampion {
  version: number;
  baseline: string;
}

/** Model `name` at `version`, loaded (its spec and ONNX graph). */
export async function textChampion(
  ctx: Pick<TaskEnv<unknown>, "db" | "artifacts">,
  name: string,
  version: number,
) {
  const registry = await ModelRegistry.open(ctx.db);
  return await loadModel(`${name}@${version}`, { registry, artifacts: ctx.artifacts });
}

/** The champion of `params.model`, trained and registered first when there is none. */
export async function ensureTextChampion(
  ctx: TaskEnv<
    Pick<TextMonitorParams, "model" | "reference" | "textModel" | "textModels" | "seed">
  >,
): Promise<TextChampion> {
  const p = ctx.params;
  const registry = await ModelRegistry.open(ctx.db);
  try {
    const v = await registry.resolve(`${p.model}@champion`);
    return { version: v.version, baseline: String(v.params.baselineData) };
  } catch (e) {
    if (!(e instanceof ModelNotFoundError)) throw e;
    ctx.log(`no champion for ${p.model}: training one on ${p.reference}`);
  }
  const reference = await getTable(ctx, p.reference);
  const { model, baseline } = await trainTextModel(reference, {
    model: p.textModel,
    localModelPath: p.textModels,
    seed: p.seed,
  });
  const baselineKey = await putTable(ctx, baseline);
  model.params = { ...model.params, baselineData: baselineKey, textModel: p.textModel };
  const v = await registerModel({ registry, artifacts: ctx.artifacts }, model, {
    name: p.model,
    fingerprint: await fingerprintTable(reference),
    lineage: { runId: ctx.runId, taskId: ctx.taskId },
    description: "spam filter on text embeddings",
  });
  await registry.setAlias(p.model, "champion", v.version, {
    reason: "first text model",
    runId: ctx.runId,
  });
  ctx.log(`trained ${p.model} v${v.version}: ${JSON.stringify(model.metrics)}`);
  return { version: v.version, baseline: baselineKey };
}
