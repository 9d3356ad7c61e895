/**
 * Dataset drift: compares every column of a current table with a reference table under a policy
 * preset, then optionally adds domain-classifier (multivariate) drift, prediction drift, the label
 * share and performance drift with bootstrap intervals and the DeLong ROC AUC drop test.
 *
 * `preset: "default"` (the honest policy): each feature gets a p-value test that accounts for both
 * sample sizes — KS for numbers (more than 5 distinct reference values), otherwise the two-sample χ²
 * with rare categories pooled — and data-quality checks: the missing share (every feature) and the
 * unseen-category share (categorical). The champion's scores (prediction drift, "BBSD"), text
 * columns and the domain classifier are decided by p-values too. All these p-values form one family
 * and are corrected together with the label-share test and the ROC AUC drop test when labels exist
 * (Holm by default; Bonferroni or Benjamini–Hochberg on request), so a report flags anything on
 * clean data with probability at most α (0.05): the family-wise error rate (FDR for `bh`). Every check reports its adjusted p-value and an effect size for severity.
 *
 * `preset: "evidently"`: Evidently's rules with their numbers — reference ≤ 1000 rows: numeric with
 * > 5 distinct values KS (p < 0.05), otherwise χ² (> 2 values) or two-proportion z; reference >
 * 1000 rows: normed Wasserstein (≥ 0.1) for numbers with > 5 values, otherwise Jensen–Shannon
 * (≥ 0.1). Text columns and the domain classifier: ROC AUC ≥ 0.55 and permutation p < 0.05. No
 * correction, no data-quality checks.
 *
 * Tests come from the registry (registry.ts); `columns.<name>.test` picks another.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { detectDrift } from "./detect.ts";
 * const rng = new Random(1);
 * const rows = (n: number, shift: number) => ({
 *   distance: Float64Array.from({ length: n }, () => 800 + 200 * (rng.normal() + shift)),
 *   origin: Array.from({ length: n }, () => ["SEA", "SFO", "LAX"][rng.int(3)]),
 * });
 * const reference = rows(500, 0), current = rows(500, 1); // distance moved by one σ
 * // options add labels and scores: { target: "late", prediction: "p_late" }
 * const report = detectDrift(reference, current);
 * const [distance, origin] = report.columns;
 * assert.equal(distance.test, "ks");
 * assert.ok(distance.drifted && distance.adjustedPValue! < 1e-10);
 * assert.equal(origin.drifted, false);
 * assert.equal(report.policy?.controls, "family-wise error rate (Holm)");
 * const evidently = detectDrift(reference, current, { preset: "evidently" });
 * assert.equal(evidently.columns[1].test, "chisquare"); // Evidently's rules for a small reference
 * ```
 */
import { z } from "zod";
import { type Column, isNumericColumn, rowCount, type Table } from "../../models/core/table.ts";
import { classLabels } from "../../models/core/columns.ts";
import { aucDropTest, aucWithSe } from "./auc_delong.ts";
import { type DriftColumnType, inferColumnType } from "./column_types.ts";
import {
  type Compared,
  compareSamplesEach,
  DEFAULT_THRESHOLDS,
  missingQuality,
} from "./column_compare.ts";
import { adjustPValues, Correction, ERROR_RATE } from "./correction.ts";
import { domainClassifier, type FeatureColumn } from "./domain_classifier.ts";
import { performanceDrift } from "./performance.ts";
import { twoProportionTest } from "./policy_stats.ts";
import { type Samples, STAT_TESTS } from "./registry.ts";
import { CategoricalSample, NumericSample, SampleScratch } from "./sample.ts";
import {
  type ColumnDrift,
  type DriftReport,
  type LabelShift,
  Preset,
  type QualityCheck,
  TestName,
} from "./schema.ts";

export { DEFAULT_THRESHOLDS, defaultTest, driftVerdict, policyTest } from "./column_compare.ts";

/** Per-column settings. */
export const ColumnOptions = z.object({
  type: z.enum(["numeric", "categorical", "text", "datetime", "id"]).optional(),
  test: TestName.optional(),
  /** A distance test's cut-off, or (evidently preset) a p-value test's threshold. */
  threshold: z.number().positive().optional(),
  skip: z.boolean().optional(),
}).strict();
export type ColumnOptions = z.infer<typeof ColumnOptions>;

/** Options of detectDrift; zod-validated so a DAG's conf can carry them. */
export const DriftOptions = z.object({
  /** `default`: the honest policy; `evidently`: Evidently's rules (see the module doc). */
  preset: Preset.default("default"),
  /** Family-wise α of the default preset (the FDR level with `bh`). */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /** Multiple-testing correction across every check of the default preset. */
  correction: Correction.default("holm"),
  /** Data-quality checks (missing share, unseen-category share) under the default preset. */
  quality: z.boolean().default(true),
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
  /** The evidently preset's ROC AUC cut-off of the domain classifier. */
  multivariateThreshold: z.number().min(0.5).max(1).default(0.55),
  seed: z.number().int().default(0),
  bootstrapRounds: z.number().int().positive().default(200),
  histograms: z.boolean().default(true),
  /** More statistics to compute per column beside its verdict's test (reported in `extra`); numeric-only tests are skipped for labels. */
  extraTests: z.array(TestName.exclude(["domain_classifier"])).default([]),
}).strict();
export type DriftOptions = z.input<typeof DriftOptions>;
type Opts = z.infer<typeof DriftOptions>;

function samplesOf(
  type: "numeric" | "categorical",
  ref: Column,
  cur: Column,
  scratch?: SampleScratch,
): Samples {
  if (type === "numeric") {
    if (!isNumericColumn(ref) || !isNumericColumn(cur)) {
      throw new TypeError("is typed numeric but holds labels; type it categorical or convert it");
    }
    return {
      kind: "numeric",
      ref: NumericSample.from(ref, scratch, "ref"),
      cur: NumericSample.from(cur, scratch, "cur"),
    };
  }
  return {
    kind: "categorical",
    ref: CategoricalSample.from(ref),
    cur: CategoricalSample.from(cur),
  };
}

function missingCount(c: Column): number {
  let m = 0;
  for (let i = 0; i < c.length; i++) {
    const v = c[i];
    if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) m++;
  }
  return m;
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
  return detectDriftEach(reference, current, [DriftOptions.parse(options)], progress)[0];
}

/**
 * One report per preset from one pass over the columns: each column's samples are prepared once
 * (a numeric column sorted once) and compared under every preset — the same reports as
 * `presets.map((preset) => detectDrift(reference, current, { ...options, preset }))`, for about
 * half the work with two presets.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectDriftPresets } from "./detect.ts";
 * const reference = { x: Float64Array.from({ length: 2000 }, (_, i) => i % 97) };
 * const current = { x: Float64Array.from({ length: 3000 }, (_, i) => (i % 89) + 3) };
 * const [honest, evidently] = detectDriftPresets(reference, current, ["default", "evidently"]);
 * assert.equal(honest.columns[0].test, "ks");
 * assert.equal(evidently.columns[0].test, "wasserstein");
 * ```
 */
export function detectDriftPresets(
  reference: Table,
  current: Table,
  presets: readonly Preset[],
  options: Omit<DriftOptions, "preset"> = {},
  progress?: DriftProgress,
): DriftReport[] {
  const optsList = presets.map((preset) => DriftOptions.parse({ ...options, preset }));
  return optsList.length ? detectDriftEach(reference, current, optsList, progress) : [];
}

/** What to do with a column: leave it out (target, prediction), skip it (why), compare it (how). */
type Plan = { name: string; skip?: string; type?: "numeric" | "categorical" | "text" };

/** The reports of option sets that differ in their preset only. */
function detectDriftEach(
  reference: Table,
  current: Table,
  optsList: readonly Opts[],
  progress?: DriftProgress,
): DriftReport[] {
  const opts = optsList[0];
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
  const names = opts.only ?? Object.keys(reference);
  const plans: Plan[] = names.map((name) => {
    if (name === opts.target || name === opts.prediction) return { name };
    if (opts.columns[name]?.skip) return { name, skip: "skipped by options" };
    if (!(name in current)) return { name, skip: "missing from the current table" };
    const type: DriftColumnType = opts.columns[name]?.type ??
      inferColumnType(name, reference[name]);
    if (type === "datetime" || type === "id") {
      return { name, skip: `${type} column (set its type to compare it)` };
    }
    return { name, type };
  });
  // one column at a time is sorted (its samples are disposed before the next column), so the
  // columns share the buffers: allocated once, freed when the reports are done
  const scratch = new SampleScratch();
  try {
    return compareEach(reference, current, nRef, nCur, optsList, plans, scratch, progress);
  } finally {
    scratch.release();
  }
}

/** Compares the planned columns under every option set and finishes each preset's report. */
function compareEach(
  reference: Table,
  current: Table,
  nRef: number,
  nCur: number,
  optsList: readonly Opts[],
  plans: Plan[],
  scratch: SampleScratch,
  progress?: DriftProgress,
): DriftReport[] {
  const opts = optsList[0];
  const names = plans.map((p) => p.name);
  const parts = optsList.map(() => ({
    columns: [] as ColumnDrift[],
    quality: [] as QualityCheck[],
    skipped: [] as { column: string; reason: string }[],
    features: [] as FeatureColumn[],
  }));
  let done = 0;
  for (const p of plans) {
    progress?.(done++, names.length, p.name);
    if (p.skip) { for (const part of parts) part.skipped.push({ column: p.name, reason: p.skip }); }
    if (!p.type) continue;
    const verdicts = compareColumnEach(
      p.name,
      p.type,
      reference[p.name],
      current[p.name],
      opts.columns[p.name] ?? {},
      nRef,
      optsList,
      scratch,
    );
    verdicts.forEach((verdict, i) => {
      const part = parts[i];
      if ("reason" in verdict) part.skipped.push({ column: p.name, reason: verdict.reason });
      else {
        part.columns.push(verdict.column);
        part.quality.push(...verdict.quality);
        part.features.push({ name: p.name, type: p.type! });
      }
    });
  }
  progress?.(names.length, names.length, "");
  return optsList.map((o, i) => finishReport(reference, current, nRef, nCur, o, parts[i]));
}

/** The report of one preset from its columns' verdicts: prediction, labels, correction, shares. */
function finishReport(
  reference: Table,
  current: Table,
  nRef: number,
  nCur: number,
  opts: Opts,
  part: {
    columns: ColumnDrift[];
    quality: QualityCheck[];
    skipped: { column: string; reason: string }[];
    features: FeatureColumn[];
  },
): DriftReport {
  const { columns, quality, skipped, features } = part;
  const report: DriftReport = {
    version: 1,
    createdAt: new Date().toISOString(),
    nRef,
    nCur,
    columns,
    skipped,
    driftedShare: 0,
    driftShareThreshold: opts.driftShare,
    datasetDrift: false,
  };
  if (opts.preset === "default") report.quality = quality;
  if (opts.multivariate && features.length > 0) {
    const r = domainClassifier(reference, current, features, { seed: opts.seed });
    report.multivariate = {
      method: "domain_classifier",
      rocAuc: r.rocAuc,
      threshold: opts.multivariateThreshold,
      pValue: r.pValue,
      drifted: opts.preset === "evidently"
        ? r.rocAuc >= opts.multivariateThreshold && r.pValue < 0.05
        : r.pValue < opts.alpha,
      topFeatures: r.topFeatures,
    };
  }
  if (opts.prediction) {
    const p = opts.prediction;
    if (!(p in reference) || !(p in current)) {
      throw new RangeError(`detectDrift: prediction column "${p}" must be in both tables`);
    }
    const type = isNumericColumn(reference[p]) ? "numeric" : "categorical";
    const [verdict] = compareColumnEach(
      p,
      type,
      reference[p],
      current[p],
      opts.columns[p] ?? {},
      nRef,
      [{ ...opts, quality: false }],
    );
    if (!("reason" in verdict)) report.prediction = verdict.column;
    if (opts.target && opts.target in reference && opts.target in current) {
      const ref = reference[opts.target], cur = current[opts.target];
      const positive = positiveOf(ref, cur, opts);
      const refL = labelled(reference, opts.target, p, opts.task, positive);
      const curL = labelled(current, opts.target, p, opts.task, positive);
      report.performance = performanceDrift(opts.task, refL, curL, {
        rounds: opts.bootstrapRounds,
        seed: opts.seed,
      });
      if (opts.task === "classification") {
        const a = aucWithSe(refL.y, refL.score), b = aucWithSe(curL.y, curL.score);
        if (Number.isFinite(a.auc) && Number.isFinite(b.auc)) {
          const t = aucDropTest(a, b);
          report.performance.aucTest = {
            reference: a.auc,
            current: b.auc,
            seReference: a.se,
            seCurrent: b.se,
            drop: t.drop,
            z: t.z,
            pValue: t.pValue,
          };
        }
      }
    }
  }
  if (
    opts.target && opts.task === "classification" && opts.target in reference &&
    opts.target in current
  ) {
    report.labels = labelShift(reference[opts.target], current[opts.target], opts);
  }
  report.policy = opts.preset === "default" ? correct(report, opts) : {
    preset: "evidently",
    alpha: 0.05,
    correction: "none",
    controls: "per-test error rate of p-value tests (no correction); distances have none",
    tests: columns.length + (report.prediction ? 1 : 0) + (report.multivariate ? 1 : 0),
  };
  report.driftedShare = columns.length
    ? columns.filter((c) => c.drifted).length / columns.length
    : 0;
  report.datasetDrift = columns.length > 0 && report.driftedShare >= opts.driftShare;
  return report;
}

/**
 * The default preset's correction: every p-value of the report (columns with a p-value test,
 * informative quality checks, prediction drift, the domain classifier, the label share and the ROC
 * AUC drop) is adjusted in one family and each verdict becomes adjusted p < α — so on clean data
 * the whole report (and any grade ≥ minor) alarms with probability at most α. A missing-share check with no missing value on either side
 * stays out of the family: given that total its null distribution is a point (it cannot reject).
 */
function correct(report: DriftReport, opts: Opts): NonNullable<DriftReport["policy"]> {
  const members: { p: number; set: (adj: number) => void }[] = [];
  const pValued = (c: ColumnDrift) => c.pValue !== null && STAT_TESTS[c.test].rule === "p_value";
  const addColumn = (c: ColumnDrift) => {
    if (c.test === "domain_classifier" && c.pValue !== null) {
      members.push({
        p: c.pValue,
        set: (adj) => {
          c.adjustedPValue = adj;
          c.drifted = adj < opts.alpha;
        },
      });
    } else if (pValued(c)) {
      members.push({
        p: c.pValue!,
        set: (adj) => {
          c.adjustedPValue = adj;
          c.drifted = adj < opts.alpha;
        },
      });
    } else c.adjustedPValue = null;
  };
  for (const c of report.columns) addColumn(c);
  if (report.prediction) addColumn(report.prediction);
  for (const q of report.quality ?? []) {
    if (q.check === "missing_share" && q.statistic === 0 && q.reference === 0) {
      q.adjustedPValue = 1;
      q.drifted = false;
      continue;
    }
    members.push({
      p: q.pValue,
      set: (adj) => {
        q.adjustedPValue = adj;
        q.drifted = adj < opts.alpha;
      },
    });
  }
  const labels = report.labels;
  if (labels) members.push({ p: labels.pValue, set: (adj) => (labels.adjustedPValue = adj) });
  const auc = report.performance?.aucTest;
  if (auc) members.push({ p: auc.pValue, set: (adj) => (auc.adjustedPValue = adj) });
  const mv = report.multivariate;
  if (mv) {
    members.push({
      p: mv.pValue,
      set: (adj) => {
        mv.adjustedPValue = adj;
        mv.drifted = adj < opts.alpha;
      },
    });
  }
  const adjusted = adjustPValues(members.map((m) => m.p), opts.correction);
  members.forEach((m, i) => m.set(adjusted[i]));
  return {
    preset: "default",
    alpha: opts.alpha,
    correction: opts.correction,
    controls: ERROR_RATE[opts.correction],
    tests: members.length,
  };
}

/** A column compared under each option set (preset), from one preparation of its samples. */
function compareColumnEach(
  name: string,
  type: "numeric" | "categorical" | "text",
  ref: Column,
  cur: Column,
  col: ColumnOptions,
  nRef: number,
  optsList: readonly Opts[],
  scratch?: SampleScratch,
): (Compared | { reason: string })[] {
  const length = { ref: ref.length, cur: cur.length };
  if (type !== "text") {
    // numeric and categorical samples count the missing values as they are built (one pass less)
    let samples: Samples;
    try {
      samples = samplesOf(type, ref, cur, scratch);
    } catch (e) {
      throw new TypeError(`detectDrift: column "${name}" ${(e as Error).message}`);
    }
    return compareSamplesEach(name, samples, length, col, nRef, optsList);
  }
  return optsList.map((opts) => compareText(name, ref, cur, col, opts));
}

function compareText(
  name: string,
  ref: Column,
  cur: Column,
  col: ColumnOptions,
  opts: Opts,
): Compared | { reason: string } {
  const length = { ref: ref.length, cur: cur.length };
  const type = "text";
  const honest = opts.preset === "default";
  const miss = { ref: missingCount(ref), cur: missingCount(cur) };
  if (isNumericColumn(ref) || isNumericColumn(cur)) {
    return { reason: "typed text but holds numbers" };
  }
  const r = domainClassifier({ [name]: ref }, { [name]: cur }, [{ name, type: "text" }], {
    seed: opts.seed,
    maxRowsPerSide: 2000,
  });
  const threshold = honest ? opts.alpha : col.threshold ?? DEFAULT_THRESHOLDS.domain_classifier;
  return {
    column: {
      column: name,
      nullShareRef: length.ref ? miss.ref / length.ref : 0,
      nullShareCur: length.cur ? miss.cur / length.cur : 0,
      type,
      test: "domain_classifier",
      statistic: r.rocAuc,
      pValue: r.pValue,
      threshold,
      drifted: honest ? r.pValue < opts.alpha : r.rocAuc >= threshold && r.pValue < 0.05,
      nRef: length.ref - miss.ref,
      nCur: length.cur - miss.cur,
      effect: Math.max(0, 2 * (r.rocAuc - 0.5)),
    },
    quality: honest && opts.quality ? [missingQuality(name, miss, length)] : [],
  };
}

function positiveOf(ref: Column, cur: Column, opts: Opts): string | undefined {
  return opts.positiveLabel ??
    (isNumericColumn(ref) || isNumericColumn(cur)
      ? undefined
      : classLabels([...ref, ...cur]).at(-1));
}

/** The positive share of the target, reference against current. */
function labelShift(ref: Column, cur: Column, opts: Opts): LabelShift | undefined {
  const positive = positiveOf(ref, cur, opts);
  const count = (c: Column) => {
    let pos = 0, n = 0;
    for (let i = 0; i < c.length; i++) {
      const v = c[i];
      if (v === null || (typeof v === "number" && !Number.isFinite(v))) continue;
      n++;
      if (typeof v === "number" ? v === 1 : v === positive) pos++;
    }
    return { pos, n };
  };
  const a = count(ref), b = count(cur);
  if (a.n === 0 || b.n === 0) return undefined;
  const t = twoProportionTest(a.pos, a.n, b.pos, b.n);
  return {
    positiveLabel: positive ?? null,
    reference: t.reference,
    current: t.current,
    nRef: a.n,
    nCur: b.n,
    statistic: t.statistic,
    pValue: t.pValue,
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
