/**
 * The parameters `drift_experiment`'s tasks read (the DAG's params schema, validated).
 *
 * @example
 * ```ts
 * import type { ExperimentParams } from "./experiment_params.ts";
 * const grid: Pick<ExperimentParams, "sizes" | "seeds"> = { sizes: [100, 1000], seeds: 2 };
 * if (grid.sizes.length * grid.seeds !== 4) throw new Error("four chunks");
 * ```
 */
import type { BenchShift } from "./detection.ts";
import type { JudgePolicy } from "./judge.ts";
import type { Scenario } from "./stream_protocol.ts";

/** `drift_experiment`'s parameters. */
export interface ExperimentParams {
  data: string;
  stream: string | null;
  features: string[];
  target: string;
  positiveLabel: string;
  referenceRows: number;
  trainRows: number;
  periodRows: number;
  periods: number;
  shifts: BenchShift[];
  sizes: number[];
  seeds: number;
  clean: number;
  scenarios: Scenario[];
  streamBatch: number;
  policy: JudgePolicy;
  out: string;
}
