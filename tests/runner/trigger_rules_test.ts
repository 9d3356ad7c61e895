// Trigger rules as a table against Airflow's documented behaviour
// (https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/dags.html#trigger-rules)
// and its TriggerRuleDep with flag_upstream_failed (early decisions and skip propagation).
import assert from "node:assert/strict";
import type { TaskState } from "../../runner/core/states.ts";
import {
  countUpstream,
  type Decision,
  evaluateTriggerRule,
  type TriggerRule,
} from "../../runner/core/trigger_rules.ts";

const S = "success", F = "failed", U = "upstream_failed", K = "skipped", R = "running";
type Up = (TaskState | null)[];

const TABLE: [TriggerRule, Up, Decision][] = [
  // all_success: all upstream succeeded; a failure fails it early; a skip skips it.
  ["all_success", [S, S], "run"],
  ["all_success", [S, R], "wait"],
  ["all_success", [F, R], "upstream_failed"],
  ["all_success", [U, S], "upstream_failed"],
  ["all_success", [K, S], "skipped"],
  ["all_success", [K, F], "upstream_failed"],
  // all_failed: all upstream failed or upstream_failed; any success or skip skips it.
  ["all_failed", [F, U], "run"],
  ["all_failed", [F, R], "wait"],
  ["all_failed", [F, S], "skipped"],
  ["all_failed", [F, K], "skipped"],
  // all_done: all upstream finished, whatever their state.
  ["all_done", [S, F], "run"],
  ["all_done", [K, U], "run"],
  ["all_done", [S, R], "wait"],
  // all_skipped: all upstream skipped; anything else skips it.
  ["all_skipped", [K, K], "run"],
  ["all_skipped", [K, R], "wait"],
  ["all_skipped", [K, S], "skipped"],
  ["all_skipped", [K, F], "skipped"],
  // one_success: runs at the first success, without waiting for the rest.
  ["one_success", [S, R], "run"],
  ["one_success", [F, R], "wait"],
  ["one_success", [F, U], "upstream_failed"],
  ["one_success", [K, K], "skipped"],
  ["one_success", [K, F], "upstream_failed"],
  // one_failed: runs at the first failure; skipped when all finished without one.
  ["one_failed", [F, R], "run"],
  ["one_failed", [U, R], "run"],
  ["one_failed", [S, R], "wait"],
  ["one_failed", [S, K], "skipped"],
  // one_done: runs at the first success or failure.
  ["one_done", [S, R], "run"],
  ["one_done", [F, R], "run"],
  ["one_done", [K, R], "wait"],
  ["one_done", [K, U], "skipped"],
  // none_failed: all finished and none failed (skips allowed).
  ["none_failed", [S, K], "run"],
  ["none_failed", [K, K], "run"],
  ["none_failed", [S, R], "wait"],
  ["none_failed", [F, R], "upstream_failed"],
  ["none_failed", [U, S], "upstream_failed"],
  // none_failed_min_one_success: as none_failed, and at least one success.
  ["none_failed_min_one_success", [S, K], "run"],
  ["none_failed_min_one_success", [K, K], "skipped"],
  ["none_failed_min_one_success", [S, R], "wait"],
  ["none_failed_min_one_success", [F, S], "upstream_failed"],
  // none_skipped: all finished and none skipped.
  ["none_skipped", [S, F], "run"],
  ["none_skipped", [S, R], "wait"],
  ["none_skipped", [K, R], "skipped"],
  // always: whatever happens upstream, at once.
  ["always", [R, null], "run"],
  ["always", [F, K], "run"],
];

Deno.test("trigger rules follow Airflow's documented behaviour", () => {
  for (const [rule, upstream, expected] of TABLE) {
    assert.equal(
      evaluateTriggerRule(rule, countUpstream(upstream)),
      expected,
      `${rule} with upstream [${upstream.join(", ")}]`,
    );
  }
});

Deno.test("a task without upstream runs under every rule", () => {
  for (const rule of new Set(TABLE.map((r) => r[0]))) {
    assert.equal(evaluateTriggerRule(rule, countUpstream([])), "run", rule);
  }
});
