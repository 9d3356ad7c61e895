/**
 * How the drift page's charts and tables write a batch: its severity's colour, its action as the
 * monitoring table prints it, AUC values and intervals, and its date.
 *
 * @example
 * ```ts
 * import { actionText, fmtInterval, SEVERITY_COLOUR } from "./drift_format.ts";
 * actionText({ action: "retrain", retrained: true, promoted: true }); // "retrain (promoted)"
 * fmtInterval([0.7, 0.75]); // "[0.700, 0.750]"
 * SEVERITY_COLOUR.major; // "#c62828"
 * ```
 */
import type { DriftRow } from "../services/monitoring_data.ts";

/** The colour of each severity grade (the same on every chart, table and legend). */
export const SEVERITY_COLOUR: Record<string, string> = {
  none: "#2e7d32",
  minor: "#9e9d24",
  moderate: "#ef6c00",
  major: "#c62828",
  prior: "#0277bd",
  concept: "#6a1b9a",
};

/** The action as the monitoring table prints it: "retrain (promoted)", "retrain (kept)", "log". */
export function actionText(r: Pick<DriftRow, "action" | "retrained" | "promoted">): string {
  return (r.action ?? "") + (r.promoted ? " (promoted)" : r.retrained ? " (kept)" : "");
}

/** A metric to three decimals; "–" when there is none. */
export const fmt3 = (v: number | null | undefined) =>
  v === null || v === undefined ? "–" : v.toFixed(3);
/** An interval as "[lo, hi]" to three decimals; "" when there is none. */
export const fmtInterval = (iv: [number, number] | null) =>
  iv ? `[${iv[0].toFixed(3)}, ${iv[1].toFixed(3)}]` : "";
/** " (2001-02-06)": the batch's date after its number, when it has one. */
export const batchDay = (r: DriftRow) => (r.from ? ` (${r.from.slice(0, 10)})` : "");
