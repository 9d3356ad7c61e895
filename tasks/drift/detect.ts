/**
 * Dataset drift: compares every column of a current table with a reference table, choosing each
 * column's test by Evidently's default rules unless told otherwise, then judges the dataset by the
 * share of drifted columns. Optionally adds domain-classifier (multivariate) drift, prediction drift
 * and performance drift with bootstrap intervals.
 *
 * Default test per column (Evidently): reference ≤ 1000 rows — numeric with > 5 distinct values: KS
 * (p < 0.05); otherwise chi-square (> 2 values) or two-proportion z-test; reference > 1000 rows —
 * numeric with > 5 distinct values: normed Wasserstein (≥ 0.1); otherwise Jensen–Shannon (≥ 0.1).
 * Text columns: a domain classifier on hashed words (ROC AUC ≥ 0.55 and permutation p < 0.05).
 *
 * @example
 * ```ts
 * import { detectDrift } from "./detect.ts";
 * const report = detectDrift(referenceTable, currentTable, { columns: { age: { test: "psi", threshold: 0.2 } } });
 * report.datasetDrift; report.columns[0].drifted;
 * ```
 */
import { z } from "zod";
import { type Column, isNumericColumn, rowCount, type Table } from "../data/table.ts";
import { classLabels } from "../../models/columns.ts";
import { binnedShares } from "./binning.ts";
import { type DriftColumnType, inferColumnType } from "./column_types.ts";
import { domainClassifier, type FeatureColumn } from "./domain_classifier.ts";
import { performanceDrift } from "./performance.ts";
import { CategoricalSample, NumericSample } from "./sample.ts";
import { type ColumnDrift, type DriftReport, TestName } from "./schema.ts";
import * as st from "./stattests.ts";

/** Per-column settings. */
export const ColumnOptions = z.object({
  type: z.enum(["numeric", "categorical", "text", "datetime", "id"]).optional(),
  test: TestName.optional(),
  threshold: z.number().positive().optional(),
  skip: z.boolean().optional(),
}).strict();
export type ColumnOptions = z.infer<typeof ColumnOptions>;

/** Options of detectDrift; zod-validated so a DAG's conf can carry them. */
export const DriftOptions = z.object({
  columns: z.record(z.string(), ColumnOptions).default({}),
  /** Compare only these columns. */
  only: z.array(z.string()).optional(),
  /** Label column (left out of the feature verdict; used for performance drift). */
  target: z.string().optional(),
  /** Model output column (prediction drift; with target, performance drift). */
  prediction: z.string().optional(),
  task: z.enum(["classification", "regression"]).default("classification"),
  /**
   * Label counted as class 1 when the target holds strings; default the last label in sorted order
   * (the models' convention: "yes" over "no", "spam" over "ham", "true" over "false").
   */
  positiveLabel: z.string().optional(),
  /** The dataset drifts when at least this share of columns drifts. */
  driftShare: z.number().min(0).max(1).default(0.5),
  /** Add domain-classifier drift over all compared columns. */
  multivariate: z.boolean().default(false),
  multivariateThreshold: z.number().min(0.5).max(1).default(0.55),
  seed: z.number().int().default(0),
  bootstrapRounds: z.number().int().positive().default(200),
  histograms: z.boolean().default(true),
  /** More statistics to compute per column beside its verdict's test (reported in `extra`); numeric-only tests are skipped for labels. */
  extraTests: z.array(TestName.exclude(["domain_classifier"])).default([]),
}).strict();
export type DriftOptions = z.input<typeof DriftOptions>;

/** Tests that give a p-value (drift when p < threshold); the others give a distance (drift when ≥ threshold). */
const P_VALUE_TESTS = new Set<TestName>([
  "ks",
  "chisquare",
  "z",
  "cramer_von_mises",
  "mannw",
  "t_test",
  "anderson",
]);
const NUMERIC_ONLY: ReadonlySet<TestName> = new Set<TestName>([
  "ks",
  "cramer_von_mises",
  "mannw",
  "t_test",
  "anderson",
  "wasserstein",
  "energy_distance",
]);

/** A test's verdict: a p-value below the threshold, or a distance at or above it. */
export function driftVerdict(
  test: TestName,
  r: { statistic: number; pValue: number | null },
  threshold = DEFAULT_THRESHOLDS[test],
): boolean {
  return P_VALUE_TESTS.has(test) ? (r.pValue ?? 1) < threshold : r.statistic >= threshold;
}

/** Evidently's default threshold of each test. */
export const DEFAULT_THRESHOLDS: Record<TestName, number> = {
  ks: 0.05,
  chisquare: 0.05,
  z: 0.05,
  cramer_von_mises: 0.05,
  mannw: 0.05,
  t_test: 0.05,
  anderson: 0.05,
  wasserstein: 0.1,
  jensenshannon: 0.1,
  psi: 0.1,
  kl_div: 0.1,
  hellinger: 0.1,
  energy_distance: 0.1,
  domain_classifier: 0.55,
};

type Samples =
  | { kind: "numeric"; ref: NumericSample; cur: NumericSample }
  | { kind: "categorical"; ref: CategoricalSample; cur: CategoricalSample };

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

/** Evidently's choice of test for a column. */
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

function runTest(test: TestName, s: Samples): { statistic: number; pValue: number | null } {
  const asCats = (): [CategoricalSample, CategoricalSample] =>
    s.kind === "categorical"
      ? [s.ref, s.cur]
      : [CategoricalSample.from(s.ref.sorted), CategoricalSample.from(s.cur.sorted)];
  const withP = (r: st.TestResult) => ({ statistic: r.statistic, pValue: r.pValue });
  const dist = (v: number) => ({ statistic: v, pValue: null });
  if (NUMERIC_ONLY.has(test) && s.kind !== "numeric") {
    throw new TypeError(`test "${test}" needs numbers`);
  }
  const num = s as Extract<Samples, { kind: "numeric" }>;
  switch (test) {
    case "ks":
      return withP(st.ksTest(num.ref, num.cur));
    case "cramer_von_mises":
      return withP(st.cramerVonMisesTest(num.ref, num.cur));
    case "mannw":
      return withP(st.mannWhitneyTest(num.ref, num.cur));
    case "t_test":
      return withP(st.welchTTest(num.ref, num.cur));
    case "anderson":
      return withP(st.andersonDarlingTest(num.ref, num.cur));
    case "wasserstein":
      return dist(st.wassersteinNormed(num.ref, num.cur));
    case "energy_distance":
      return dist(st.energyDistance(num.ref, num.cur));
    case "chisquare":
      return withP(st.chiSquareTest(...asCats()));
    case "z":
      return withP(st.zTestProportions(...asCats()));
    case "jensenshannon":
      return dist(st.jensenShannonDistance(s.ref, s.cur));
    case "psi":
      return dist(st.psi(s.ref, s.cur));
    case "kl_div":
      return dist(st.klDivergence(s.ref, s.cur));
    case "hellinger":
      return dist(st.hellingerDistance(s.ref, s.cur));
    case "domain_classifier":
      throw new TypeError(`test "domain_classifier" applies to text columns`);
  }
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

function samplesOf(type: "numeric" | "categorical", ref: Column, cur: Column): Samples {
  if (type === "numeric") {
    if (!isNumericColumn(ref) || !isNumericColumn(cur)) {
      throw new TypeError("is typed numeric but holds labels; type it categorical or convert it");
    }
    return { kind: "numeric", ref: NumericSample.from(ref), cur: NumericSample.from(cur) };
  }
  return {
    kind: "categorical",
    ref: CategoricalSample.from(ref),
    cur: CategoricalSample.from(cur),
  };
}

/** Called after each column: how many are done of how many. */
export type DriftProgress = (done: number, total: number, column: string) => void;

/** Compares `current` with `reference`, column by column; see the module doc for the rules. */
export function detectDrift(
  reference: Table,
  current: Table,
  options: DriftOptions = {},
  progress?: DriftProgress,
): DriftReport {
  const opts = DriftOptions.parse(options);
  const nRef = rowCount(reference), nCur = rowCount(current);
  if (nRef === 0 || nCur === 0) {
    throw new RangeError(
      `detectDrift: the ${nRef === 0 ? "reference" : "current"} table has no rows`,
    );
  }
  for (const name of Object.keys(opts.columns)) {
    if (!(name in reference)) {
      throw new RangeError(
        `detectDrift: options.columns names "${name}", which the reference table does not have (it has ${
          Object.keys(reference).join(", ")
        })`,
      );
    }
  }
  const columns: ColumnDrift[] = [];
  const skipped: { column: string; reason: string }[] = [];
  const features: FeatureColumn[] = [];
  const names = opts.only ?? Object.keys(reference);
  let done = 0;
  for (const name of names) {
    progress?.(done++, names.length, name);
    if (name === opts.target || name === opts.prediction) continue;
    const col = opts.columns[name] ?? {};
    if (col.skip) {
      skipped.push({ column: name, reason: "skipped by options" });
      continue;
    }
    if (!(name in current)) {
      skipped.push({ column: name, reason: "missing from the current table" });
      continue;
    }
    const type: DriftColumnType = col.type ?? inferColumnType(name, reference[name]);
    if (type === "datetime" || type === "id") {
      skipped.push({ column: name, reason: `${type} column (set its type to compare it)` });
      continue;
    }
    const verdict = compareColumn(name, type, reference[name], current[name], col, nRef, opts);
    if ("reason" in verdict) skipped.push({ column: name, reason: verdict.reason });
    else {
      columns.push(verdict);
      features.push({ name, type });
    }
  }
  progress?.(names.length, names.length, "");
  const weights = columns.length;
  const driftedShare = weights ? columns.filter((c) => c.drifted).length / weights : 0;
  const report: DriftReport = {
    version: 1,
    createdAt: new Date().toISOString(),
    nRef,
    nCur,
    columns,
    skipped,
    driftedShare,
    driftShareThreshold: opts.driftShare,
    datasetDrift: columns.length > 0 && driftedShare >= opts.driftShare,
  };
  if (opts.multivariate && features.length > 0) {
    const r = domainClassifier(reference, current, features, { seed: opts.seed });
    report.multivariate = {
      method: "domain_classifier",
      rocAuc: r.rocAuc,
      threshold: opts.multivariateThreshold,
      pValue: r.pValue,
      drifted: r.rocAuc >= opts.multivariateThreshold && r.pValue < 0.05,
      topFeatures: r.topFeatures,
    };
  }
  if (opts.prediction) {
    const p = opts.prediction;
    if (!(p in reference) || !(p in current)) {
      throw new RangeError(`detectDrift: prediction column "${p}" must be in both tables`);
    }
    const type = isNumericColumn(reference[p]) ? "numeric" : "categorical";
    const verdict = compareColumn(
      p,
      type,
      reference[p],
      current[p],
      opts.columns[p] ?? {},
      nRef,
      opts,
    );
    if (!("reason" in verdict)) report.prediction = verdict;
    if (opts.target && opts.target in reference && opts.target in current) {
      const ref = reference[opts.target], cur = current[opts.target];
      const positive = opts.positiveLabel ??
        (isNumericColumn(ref) || isNumericColumn(cur)
          ? undefined
          : classLabels([...ref, ...cur]).at(-1));
      report.performance = performanceDrift(
        opts.task,
        labelled(reference, opts.target, p, opts.task, positive),
        labelled(current, opts.target, p, opts.task, positive),
        { rounds: opts.bootstrapRounds, seed: opts.seed },
      );
    }
  }
  return report;
}

function compareColumn(
  name: string,
  type: "numeric" | "categorical" | "text",
  ref: Column,
  cur: Column,
  col: ColumnOptions,
  nRef: number,
  opts: z.infer<typeof DriftOptions>,
): ColumnDrift | { reason: string } {
  const nullShare = (c: Column) => {
    let m = 0;
    for (let i = 0; i < c.length; i++) {
      const v = c[i];
      if (v === null || (typeof v === "number" && !Number.isFinite(v))) m++;
    }
    return c.length ? m / c.length : 0;
  };
  if (type === "text") {
    if (isNumericColumn(ref) || isNumericColumn(cur)) {
      return { reason: "typed text but holds numbers" };
    }
    const r = domainClassifier({ [name]: ref }, { [name]: cur }, [{ name, type: "text" }], {
      seed: opts.seed,
      maxRowsPerSide: 2000,
      permutations: 500,
    });
    const threshold = col.threshold ?? DEFAULT_THRESHOLDS.domain_classifier;
    return {
      column: name,
      type,
      test: "domain_classifier",
      statistic: r.rocAuc,
      pValue: r.pValue,
      threshold,
      drifted: r.rocAuc >= threshold && r.pValue < 0.05,
      nRef: ref.filter((v) => v !== null).length,
      nCur: cur.filter((v) => v !== null).length,
      nullShareRef: nullShare(ref),
      nullShareCur: nullShare(cur),
    };
  }
  let samples: Samples;
  try {
    samples = samplesOf(type, ref, cur);
  } catch (e) {
    throw new TypeError(`detectDrift: column "${name}" ${(e as Error).message}`);
  }
  if (samples.ref.n === 0) return { reason: "no values in the reference" };
  if (samples.cur.n === 0) return { reason: "no values in the current table" };
  const distinct = unionDistinct(samples);
  const test = col.test ?? defaultTest(samples.kind, nRef, distinct);
  if (test === "z" && distinct > 2) {
    throw new TypeError(
      `detectDrift: column "${name}" has more than two values; the z test needs a binary column (use chisquare)`,
    );
  }
  let r: { statistic: number; pValue: number | null };
  try {
    r = runTest(test, samples);
  } catch (e) {
    throw new TypeError(`detectDrift: column "${name}" (${type}): ${(e as Error).message}`);
  }
  const threshold = col.threshold ?? DEFAULT_THRESHOLDS[test];
  const drifted = driftVerdict(test, r, threshold);
  const extra: Record<string, { statistic: number; pValue: number | null }> = {};
  for (const t of opts.extraTests) {
    if (t === test || (NUMERIC_ONLY.has(t) && samples.kind !== "numeric")) continue;
    if (t === "z" && distinct > 2) continue;
    extra[t] = runTest(t, samples);
  }
  const histogram = opts.histograms ? histogramOf(samples) : undefined;
  const counts = { nRef: samples.ref.n, nCur: samples.cur.n };
  if (samples.kind === "numeric") {
    samples.ref.dispose();
    samples.cur.dispose();
  }
  return {
    column: name,
    type,
    test,
    statistic: r.statistic,
    pValue: r.pValue,
    threshold,
    drifted,
    ...counts,
    nullShareRef: nullShare(ref),
    nullShareCur: nullShare(cur),
    ...(histogram ? { histogram } : {}),
    ...(opts.extraTests.length ? { extra } : {}),
  };
}

/** Rows with both a label and a score, labels mapped to 0/1 for classification. */
function labelled(
  t: Table,
  target: string,
  prediction: string,
  task: "classification" | "regression",
  positive?: string,
): { y: Float64Array; score: Float64Array } {
  const yCol = t[target], sCol = t[prediction];
  if (!isNumericColumn(sCol)) {
    throw new TypeError(
      `detectDrift: prediction column "${prediction}" must hold numbers (a probability of class 1 or a value) for performance drift`,
    );
  }
  const ys: number[] = [], ss: number[] = [];
  for (let i = 0; i < yCol.length; i++) {
    const raw = yCol[i];
    const s = sCol[i];
    if (raw === null || !Number.isFinite(s)) continue;
    let y: number;
    if (typeof raw === "number") y = raw;
    else if (task === "regression") y = Number(raw);
    else y = raw === positive ? 1 : 0;
    if (!Number.isFinite(y)) continue;
    ys.push(y);
    ss.push(s);
  }
  return { y: Float64Array.from(ys), score: Float64Array.from(ss) };
}
