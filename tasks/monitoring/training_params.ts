/**
 * The parameters `training`'s tasks read (the DAG's params schema, validated).
 *
 * @example
 * ```ts
 * import type { TrainingParams } from "./training_params.ts";
 * const window: Pick<TrainingParams, "window" | "windowBatches"> = { window: "sliding", windowBatches: 3 };
 * if (window.windowBatches !== 3) throw new Error("typed, not parsed");
 * ```
 */
import type { MetricName } from "../../models/metrics.ts";
import type { AlertConfig } from "../alert/types.ts";

/** `training`'s parameters. */
export interface TrainingParams {
  data: string;
  features: string[];
  target: string;
  model: string;
  initialRows: number;
  batches: string[];
  window: "cumulative" | "sliding";
  windowBatches: number;
  trials: number;
  rounds: number;
  timeColumn: string | null;
  holdoutFraction: number;
  holdoutRows?: number;
  metric: MetricName;
  margin: number;
  alpha: number;
  noiseFits: number;
  seed: number;
  alerts: AlertConfig;
}
