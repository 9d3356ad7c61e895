/**
 * A champion version as a scorer: its package loaded once from the registry, then any table gets
 * the version's probability of the positive label in a score column (through its ONNX graph, the
 * serving path).
 *
 * @example
 * ```ts
 * import { championScorer } from "./champion_scorer.ts";
 * import { openStore } from "../../runner/store/open.ts";
 * import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * const env = { db: store.db, artifacts: new LocalArtifactStore(dir) };
 * const missing = await championScorer(env, { model: "nobody", version: 1, positiveLabel: "yes", column: "p" })
 *   .then(() => false, () => true);
 * if (!missing) throw new Error("a version the registry does not hold cannot score");
 * await store.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import type { Table } from "../../models/core/table.ts";
import { loadModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { scoreTable } from "./champion.ts";
import type { TaskEnv } from "./task_env.ts";

/** Which version scores, and where its scores go. */
export interface ScorerOptions {
  model: string;
  version: number;
  positiveLabel: string;
  /** The column the probability of `positiveLabel` is written to. */
  column: string;
}

/** A function that returns a table with the version's scores added in `column`. */
export type Scorer = (table: Table) => Promise<Table>;

/** A scorer and a digest of what its scores depend on (the ONNX graph and the model's columns). */
export interface KeyedScorer {
  score: Scorer;
  /**
   * The content keys of the ONNX graph and of the meta holding the column spec (equal digests score
   * alike); null for a model read from a directory.
   */
  digest: string | null;
}

/** Loads `model@version` and returns its scorer. */
export async function championScorer(
  ctx: Pick<TaskEnv<unknown>, "db" | "artifacts">,
  o: ScorerOptions,
): Promise<Scorer> {
  return (await keyedChampionScorer(ctx, o)).score;
}

/** {@link championScorer} with the digest of what its scores depend on (to key what they make). */
export async function keyedChampionScorer(
  ctx: Pick<TaskEnv<unknown>, "db" | "artifacts">,
  o: ScorerOptions,
): Promise<KeyedScorer> {
  const { model, onnx, version } = await loadModel(`${o.model}@${o.version}`, {
    registry: await ModelRegistry.open(ctx.db),
    artifacts: ctx.artifacts,
  });
  // the artifacts' keys are the hashes of their bytes: the graph and the meta (the column spec);
  // a model read from a directory has none
  const digest = version ? `${version.artifacts.onnx} ${version.artifacts.meta}` : null;
  return {
    score: (t: Table) => scoreTable(onnx, model, t, o.positiveLabel, o.column),
    digest,
  };
}
