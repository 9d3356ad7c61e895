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
 * const registry = { models: () => Promise.resolve([]) };
 * assert.equal(await servedModel("delays", registry), "delays"); // configured wins
 * assert.equal(await servedModel(undefined, registry), null); // nothing registered yet
 * ```
 */
import type { ModelRegistry } from "../../models/registry/registry.ts";

/** What choosing needs of the registry. */
export type ChampionSource = Pick<ModelRegistry, "models">;

/** The configured model, else the one model that has a champion, else null. */
export async function servedModel(
  configured: string | undefined,
  registry: ChampionSource,
): Promise<string | null> {
  if (configured) return configured;
  const champions = (await registry.models())
    .filter((m) => m.versions.some((v) => v.aliases.includes("champion")))
    .map((m) => m.name);
  return champions.length === 1 ? champions[0] : null;
}
