/**
 * The champion a monitoring run works with: its version and its honest reference (the
 * out-of-time holdout `training` recorded), logged. With no champion registered yet (a fresh
 * home), the task skips — the engine's `SkipTask`, so the run ends without a failure and its
 * downstream tasks are skipped — and says what to run first.
 *
 * @example
 * ```ts
 * import { currentChampion } from "./current_champion.ts";
 * import { isSkipTask } from "../../runner/dag.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * const store = await openStore({ memory: true });
 * const skipped = await currentChampion({ db: store.db, params: { model: "nobody" }, log: () => {} })
 *   .then(() => null, (e) => e);
 * if (!isSkipTask(skipped) || !/deno task run training/.test(skipped.message)) {
 *   throw new Error("a model without a champion skips the task and says what to run");
 * }
 * await store.close();
 * ```
 */
import { ModelNotFoundError, ModelRegistry } from "../../models/registry/registry.ts";
import type { ModelVersion } from "../../models/registry/registry.ts";
import { SkipTask } from "../../runner/dag.ts";
import { type ChampionReference, referenceOf } from "./champion.ts";
import type { TaskEnv } from "./task_env.ts";

/** Why a task that needs `model`'s champion skipped: there is none yet, and what makes one. */
export function noChampionReason(model: string): string {
  return `no champion for ${model} yet: run \`deno task run training\` first`;
}

/**
 * `model`'s champion version; when none is registered (no such model, or no `champion` alias), a
 * `SkipTask` whose message is {@link noChampionReason}. Any other error is thrown as it is.
 */
export async function championOrSkip(
  registry: ModelRegistry,
  model: string,
): Promise<ModelVersion> {
  try {
    return await registry.resolve(`${model}@champion`);
  } catch (e) {
    if (e instanceof ModelNotFoundError) throw new SkipTask(noChampionReason(model));
    throw e;
  }
}

/** `params.model`'s champion and its reference; logs which. No champion: skips (see the module). */
export async function currentChampion(
  ctx: Pick<TaskEnv<{ model: string }>, "params" | "db" | "log">,
): Promise<ChampionReference> {
  const c = referenceOf(await championOrSkip(await ModelRegistry.open(ctx.db), ctx.params.model));
  ctx.log(`champion v${c.version}; reference: its ${c.kind} data ${c.reference}`);
  return c;
}
