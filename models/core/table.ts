/**
 * The in-memory table every Driftflow task library shares: a record of equally long columns.
 *
 * Numeric columns are `Float64Array` (NaN marks a missing value); categorical and text columns are
 * arrays of strings with `null` for a missing value. Column order is the record's key order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowCount, type Table, takeRows } from "./table.ts";
 * const t: Table = { delay: Float64Array.of(3, NaN, 20), origin: ["SEA", null, "SFO"] };
 * assert.equal(rowCount(t), 3);
 * assert.deepEqual(takeRows(t, [2, 0]).origin, ["SFO", "SEA"]);
 * ```
 */
import { Random } from "./random.ts";

/** A numeric column: NaN is a missing value. */
export type NumericColumn = Float64Array;
/** A categorical or text column: null is a missing value. */
export type StringColumn = readonly (string | null)[];
/** Any column of a table. */
export type Column = NumericColumn | StringColumn;
/** Columns by name, all of the same length. */
export type Table = Readonly<Record<string, Column>>;

/** True when the column holds numbers. */
export function isNumericColumn(column: Column): column is NumericColumn {
  return column instanceof Float64Array;
}

/** The number of rows of a table (0 for a table without columns). Throws when lengths differ. */
export function rowCount(table: Table): number {
  let n: number | undefined;
  for (const [name, column] of Object.entries(table)) {
    if (n === undefined) n = column.length;
    else if (column.length !== n) {
      throw new Error(
        `table column "${name}" has ${column.length} rows, expected ${n} like the others`,
      );
    }
  }
  return n ?? 0;
}

/** A new table with the rows at `indices`, in that order. */
export function takeRows(table: Table, indices: ArrayLike<number>): Table {
  const out: Record<string, Column> = {};
  for (const [name, column] of Object.entries(table)) {
    if (isNumericColumn(column)) {
      const c = new Float64Array(indices.length);
      for (let i = 0; i < indices.length; i++) c[i] = column[indices[i]];
      out[name] = c;
    } else {
      const c: (string | null)[] = new Array(indices.length);
      for (let i = 0; i < indices.length; i++) c[i] = column[indices[i]];
      out[name] = c;
    }
  }
  return out;
}

/** A new table with rows `[start, end)`. */
export function sliceRows(table: Table, start: number, end: number): Table {
  const out: Record<string, Column> = {};
  for (const [name, column] of Object.entries(table)) {
    out[name] = isNumericColumn(column) ? column.slice(start, end) : column.slice(start, end);
  }
  return out;
}

/** The rows of several tables with the same columns, one after another. */
export function concatTables(tables: Table[]): Table {
  if (tables.length === 0) return {};
  const names = Object.keys(tables[0]);
  const out: Record<string, Column> = {};
  for (const name of names) {
    const parts = tables.map((t, i) => {
      const c = t[name];
      if (c === undefined) throw new Error(`concatTables: table ${i} has no column "${name}"`);
      return c;
    });
    if (parts.every(isNumericColumn)) {
      const total = parts.reduce((s, p) => s + p.length, 0);
      const col = new Float64Array(total);
      let at = 0;
      for (const p of parts as Float64Array[]) {
        col.set(p, at);
        at += p.length;
      }
      out[name] = col;
    } else {
      out[name] = parts.flatMap((p) =>
        isNumericColumn(p) ? Array.from(p, (v) => (Number.isNaN(v) ? null : String(v))) : [...p]
      );
    }
  }
  return out;
}

/** `k` rows drawn without replacement (seeded; Floyd's algorithm), in their original order. */
export function sampleRows(table: Table, k: number, seed: number): Table {
  const n = rowCount(table);
  if (k >= n) return table;
  const rng = new Random(seed);
  const chosen = new Set<number>();
  for (let j = n - k; j < n; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return takeRows(table, Float64Array.from(chosen).sort());
}
