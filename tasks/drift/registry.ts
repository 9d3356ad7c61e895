/**
 * The statistical-test registry, as Evidently's `StatTest`: one record per test — its name, the
 * column kinds it applies to, its decision rule (`p_value`: drift when p < threshold; `distance`:
 * drift when statistic ≥ threshold), its default threshold and its function. detectDrift, the
 * schema's `TestName` and the experiment's detectors all read this table, so adding a test is adding
 * one record here.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NumericSample } from "./sample.ts";
 * import { ruleVerdict, STAT_TESTS } from "./registry.ts";
 * const t = STAT_TESTS.ks; // a test is one record
 * assert.equal(t.rule, "p_value");
 * const ref = NumericSample.from([1, 2, 3, 4, 5, 6, 7, 8]);
 * const cur = NumericSample.from([11, 12, 13, 14, 15, 16, 17, 18]);
 * const outcome = t.run!({ kind: "numeric", ref, cur });
 * assert.equal(outcome.statistic, 1); // the samples do not overlap
 * assert.equal(ruleVerdict("ks", outcome), true); // p < the default threshold 0.05
 * ```
 */
import {
  chiSquarePooledTest,
  ksNullEffect,
  missingShareTest,
  type PolicyTestResult,
  unseenShareTest,
} from "./policy_stats.ts";
import { CategoricalSample, type NumericSample } from "./sample.ts";
import * as st from "./stattests.ts";

/** The kinds of column a test can apply to. */
export type TestKind = "numeric" | "categorical" | "text";

/** A decision rule: a p-value below the threshold, or a distance at or above it. */
export type DecisionRule = "p_value" | "distance";

/** Prepared samples of one column. */
export type Samples =
  | { kind: "numeric"; ref: NumericSample; cur: NumericSample }
  | { kind: "categorical"; ref: CategoricalSample; cur: CategoricalSample };

/** A test's output: its statistic, p-value (null for distances) and effect size when it has one. */
export interface StatOutcome {
  statistic: number;
  pValue: number | null;
  /** 0–1 effect size (total-variation scale) where the test defines one. */
  effect?: number;
  /** The effect's expected value when nothing changed (its small-sample bias). */
  nullEffect?: number;
}

/** One registered test. */
export interface StatTest {
  /** Name as written in options and reports. */
  readonly name: string;
  /** Column kinds it applies to (categorical tests read numbers as labels). */
  readonly kinds: readonly TestKind[];
  readonly rule: DecisionRule;
  /** Evidently's default threshold (p-value tests: α; distances: the cut-off). */
  readonly defaultThreshold: number;
  /** Needs a column with at most two values. */
  readonly binaryOnly?: boolean;
  /** One line for people. */
  readonly description: string;
  /** Runs the test; absent for tests detectDrift runs itself (the text domain classifier). */
  readonly run?: (s: Samples) => StatOutcome;
}

const asCats = (s: Samples): [CategoricalSample, CategoricalSample] =>
  s.kind === "categorical"
    ? [s.ref, s.cur]
    : [CategoricalSample.from(s.ref.sorted), CategoricalSample.from(s.cur.sorted)];
const num = (s: Samples, test: string): [NumericSample, NumericSample] => {
  if (s.kind !== "numeric") throw new TypeError(`test "${test}" needs numbers`);
  return [s.ref, s.cur];
};
const withP = (r: st.TestResult): StatOutcome => ({ statistic: r.statistic, pValue: r.pValue });
const policy = (r: PolicyTestResult): StatOutcome => ({
  statistic: r.statistic,
  pValue: r.pValue,
  effect: r.effect,
});
const dist = (v: number): StatOutcome => ({ statistic: v, pValue: null });
const N: readonly TestKind[] = ["numeric"];
const NC: readonly TestKind[] = ["numeric", "categorical"];

function record<const Name extends string>(
  name: Name,
  t: Omit<StatTest, "name">,
): StatTest & { name: Name } {
  return { name, ...t };
}

/** Every test detectDrift knows, by name. */
export const STAT_TESTS = {
  ks: record("ks", {
    kinds: N,
    rule: "p_value",
    defaultThreshold: 0.05,
    description: "two-sample Kolmogorov–Smirnov (scipy ks_2samp); effect = the KS statistic D",
    run: (s) => {
      const r = st.ksTest(...num(s, "ks"));
      return { ...withP(r), effect: r.statistic, nullEffect: ksNullEffect(r.nRef, r.nCur) };
    },
  }),
  chisquare: record("chisquare", {
    kinds: NC,
    rule: "p_value",
    defaultThreshold: 0.05,
    description:
      "χ² goodness of fit to the reference's shares (Evidently; reference taken as exact)",
    run: (s) => withP(st.chiSquareTest(...asCats(s))),
  }),
  chisquare_pooled: record("chisquare_pooled", {
    kinds: NC,
    rule: "p_value",
    defaultThreshold: 0.05,
    description:
      "two-sample χ² test of homogeneity, rare categories pooled; effect = total variation",
    run: (s) => {
      const r = chiSquarePooledTest(...asCats(s));
      return { ...policy(r), nullEffect: r.nullEffect };
    },
  }),
  z: record("z", {
    kinds: NC,
    rule: "p_value",
    defaultThreshold: 0.05,
    binaryOnly: true,
    description: "two-proportion z-test of a binary column (Evidently)",
    run: (s) => withP(st.zTestProportions(...asCats(s))),
  }),
  wasserstein: record("wasserstein", {
    kinds: N,
    rule: "distance",
    defaultThreshold: 0.1,
    description: "Wasserstein distance over the reference's standard deviation (Evidently)",
    run: (s) => dist(st.wassersteinNormed(...num(s, "wasserstein"))),
  }),
  jensenshannon: record("jensenshannon", {
    kinds: NC,
    rule: "distance",
    defaultThreshold: 0.1,
    description: "Jensen–Shannon distance of binned shares (Evidently)",
    run: (s) => dist(st.jensenShannonDistance(s.ref, s.cur)),
  }),
  psi: record("psi", {
    kinds: NC,
    rule: "distance",
    defaultThreshold: 0.1,
    description: "population stability index of binned shares (Evidently)",
    run: (s) => dist(st.psi(s.ref, s.cur)),
  }),
  kl_div: record("kl_div", {
    kinds: NC,
    rule: "distance",
    defaultThreshold: 0.1,
    description: "Kullback–Leibler divergence of binned shares (Evidently)",
    run: (s) => dist(st.klDivergence(s.ref, s.cur)),
  }),
  hellinger: record("hellinger", {
    kinds: NC,
    rule: "distance",
    defaultThreshold: 0.1,
    description: "Hellinger distance of binned shares (Evidently)",
    run: (s) => dist(st.hellingerDistance(s.ref, s.cur)),
  }),
  cramer_von_mises: record("cramer_von_mises", {
    kinds: N,
    rule: "p_value",
    defaultThreshold: 0.05,
    description: "two-sample Cramér–von Mises (scipy cramervonmises_2samp)",
    run: (s) => withP(st.cramerVonMisesTest(...num(s, "cramer_von_mises"))),
  }),
  mannw: record("mannw", {
    kinds: N,
    rule: "p_value",
    defaultThreshold: 0.05,
    description: "Mann–Whitney U (scipy mannwhitneyu)",
    run: (s) => withP(st.mannWhitneyTest(...num(s, "mannw"))),
  }),
  t_test: record("t_test", {
    kinds: N,
    rule: "p_value",
    defaultThreshold: 0.05,
    description: "Welch's t-test (scipy ttest_ind, equal_var=False)",
    run: (s) => withP(st.welchTTest(...num(s, "t_test"))),
  }),
  anderson: record("anderson", {
    kinds: N,
    rule: "p_value",
    defaultThreshold: 0.05,
    description: "k-sample Anderson–Darling (scipy anderson_ksamp; p capped to [0.001, 0.25])",
    run: (s) => withP(st.andersonDarlingTest(...num(s, "anderson"))),
  }),
  energy_distance: record("energy_distance", {
    kinds: N,
    rule: "distance",
    defaultThreshold: 0.1,
    description: "energy distance (scipy energy_distance)",
    run: (s) => dist(st.energyDistance(...num(s, "energy_distance"))),
  }),
  missing_share: record("missing_share", {
    kinds: NC,
    rule: "p_value",
    defaultThreshold: 0.05,
    description: "share of missing values, conditional binomial test; effect = |Δ share|",
    run: (s) =>
      policy(
        missingShareTest(
          { missing: s.ref.missing, total: s.ref.n + s.ref.missing },
          { missing: s.cur.missing, total: s.cur.n + s.cur.missing },
        ),
      ),
  }),
  unseen_share: record("unseen_share", {
    kinds: ["categorical"],
    rule: "p_value",
    defaultThreshold: 0.05,
    description:
      "share of current values in categories the reference never saw, against the reference's own " +
      "leave-one-out unseen rate; effect = the excess share",
    run: (s) => policy(unseenShareTest(...asCats(s))),
  }),
  domain_classifier: record("domain_classifier", {
    kinds: ["text"],
    rule: "distance",
    defaultThreshold: 0.55,
    description:
      "a classifier tells current from reference rows (hashed words); statistic = ROC AUC. The " +
      "default policy decides by its permutation p-value, the evidently preset by AUC ≥ 0.55 and p < 0.05",
  }),
} as const;

/** A registered test's name. */
export type RegisteredTest = keyof typeof STAT_TESTS;

/** Registered test names, in registry order. */
export const TEST_NAMES = Object.keys(STAT_TESTS) as [RegisteredTest, ...RegisteredTest[]];

/** A registered test's record. */
export function statTest(name: RegisteredTest): StatTest {
  return STAT_TESTS[name];
}

/** Whether `test` applies to a column of this kind. */
export function appliesTo(name: RegisteredTest, kind: TestKind): boolean {
  return (STAT_TESTS[name].kinds as readonly TestKind[]).includes(kind);
}

/** A test's verdict under its rule: p < threshold, or statistic ≥ threshold. */
export function ruleVerdict(
  name: RegisteredTest,
  r: { statistic: number; pValue: number | null },
  threshold: number = STAT_TESTS[name].defaultThreshold,
): boolean {
  return STAT_TESTS[name].rule === "p_value"
    ? (r.pValue ?? 1) < threshold
    : r.statistic >= threshold;
}
