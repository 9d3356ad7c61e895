/**
 * Domain-classifier drift: can a classifier tell reference rows from current rows? Features are
 * built from the compared columns (numeric: median-imputed and standardised, with a missing flag;
 * categorical: one-hot of every label, or 64 hashed buckets beyond 64 labels — every category is
 * seen; text: 64 hashed word buckets), a logistic
 * regression is fitted on 70% of a seeded subsample and judged by ROC AUC on the other 30%, with the
 * one-sided Mann–Whitney p-value of that held-out AUC against 0.5 (normal approximation with tie
 * and continuity corrections; valid since the scores were fitted on other rows), which the default
 * policy decides by. A permutation p-value is available (`permutations`), but its floor 1/(B + 1)
 * made the classifier unable to alarm after a Holm correction over ≥ 51 checks. AUC ≈ 0.5 means
 * the samples are indistinguishable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Random } from "../../models/core/random.ts";
 * import { domainClassifier } from "./domain_classifier.ts";
 * const rng = new Random(1);
 * const normal = (n: number, mean: number) =>
 *   Float64Array.from({ length: n }, () => mean + rng.normal());
 * const ref = { x: normal(300, 0) };
 * const same = domainClassifier(ref, { x: normal(300, 0) }, [{ name: "x", type: "numeric" }], {
 *   seed: 1,
 * });
 * assert.ok(Math.abs(same.rocAuc - 0.5) < 0.1); // ≈ 0.5 without drift
 * const moved = domainClassifier(ref, { x: normal(300, 1) }, [{ name: "x", type: "numeric" }], {
 *   seed: 1,
 * });
 * assert.ok(moved.rocAuc > 0.65 && moved.pValue < 1e-6); // the classifier tells them apart
 * ```
 */
import { fitLogistic, predictLogistic } from "../../models/linear/logistic.ts";
import { aucFromRanks, midranks } from "../../models/metrics.ts";
import type { Column, Table } from "../../models/core/table.ts";
import { fnv1a, Random } from "../../models/core/random.ts";
import { normalSf } from "./special.ts";

/** A column the classifier may use. */
export interface FeatureColumn {
  name: string;
  type: "numeric" | "categorical" | "text";
}

/** Options of the domain classifier. */
export interface DomainClassifierOptions {
  seed?: number;
  /** Rows drawn from each side at most. Default 5000. */
  maxRowsPerSide?: number;
  /**
   * Permutations for a permutation p-value instead of the asymptotic Mann–Whitney one (default).
   * Its floor 1/(B + 1) must be below α/m for a family of m checks to ever alarm.
   */
  permutations?: number;
}

/** The classifier's verdict inputs. */
export interface DomainClassifierResult {
  rocAuc: number;
  pValue: number;
  topFeatures: { feature: string; weight: number }[];
}

const HASH_BUCKETS = 64;

const hashToken = (s: string): number => fnv1a(s) % HASH_BUCKETS;

/** One feature block: names and a writer of a row's values. */
interface Block {
  names: string[];
  write(column: Column, row: number, out: Float64Array, at: number): void;
}

function numericBlock(name: string, values: number[]): Block {
  const present = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const median = present.length ? present[Math.floor(present.length / 2)] : 0;
  const mean = present.reduce((s, v) => s + v, 0) / Math.max(1, present.length);
  const sd =
    Math.sqrt(present.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, present.length)) || 1;
  const anyMissing = present.length < values.length;
  return {
    names: anyMissing ? [name, `${name} is missing`] : [name],
    write(column, row, out, at) {
      const v = (column as Float64Array)[row];
      const ok = Number.isFinite(v);
      out[at] = ((ok ? v : median) - mean) / sd;
      if (anyMissing) out[at + 1] = ok ? 0 : 1;
    },
  };
}

/**
 * Every category reaches the classifier: one-hot when a column has at most {@link HASH_BUCKETS}
 * labels (missing counted as one), otherwise feature hashing into that many buckets (FNV-1a of the
 * label), so a rare or new category moves its bucket instead of vanishing into "other".
 */
function categoricalBlock(name: string, values: (string | null)[]): Block {
  const MISSING = "\u0000missing";
  const labels = [...new Set(values.map((v) => v ?? MISSING))].sort();
  if (labels.length <= HASH_BUCKETS) {
    const index = new Map(labels.map((k, i) => [k, i]));
    return {
      names: labels.map((k) => `${name} = ${k === MISSING ? "(missing)" : k}`),
      write(column, row, out, at) {
        const v = (column as (string | null)[])[row] ?? MISSING;
        for (let i = 0; i < labels.length; i++) out[at + i] = 0;
        const i = index.get(v);
        if (i !== undefined) out[at + i] = 1;
      },
    };
  }
  return {
    names: Array.from({ length: HASH_BUCKETS }, (_, i) => `${name} hashed#${i}`),
    write(column, row, out, at) {
      for (let i = 0; i < HASH_BUCKETS; i++) out[at + i] = 0;
      out[at + hashToken((column as (string | null)[])[row] ?? MISSING)] = 1;
    },
  };
}

function textBlock(name: string): Block {
  return {
    names: Array.from({ length: HASH_BUCKETS }, (_, i) => `${name} words#${i}`),
    write(column, row, out, at) {
      for (let i = 0; i < HASH_BUCKETS; i++) out[at + i] = 0;
      const text = (column as (string | null)[])[row] ?? "";
      for (const w of text.toLowerCase().split(/[^\p{L}\p{N}]+/u)) {
        if (w) out[at + hashToken(w)] += 1;
      }
      for (let i = 0; i < HASH_BUCKETS; i++) out[at + i] = Math.log1p(out[at + i]);
    },
  };
}

/** Fits and judges the domain classifier on the given columns of two tables. */
export function domainClassifier(
  reference: Table,
  current: Table,
  columns: FeatureColumn[],
  options: DomainClassifierOptions = {},
): DomainClassifierResult {
  const rng = new Random(options.seed ?? 0);
  const maxRows = options.maxRowsPerSide ?? 5000;
  const nRef = reference[columns[0].name].length, nCur = current[columns[0].name].length;
  const refRows = rng.sample(nRef, maxRows), curRows = rng.sample(nCur, maxRows);
  const rows: [Table, number][] = [
    ...Array.from(refRows, (r): [Table, number] => [reference, r]),
    ...Array.from(curRows, (r): [Table, number] => [current, r]),
  ];
  const labels = Float64Array.from(rows, ([t]) => (t === current ? 1 : 0));
  const blocks: { column: string; block: Block }[] = columns.map(({ name, type }) => {
    const values = rows.map(([t, r]) => t[name][r]);
    const block = type === "numeric"
      ? numericBlock(name, values as number[])
      : type === "categorical"
      ? categoricalBlock(name, values as (string | null)[])
      : textBlock(name);
    return { column: name, block };
  });
  const names = blocks.flatMap((b) => b.block.names);
  const d = names.length;
  const x = new Float64Array(rows.length * d);
  rows.forEach(([t, r], i) => {
    let at = i * d;
    for (const { column, block } of blocks) {
      const col = t[column];
      block.write(col, r, x, at);
      at += block.names.length;
    }
  });
  // stratified 70/30 split
  const order = rng.permutation(rows.length);
  const train: number[] = [], test: number[] = [];
  const seen = [0, 0];
  const sizes = [refRows.length, curRows.length];
  for (const i of order) {
    const c = labels[i];
    (seen[c]++ < Math.round(sizes[c] * 0.7) ? train : test).push(i);
  }
  const pick = (idx: number[]) => {
    const out = new Float64Array(idx.length * d);
    idx.forEach((r, i) => out.set(x.subarray(r * d, (r + 1) * d), i * d));
    return out;
  };
  const model = fitLogistic(pick(train), d, train.map((i) => labels[i]), {
    l2: 1,
    maxIter: 30,
    tol: 1e-8,
  });
  const scores = predictLogistic(model, pick(test));
  const yTest = Float64Array.from(test, (i) => labels[i]);
  // the scores stay fixed under permutation: rank them once, then each permuted AUC is O(n)
  const ranks = midranks(scores);
  const auc = aucFromRanks(yTest, ranks);
  const pValue = options.permutations === undefined
    ? mannWhitneyP(yTest, ranks, auc)
    : permutationP(yTest, ranks, auc, options.permutations, rng);
  const topFeatures = names
    .map((feature, i) => ({ feature, weight: model.weights[i] }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
    .slice(0, 5);
  return { rocAuc: auc, pValue, topFeatures };
}

/**
 * One-sided p-value of a held-out AUC above 0.5 by the Mann–Whitney normal approximation, with the
 * tie correction and a continuity correction (scipy's `mannwhitneyu(..., alternative="greater")`).
 * Valid because the scores were fitted on other rows; unlike a permutation p-value it has no floor
 * of 1/(B + 1), so it survives a multiple-testing correction over a large family.
 */
export function mannWhitneyP(y: ArrayLike<number>, ranks: ArrayLike<number>, auc: number): number {
  let n1 = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) n1++;
  const N = y.length, n0 = N - n1;
  if (n1 === 0 || n0 === 0 || Number.isNaN(auc)) return 1;
  const ties = new Map<number, number>();
  for (let i = 0; i < N; i++) ties.set(ranks[i], (ties.get(ranks[i]) ?? 0) + 1);
  let tieSum = 0;
  for (const t of ties.values()) tieSum += t * t * t - t;
  const variance = ((n1 * n0) / 12) * (N + 1 - tieSum / (N * (N - 1)));
  if (!(variance > 0)) return 1;
  const u = auc * n1 * n0;
  return Math.min(1, normalSf((u - (n1 * n0) / 2 - 0.5) / Math.sqrt(variance)));
}

/** Permutation p-value (k + 1)/(B + 1): holdout labels shuffled against the fixed scores. */
function permutationP(
  y: Float64Array,
  ranks: ArrayLike<number>,
  auc: number,
  permutations: number,
  rng: Random,
): number {
  const shuffled = new Float64Array(y.length);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    const perm = rng.permutation(y.length);
    for (let i = 0; i < perm.length; i++) shuffled[i] = y[perm[i]];
    if (aucFromRanks(shuffled, ranks) >= auc - 1e-12) atLeast++;
  }
  return (atLeast + 1) / (permutations + 1);
}
