/**
 * The champion a monitoring run works with: its version and its honest reference (the
 * out-of-time holdout `training` recorded), logged.
 *
 * @example
 * ```ts
 * import { currentChampion } from "./current_champion.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * const store = await openStore({ memory: true });
 * const none = await currentChampion({ db: store.db, params: { model: "nobody" }, log: () => {} })
 *   .then(() => false, () => true);
 * if (!none) throw new Error("a model without a champion has no reference");
 * await store.close();
 * ```
 */
import { ModelRegistry } from "../../models/registry/registry.ts";
import { type ChampionReference, championReference } from "./champion.ts";
import type { TaskEnv } from "./task_env.ts";

/** `params.model`'s champion and its reference; logs which. */
export async function currentChampion(
  ctx: Pick<TaskEnv<{ model: string }>, "params" | "db" | "log">,
): Promise<ChampionReference> {
  const c = await championReference(await ModelRegistry.open(ctx.db), ctx.params.model);
  ctx.log(`champion v${c.version}; reference: its ${c.kind} data ${c.reference}`);
  return c;
}
