/**
 * One column's comparison from its prepared samples: the test (the preset's rule or the column's
 * own), its verdict, the extra statistics, the histogram, the effect size and the data-quality
 * checks. detect.ts calls it for every numeric and categorical column.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { NumericSample } from "./sample.ts";
 * import { compareSamplesEach } from "./column_compare.ts";
 * const ref = NumericSample.from([1, 2, 3, 4, 5, 6, 7, 8]);
 * const cur = NumericSample.from([11, 12, 13, 14, 15, 16, 17, 18]);
 * const opts = { preset: "default" as const, alpha: 0.05, quality: true, histograms: false, extraTests: [] };
 * const [out] = compareSamplesEach("x", { kind: "numeric", ref, cur }, { ref: 8, cur: 8 }, {}, 8, [opts]);
 * assert.ok("column" in out && out.column.test === "ks" && out.column.drifted);
 * ```
 */
import { binnedShares } from "./binning.ts";
import {
  chiSquarePooledTest,
  ksNullEffect,
  missingShareTest,
  unseenShareTest,
} from "./policy_stats.ts";
import {
  appliesTo,
  type RegisteredTest,
  ruleVerdict,
  type Samples,
  STAT_TESTS,
  type StatOutcome,
} from "./registry.ts";
import type { ColumnDrift, Preset, QualityCheck, TestName } from "./schema.ts";

/** The options a column's comparison reads (detectDrift's, parsed). */
export interface CompareOptions {
  preset: Preset;
  alpha: number;
  quality: boolean;
  histograms: boolean;
  extraTests: readonly TestName[];
}

/** A column's own settings that a comparison reads. */
export interface ColumnSettings {
  test?: TestName;
  threshold?: number;
}

/** A test's verdict under its registered rule: a p-value below the threshold, or a distance at or above it. */
export function driftVerdict(
  test: TestName,
  r: { statistic: number; pValue: number | null },
  threshold = DEFAULT_THRESHOLDS[test],
): boolean {
  return ruleVerdict(test, r, threshold);
}

/** Evidently's default threshold of each test (from the registry). */
export const DEFAULT_THRESHOLDS: Record<TestName, number> = Object.fromEntries(
  Object.entries(STAT_TESTS).map(([k, t]) => [k, t.defaultThreshold]),
) as Record<TestName, number>;

/** Distinct values across both samples. */
function unionDistinct(s: Samples): number {
  if (s.kind === "categorical") {
    return new Set([...s.ref.counts.keys(), ...s.cur.counts.keys()]).size;
  }
  let d = 0;
  const a = s.ref.sorted, b = s.cur.sorted;
  let i = 0, j = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    d++;
  }
  return d;
}

/** Evidently's choice of test for a column (the evidently preset). */
export function defaultTest(
  kind: "numeric" | "categorical",
  nRef: number,
  distinct: number,
): TestName {
  if (nRef <= 1000) {
    if (kind === "numeric" && distinct > 5) return "ks";
    return distinct > 2 ? "chisquare" : "z";
  }
  return kind === "numeric" && distinct > 5 ? "wasserstein" : "jensenshannon";
}

/** The default policy's test for a column: KS for numbers with > 5 distinct reference values, else pooled χ². */
export function policyTest(kind: "numeric" | "categorical", refDistinct: number): TestName {
  return kind === "numeric" && refDistinct > 5 ? "ks" : "chisquare_pooled";
}

function runTest(test: RegisteredTest, s: Samples): StatOutcome {
  const t = STAT_TESTS[test];
  if (!appliesTo(test, s.kind)) {
    throw new TypeError(
      test === "domain_classifier"
        ? `test "domain_classifier" applies to text columns`
        : `test "${test}" needs numbers`,
    );
  }
  if (!t.run) throw new TypeError(`test "${test}" is run by detectDrift itself`);
  return t.run(s);
}

/** The KS statistic D of two sorted samples (an effect size; no p-value). */
function ksDistance(a: Float64Array, b: Float64Array): number {
  let i = 0, j = 0, d = 0;
  while (i < a.length || j < b.length) {
    const v = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
    while (i < a.length && a[i] === v) i++;
    while (j < b.length && b[j] === v) j++;
    d = Math.max(d, Math.abs(i / a.length - j / b.length));
  }
  return d;
}

/**
 * Effect size of a column on a 0–1 scale — KS D for numbers, total variation of the pooled shares
 * for categories — less its expected value when nothing changed (clipped at 0), so a small batch's
 * sampling noise does not read as a large change.
 */
function effectOf(s: Samples, r: { effect?: number; nullEffect?: number }): number {
  if (r.effect !== undefined && r.nullEffect !== undefined) {
    return Math.max(0, r.effect - r.nullEffect);
  }
  if (s.kind === "numeric") {
    return Math.max(
      0,
      ksDistance(s.ref.sorted, s.cur.sorted) - ksNullEffect(s.ref.n, s.cur.n),
    );
  }
  const c = chiSquarePooledTest(s.ref, s.cur);
  return Math.max(0, c.effect - c.nullEffect);
}

const TOP_CATEGORIES = 20;

function histogramOf(s: Samples): ColumnDrift["histogram"] {
  const b = binnedShares(s.ref, s.cur, false);
  let labels = b.labels, ref = Array.from(b.ref), cur = Array.from(b.cur);
  if (s.kind === "categorical" && labels.length > TOP_CATEGORIES) {
    const order = labels.map((_, i) => i).sort((x, y) => ref[y] + cur[y] - ref[x] - cur[x]);
    const keep = order.slice(0, TOP_CATEGORIES - 1), rest = order.slice(TOP_CATEGORIES - 1);
    const sum = (a: number[], idx: number[]) => idx.reduce((t, i) => t + a[i], 0);
    labels = [...keep.map((i) => labels[i]), "(other)"];
    [ref, cur] = [[...keep.map((i) => ref[i]), sum(ref, rest)], [
      ...keep.map((i) => cur[i]),
      sum(cur, rest),
    ]];
  }
  return { labels, ref, cur };
}

/** One column's verdict and its data-quality checks. */
export interface Compared {
  column: ColumnDrift;
  quality: QualityCheck[];
}

/** The report's missing-share check of a column (default preset with quality checks). */
export function missingQuality(
  name: string,
  miss: { ref: number; cur: number },
  length: { ref: number; cur: number },
): QualityCheck {
  const m = missingShareTest(
    { missing: miss.ref, total: length.ref },
    { missing: miss.cur, total: length.cur },
  );
  return {
    column: name,
    check: "missing_share",
    test: "missing_share",
    reference: m.reference,
    current: m.current,
    statistic: m.statistic,
    pValue: m.pValue,
    adjustedPValue: m.pValue,
    effect: m.effect,
    drifted: false,
    nRef: length.ref,
    nCur: length.cur,
  };
}

/**
 * Compares one numeric or categorical column from its prepared samples (`length`: the columns'
 * lengths, missing values included) under each option set (preset): one sort of each numeric
 * column serves every preset; the numeric samples are disposed at the end.
 */
export function compareSamplesEach(
  name: string,
  samples: Samples,
  length: { ref: number; cur: number },
  col: ColumnSettings,
  nRef: number,
  optsList: readonly CompareOptions[],
): (Compared | { reason: string })[] {
  const type = samples.kind;
  const miss = { ref: samples.ref.missing, cur: samples.cur.missing };
  try {
    if (samples.ref.n === 0) return optsList.map(() => ({ reason: "no values in the reference" }));
    if (samples.cur.n === 0) {
      return optsList.map(() => ({ reason: "no values in the current table" }));
    }
    return optsList.map((opts) =>
      compareNonEmpty(name, type, samples, miss, length, col, nRef, opts, opts.preset === "default")
    );
  } finally {
    if (samples.kind === "numeric") {
      samples.ref.dispose();
      samples.cur.dispose();
    }
  }
}

function compareNonEmpty(
  name: string,
  type: "numeric" | "categorical",
  samples: Samples,
  miss: { ref: number; cur: number },
  length: { ref: number; cur: number },
  col: ColumnSettings,
  nRef: number,
  opts: CompareOptions,
  honest: boolean,
): Compared {
  const base = {
    column: name,
    nullShareRef: length.ref ? miss.ref / length.ref : 0,
    nullShareCur: length.cur ? miss.cur / length.cur : 0,
  };
  const quality: QualityCheck[] = [];
  // Distinct values across both samples; the tests' rules only ask whether there are more than 5
  // (or 2), which a numeric reference with more than 5 distinct values already answers — then the
  // merge of the two sorted samples is not needed.
  const distinct = samples.kind === "numeric" && samples.ref.distinct > 5
    ? samples.ref.distinct
    : unionDistinct(samples);
  const test = col.test ??
    (honest
      ? policyTest(samples.kind, samples.ref.distinct)
      : defaultTest(samples.kind, nRef, distinct));
  if (STAT_TESTS[test].binaryOnly && distinct > 2) {
    throw new TypeError(
      `detectDrift: column "${name}" has more than two values; the ${test} test needs a binary column (use chisquare)`,
    );
  }
  let r: { statistic: number; pValue: number | null; effect?: number; nullEffect?: number };
  try {
    r = runTest(test, samples);
  } catch (e) {
    throw new TypeError(`detectDrift: column "${name}" (${type}): ${(e as Error).message}`);
  }
  const rule = STAT_TESTS[test].rule;
  const threshold = honest && rule === "p_value"
    ? opts.alpha
    : col.threshold ?? DEFAULT_THRESHOLDS[test];
  const drifted = driftVerdict(test, r, threshold);
  const extra: Record<string, { statistic: number; pValue: number | null }> = {};
  for (const t of opts.extraTests) {
    if (t === test || !appliesTo(t, samples.kind)) continue;
    if (STAT_TESTS[t].binaryOnly && distinct > 2) continue;
    const x = runTest(t, samples);
    extra[t] = { statistic: x.statistic, pValue: x.pValue };
  }
  const histogram = opts.histograms ? histogramOf(samples) : undefined;
  const counts = { nRef: samples.ref.n, nCur: samples.cur.n };
  const effect = honest ? effectOf(samples, r) : undefined;
  if (honest && opts.quality) quality.push(missingQuality(name, miss, length));
  if (honest && opts.quality && samples.kind === "categorical") {
    const u = unseenShareTest(samples.ref, samples.cur);
    quality.push({
      column: name,
      check: "unseen_share",
      test: "unseen_share",
      reference: u.reference,
      current: u.current,
      statistic: u.statistic,
      pValue: u.pValue,
      adjustedPValue: u.pValue,
      effect: u.effect,
      drifted: false,
      nRef: samples.ref.n,
      nCur: samples.cur.n,
    });
  }
  return {
    column: {
      ...base,
      type,
      test,
      statistic: r.statistic,
      pValue: r.pValue,
      threshold,
      drifted,
      ...counts,
      ...(honest ? { effect, adjustedPValue: r.pValue } : {}),
      ...(histogram ? { histogram } : {}),
      ...(opts.extraTests.length ? { extra } : {}),
    },
    quality,
  };
}
