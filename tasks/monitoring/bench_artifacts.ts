/**
 * The detection benchmark's setup between tasks: `setup` stores the model (JSON) and the reference,
 * pool and later periods (Parquet) as artifacts and hands on their keys; each mapped task reads the
 * setup back from those keys.
 *
 * @example
 * ```ts
 * import { loadBenchSetup, type BenchSetupKeys } from "./bench_artifacts.ts";
 * import { putTable } from "./tables.ts";
 * const store = new Map<string, Uint8Array>();
 * const io = {
 *   putArtifact: (d: Uint8Array | string) => {
 *     const key = `sha256:${store.size}`;
 *     store.set(key, typeof d === "string" ? new TextEncoder().encode(d) : d);
 *     return Promise.resolve(key);
 *   },
 *   getArtifact: (k: string) => Promise.resolve(store.get(k)!),
 * };
 * const t = { hour: Float64Array.of(5, 9, 17), late: ["no", "no", "yes"] };
 * const keys: BenchSetupKeys = {
 *   model: await io.putArtifact(JSON.stringify({ spec: {} })), calibratedShare: 0.3,
 *   reference: await putTable(io, t), pool: await putTable(io, t), later: [],
 * };
 * const setup = await loadBenchSetup({ ...io, params: { features: ["hour"], target: "late", positiveLabel: "yes" } }, keys);
 * if (setup.calibratedShare !== 0.3 || !setup.scales.hour) throw new Error("read back, scales measured");
 * ```
 */
import type { TrainedModel } from "../../models/model.ts";
import { type BenchSetup, benchSetupOf, setupBench } from "./detection.ts";
import type { ExperimentParams } from "./experiment_params.ts";
import { getTable, putTable } from "./tables.ts";
import type { TaskEnv } from "./task_env.ts";

/** The setup as artifact keys. */
export interface BenchSetupKeys {
  model: string;
  calibratedShare: number;
  reference: string;
  pool: string;
  later: { name: string; rows: string }[];
}

type Io = Pick<TaskEnv<unknown>, "putArtifact" | "getArtifact">;

/** Trains the benchmark's model and splits its data (seed 1); stores it all; logs the split. */
export async function storeBenchSetup(
  ctx: Io & Pick<TaskEnv<ExperimentParams>, "params" | "log">,
): Promise<BenchSetupKeys> {
  const p = ctx.params;
  const s = setupBench(
    await getTable(ctx, p.data),
    p.stream && p.periods > 0 ? await getTable(ctx, p.stream) : null,
    { ...p, seed: 1 },
  );
  ctx.log(`model trained; reference ${p.referenceRows} rows; ${s.later.length} later periods`);
  return {
    model: await ctx.putArtifact(JSON.stringify(s.model)),
    calibratedShare: s.calibratedShare,
    reference: await putTable(ctx, s.reference),
    pool: await putTable(ctx, s.pool),
    later: await Promise.all(
      s.later.map(async (l) => ({ name: l.name, rows: await putTable(ctx, l.rows) })),
    ),
  };
}

/** The setup read back from the artifacts `setup` stored. */
export async function loadBenchSetup(
  ctx: Io & { params: Pick<ExperimentParams, "features" | "target" | "positiveLabel"> },
  keys: BenchSetupKeys,
): Promise<BenchSetup> {
  const p = ctx.params;
  const model = JSON.parse(
    new TextDecoder().decode(await ctx.getArtifact(keys.model)),
  ) as TrainedModel;
  return benchSetupOf({
    features: p.features,
    target: p.target,
    positiveLabel: p.positiveLabel,
    model,
    calibratedShare: keys.calibratedShare,
    reference: await getTable(ctx, keys.reference),
    pool: await getTable(ctx, keys.pool),
    later: await Promise.all(
      keys.later.map(async (l) => ({ name: l.name, rows: await getTable(ctx, l.rows) })),
    ),
  });
}
