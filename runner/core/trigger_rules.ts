/**
 * Trigger rules: when may a task run, given the states of its direct upstream tasks?
 *
 * This follows Airflow's `TriggerRuleDep` (with `flag_upstream_failed`): a rule can decide early —
 * `all_success` turns `upstream_failed` as soon as one upstream fails — and skips propagate
 * (`all_success` downstream of a skipped task is skipped).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countUpstream, evaluateTriggerRule } from "./trigger_rules.ts";
 * const upstream = countUpstream(["success", "skipped"]);
 * assert.equal(evaluateTriggerRule("all_success", upstream), "skipped");
 * assert.equal(evaluateTriggerRule("none_failed_min_one_success", upstream), "run");
 * ```
 */
import { z } from "zod";
import type { TaskState } from "./states.ts";

export const TriggerRule = z.enum([
  "all_success",
  "all_failed",
  "all_done",
  "all_skipped",
  "one_success",
  "one_failed",
  "one_done",
  "none_failed",
  "none_failed_min_one_success",
  "none_skipped",
  "always",
]);
export type TriggerRule = z.infer<typeof TriggerRule>;

/** How many direct upstream task instances are in each finished state. */
export interface UpstreamCounts {
  total: number;
  success: number;
  failed: number;
  upstreamFailed: number;
  skipped: number;
  /** success + failed + upstream_failed + skipped */
  done: number;
}

/** What to do with a task: run it, wait for more upstream results, or settle it without running. */
export type Decision = "run" | "wait" | "skipped" | "upstream_failed";

/** Counts upstream states; unfinished states count only toward `total`. */
export function countUpstream(states: readonly (TaskState | null)[]): UpstreamCounts {
  const c = { total: states.length, success: 0, failed: 0, upstreamFailed: 0, skipped: 0, done: 0 };
  for (const s of states) {
    if (s === "success") c.success++;
    else if (s === "failed") c.failed++;
    else if (s === "upstream_failed") c.upstreamFailed++;
    else if (s === "skipped") c.skipped++;
    else continue;
    c.done++;
  }
  return c;
}

/** The decision for `rule` given the upstream counts; a task without upstream always runs. */
export function evaluateTriggerRule(rule: TriggerRule, c: UpstreamCounts): Decision {
  if (c.total === 0) return "run";
  const allDone = c.done >= c.total;
  const anyFailed = c.failed > 0 || c.upstreamFailed > 0;
  switch (rule) {
    case "all_success":
      if (anyFailed) return "upstream_failed";
      if (c.skipped > 0) return "skipped";
      return c.success === c.total ? "run" : "wait";
    case "all_failed":
      if (c.success > 0 || c.skipped > 0) return "skipped";
      return c.failed + c.upstreamFailed === c.total ? "run" : "wait";
    case "all_done":
      return allDone ? "run" : "wait";
    case "all_skipped":
      if (c.success > 0 || anyFailed) return "skipped";
      return c.skipped === c.total ? "run" : "wait";
    case "one_success":
      if (c.success > 0) return "run";
      if (!allDone) return "wait";
      return c.skipped === c.total ? "skipped" : "upstream_failed";
    case "one_failed":
      if (anyFailed) return "run";
      return allDone ? "skipped" : "wait";
    case "one_done":
      if (c.success > 0 || c.failed > 0) return "run";
      return allDone ? "skipped" : "wait";
    case "none_failed":
      if (anyFailed) return "upstream_failed";
      return allDone ? "run" : "wait";
    case "none_failed_min_one_success":
      if (anyFailed) return "upstream_failed";
      if (c.skipped === c.total) return "skipped";
      return allDone ? "run" : "wait";
    case "none_skipped":
      if (c.skipped > 0) return "skipped";
      return allDone ? "run" : "wait";
    case "always":
      return "run";
  }
}
