/**
 * The model the server answers for when a request names none: `DRIFTFLOW_SERVE_MODEL` when set,
 * else the registry's only model with a `champion` alias (a fresh home that trained one model
 * serves it without configuration). With several champions and nothing configured, there is no
 * default: the caller says which to set.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { servedModel } from "./served_model.ts";
 * const registry = { namesWithAlias: () => Promise.resolve([]) };
 * assert.equal(await servedModel("delays", registry), "delays"); // configured wins
 * assert.equal(await servedModel(undefined, registry), null); // nothing registered yet
 * ```
 */
import type { ModelRegistry } from "../../models/registry/registry.ts";

/** What choosing needs of the registry. */
export type ChampionSource = Pick<ModelRegistry, "namesWithAlias">;

/** The configured model, else the one model that has a champion, else null. */
export async function servedModel(
  configured: string | undefined,
  registry: ChampionSource,
): Promise<string | null> {
  if (configured) return configured;
  // one indexed read of the alias table (the primary key leads with the name; a few rows), not
  // every version of every model: it runs on each prediction that names no model
  const champions = await registry.namesWithAlias("champion");
  return champions.length === 1 ? champions[0] : null;
}
