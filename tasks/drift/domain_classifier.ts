/**
 * Domain-classifier drift: can a classifier tell reference rows from current rows? Features are
 * built from the compared columns (numeric: median-imputed and standardised, with a missing flag;
 * categorical: one-hot of every label, or 64 hashed buckets beyond 64 labels — every category is
 * seen; text: 64 hashed word buckets), a logistic
 * regression is fitted on 70% of a seeded subsample and judged by ROC AUC on the other 30%, with a
 * permutation p-value (holdout labels shuffled against the fixed scores): the share of
 * permutations whose AUC reaches the observed one, (k + 1)/(B + 1) — a valid p-value under
 * exchangeability, which the default policy decides by. AUC ≈ 0.5 means the samples are
 * indistinguishable.
 *
 * @example
 * ```ts
 * import { domainClassifier } from "./domain_classifier.ts";
 * const r = domainClassifier(ref, cur, [{ name: "x", type: "numeric" }], { seed: 1 });
 * r.rocAuc; // ≈ 0.5 without drift
 * ```
 */
import { fitLogistic, predictLogistic } from "../../models/linear/logistic.ts";
import { aucFromRanks, midranks } from "../../models/metrics.ts";
import type { Column, Table } from "../data/table.ts";
import { fnv1a, Random } from "../random.ts";

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
  /** Permutations for the p-value. Default 1000. */
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
  const permutations = options.permutations ?? 1000;
  const shuffled = new Float64Array(yTest.length);
  let atLeast = 0;
  for (let p = 0; p < permutations; p++) {
    const perm = rng.permutation(yTest.length);
    for (let i = 0; i < perm.length; i++) shuffled[i] = yTest[perm[i]];
    if (aucFromRanks(shuffled, ranks) >= auc - 1e-12) atLeast++;
  }
  const topFeatures = names
    .map((feature, i) => ({ feature, weight: model.weights[i] }))
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))
    .slice(0, 5);
  return { rocAuc: auc, pValue: (atLeast + 1) / (permutations + 1), topFeatures };
}
