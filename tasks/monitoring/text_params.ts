/**
 * The parameters `text_monitoring`'s tasks read (the DAG's params schema, validated).
 *
 * @example
 * ```ts
 * import type { TextMonitorParams } from "./text_params.ts";
 * const levels: Pick<TextMonitorParams, "warning" | "critical"> = { warning: 0.2, critical: 0.3 };
 * if (levels.warning >= levels.critical) throw new Error("WARNING below CRITICAL");
 * ```
 */
import type { AlertConfig } from "../alert/types.ts";

/** `text_monitoring`'s parameters. */
export interface TextMonitorParams {
  inbox: string;
  processed: string;
  predictions: string;
  reference: string;
  textModels: string;
  textModel: string;
  model: string;
  allFiles: boolean;
  warning: number;
  critical: number;
  seed: number;
  alerts: AlertConfig;
}
