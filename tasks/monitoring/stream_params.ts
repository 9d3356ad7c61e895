/**
 * The parameters `drift_monitoring`'s tasks read (the DAG's params schema, validated): the stream
 * and its batches, the model and its columns, the judgement policy and actions, the alerts, the
 * labels' delay and the sequential detectors.
 *
 * @example
 * ```ts
 * import type { StreamMonitorParams } from "./stream_params.ts";
 * const where: Pick<StreamMonitorParams, "batchDir" | "streamName"> = {
 *   batchDir: "data/batches",
 *   streamName: "flights",
 * };
 * if (where.streamName !== "flights") throw new Error("typed, not parsed");
 * ```
 */
import type { z } from "zod";
import type { AlertConfig } from "../alert/types.ts";
import type { ColumnOptions } from "../drift/detect.ts";
import type { DriftEvent } from "../drift/inject.ts";
import type { ActionOverrides, JudgePolicy } from "./judge.ts";

/** `drift_monitoring`'s parameters, as its params schema hands them to the tasks. */
export interface StreamMonitorParams {
  stream: string;
  streamName: string;
  batchSize: number;
  stride?: number;
  window?: number;
  batchDir: string;
  features: string[];
  target: string;
  positiveLabel: string;
  model: string;
  referenceRows: number;
  columns: Record<string, ColumnOptions>;
  events: DriftEvent[];
  restart: boolean;
  seed: number;
  policy: z.output<typeof JudgePolicy>;
  actions: ActionOverrides;
  alerts: AlertConfig;
  labelsDelay: number;
  sequential: { arl0: number; detector: "cusum" | "page_hinkley" };
  training: Record<string, unknown>;
}
