/**
 * File schemas: which columns a table must have, of what type, and which values are acceptable —
 * as zod-validated data. Reading a file through a schema fails with a message naming a missing
 * required column; a row with a bad value goes to quarantine with its reason; nothing is dropped
 * silently: every reader returns `rows + quarantined.length === total`.
 *
 * Without a schema, types are inferred from ALL rows ({@link TypeTally}): a column is numeric when
 * its non-numeric values are at most 1 % of its present values (and at least one; fewer than its
 * numbers), so one bad cell does not turn a numeric column categorical — that row is quarantined
 * with its reason instead. `NA`, `N/A`, `NaN`, `null` and `None` are missing values in numeric,
 * datetime and boolean columns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TableBuilder, TableSchema } from "./schema.ts";
 * const schema = TableSchema.parse({
 *   columns: { delay: { type: "numeric" }, origin: { type: "categorical" } },
 * });
 * const b = new TableBuilder(schema, ["delay", "origin"]);
 * assert.equal(b.add({ delay: "12", origin: "SEA" }, 1), true);
 * assert.equal(b.add({ delay: "soon", origin: "SFO" }, 2), false); // quarantined with its reason
 * assert.match(b.quarantined[0].reason, /^delay: /);
 * assert.deepEqual([...b.build().delay], [12]);
 * ```
 */
import { z } from "zod";
import type { Column, Table } from "../../models/core/table.ts";

/** How a column is read. Datetimes become epoch milliseconds; booleans 0/1. */
export const ColumnKind = z.enum(["numeric", "categorical", "text", "datetime", "boolean"]);
export type ColumnKind = z.infer<typeof ColumnKind>;

export const ColumnSpec = z.object({
  type: ColumnKind,
  /** The file must have this column. */
  required: z.boolean().default(true),
  /** Empty values are allowed (kept as missing). */
  nullable: z.boolean().default(true),
  min: z.number().optional(),
  max: z.number().optional(),
  /** The only values allowed (categorical). */
  values: z.array(z.string()).optional(),
});
export type ColumnSpec = z.infer<typeof ColumnSpec>;

export const TableSchema = z.object({
  columns: z.record(z.string(), ColumnSpec),
});
export type TableSchema = z.infer<typeof TableSchema>;

/** A row that could not be read, with why. */
export interface Quarantined {
  /** Where it is in the file: the line (CSV) or the row number (Parquet), from 1. */
  row: number;
  /** Its position among the file's data rows, from 0 (the table keeps the others in order). */
  index: number;
  reason: string;
  values: Record<string, unknown>;
}

/** Thrown when a file lacks a required column. */
export class MissingColumnError extends Error {
  constructor(readonly file: string, readonly missing: string[], readonly present: string[]) {
    super(
      `${file}: missing required column${missing.length > 1 ? "s" : ""} ${
        missing.map((m) => `"${m}"`).join(", ")
      }; ` +
        `the file has: ${present.join(", ") || "(no columns)"}`,
    );
  }
}

const TRUE = new Set(["true", "1", "yes", "y", "t"]);
const FALSE = new Set(["false", "0", "no", "n", "f"]);

/** Thrown when a file cannot be read at all (truncated Parquet, an unclosed CSV quote…). */
export class FileFormatError extends Error {
  override name = "FileFormatError";
}

/** Parses a schema file's JSON text; errors name the file and the bad field. */
export function parseSchemaJson(text: string, where: string): TableSchema {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new FileFormatError(`${where}: not valid JSON: ${(e as Error).message}`);
  }
  const parsed = TableSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FileFormatError(
      `${where}: not a table schema: ${issue.path.join(".") || "(top)"}: ${issue.message}; ` +
        `expected {"columns": {"name": {"type": "numeric|categorical|text|datetime|boolean"}}}`,
    );
  }
  return parsed.data;
}

function isMissing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "string" && v.trim() === "") ||
    (typeof v === "number" && Number.isNaN(v));
}

const NA = new Set(["na", "n/a", "nan", "null", "none"]);

/** Missing, or an NA marker (for numeric, datetime and boolean columns). */
function isMissingValue(v: unknown): boolean {
  return isMissing(v) || (typeof v === "string" && NA.has(v.trim().toLowerCase()));
}

function isNumber(v: unknown): boolean {
  return typeof v === "number" || typeof v === "bigint" ||
    (typeof v === "string" && Number.isFinite(Number(v.trim())));
}

/** Converts one value to its column's kind; a string is an error message. */
function convert(v: unknown, spec: ColumnSpec): number | string | null | { error: string } {
  const stringy = spec.type === "categorical" || spec.type === "text";
  if (stringy ? isMissing(v) : isMissingValue(v)) {
    return spec.nullable ? (stringy ? null : NaN) : { error: "missing value" };
  }
  switch (spec.type) {
    case "numeric": {
      const n = typeof v === "bigint"
        ? Number(v)
        : typeof v === "number"
        ? v
        : Number(String(v).trim());
      if (!Number.isFinite(n)) return { error: `not a number: ${JSON.stringify(String(v))}` };
      if (spec.min !== undefined && n < spec.min) {
        return { error: `${n} is below the minimum ${spec.min}` };
      }
      if (spec.max !== undefined && n > spec.max) {
        return { error: `${n} is above the maximum ${spec.max}` };
      }
      return n;
    }
    case "datetime": {
      const ms = v instanceof Date
        ? v.getTime()
        : typeof v === "number"
        ? v
        : typeof v === "bigint"
        ? Number(v)
        : Date.parse(String(v));
      return Number.isFinite(ms) ? ms : { error: `not a date: ${JSON.stringify(String(v))}` };
    }
    case "boolean": {
      if (typeof v === "boolean") return v ? 1 : 0;
      const s = String(v).trim().toLowerCase();
      return TRUE.has(s)
        ? 1
        : FALSE.has(s)
        ? 0
        : { error: `not a boolean: ${JSON.stringify(String(v))}` };
    }
    default: {
      const s = String(v);
      if (spec.values && !spec.values.includes(s)) {
        return {
          error: `${JSON.stringify(s)} is not one of ${
            spec.values.map((x) => JSON.stringify(x)).join(", ")
          }`,
        };
      }
      return s;
    }
  }
}

/**
 * Counts, per column, the present values that read as numbers and those that do not, over every
 * row it is shown; then says each column's type.
 */
export class TypeTally {
  readonly #numbers = new Map<string, number>();
  readonly #others = new Map<string, number>();
  readonly #dates = new Map<string, number>();

  constructor(readonly header: readonly string[]) {
    for (const name of header) {
      this.#numbers.set(name, 0);
      this.#others.set(name, 0);
      this.#dates.set(name, 0);
    }
  }

  /** Counts one row's values. */
  observe(row: Record<string, unknown>): void {
    for (const name of this.header) this.observeColumn(name, [row[name]], 1);
  }

  /**
   * Counts one column's first `n` values (`values[i]` of a missing column or index is undefined):
   * the same counts as {@link observe} of each row, without building the rows.
   */
  observeColumn(name: string, values: ArrayLike<unknown> | undefined, n: number): void {
    if (!this.#numbers.has(name)) return;
    let numbers = 0, others = 0, dates = 0;
    for (let i = 0; i < n; i++) {
      const v = values?.[i];
      if (isMissingValue(v)) continue;
      if (isNumber(v)) numbers++;
      else {
        others++;
        if (v instanceof Date) dates++;
      }
    }
    this.#numbers.set(name, this.#numbers.get(name)! + numbers);
    this.#others.set(name, this.#others.get(name)! + others);
    this.#dates.set(name, this.#dates.get(name)! + dates);
  }

  /**
   * The inferred schema. `tolerance` is the share of non-numeric values a numeric column may have
   * (they are quarantined); 0 makes a column numeric only when every present value is a number.
   */
  schema(tolerance = 0.01): TableSchema {
    const columns: Record<string, ColumnSpec> = {};
    for (const name of this.header) {
      const numbers = this.#numbers.get(name)!, others = this.#others.get(name)!;
      const allowed = tolerance > 0 ? Math.max(1, Math.floor(tolerance * (numbers + others))) : 0;
      const numeric = numbers > 0 && others <= allowed && others < numbers;
      const dates = !numeric && others > 0 && this.#dates.get(name) === others && numbers === 0;
      columns[name] = ColumnSpec.parse({
        type: numeric ? "numeric" : dates ? "datetime" : "categorical",
        required: true,
      });
    }
    return { columns };
  }
}

/** Infers a schema from rows (all of them: see {@link TypeTally}). */
export function inferSchema(
  header: readonly string[],
  rows: readonly Record<string, unknown>[],
  tolerance = 0.01,
): TableSchema {
  const tally = new TypeTally(header);
  for (const r of rows) tally.observe(r);
  return tally.schema(tolerance);
}

/** Builds a table row by row through a schema, quarantining rows it cannot read. */
export class TableBuilder {
  readonly #numeric = new Map<string, number[]>();
  readonly #strings = new Map<string, (string | null)[]>();
  readonly quarantined: Quarantined[] = [];
  /** Rows read into the table. */
  rows = 0;

  constructor(readonly schema: TableSchema, header: readonly string[], file = "input") {
    const missing = Object.entries(schema.columns).filter(([n, s]) =>
      s.required && !header.includes(n)
    ).map(([n]) => n);
    if (missing.length) throw new MissingColumnError(file, missing, [...header]);
    for (const [name, spec] of Object.entries(schema.columns)) {
      if (spec.type === "categorical" || spec.type === "text") this.#strings.set(name, []);
      else this.#numeric.set(name, []);
    }
  }

  /** Adds a row (`line` is its number in the file, for the quarantine); false when quarantined. */
  add(values: Record<string, unknown>, line: number): boolean {
    const converted: [string, number | string | null][] = [];
    const errors: string[] = [];
    for (const [name, spec] of Object.entries(this.schema.columns)) {
      const c = convert(values[name], spec);
      if (c !== null && typeof c === "object") errors.push(`${name}: ${c.error}`);
      else converted.push([name, c]);
    }
    if (errors.length) {
      this.quarantine(values, line, errors.join("; "));
      return false;
    }
    for (const [name, v] of converted) {
      if (typeof v === "number") this.#numeric.get(name)!.push(v);
      else this.#strings.get(name)!.push(v);
    }
    this.rows++;
    return true;
  }

  /**
   * Adds `n` rows given by column (`column(name)[i]` is row i's value; a missing column reads as
   * undefined), the first being line `firstLine`: the same table and quarantine as {@link add} of
   * each row in turn, converted a column at a time. `row(i)` builds a quarantined row's values.
   */
  addColumns(
    n: number,
    column: (name: string) => ArrayLike<unknown> | undefined,
    row: (i: number) => Record<string, unknown>,
    firstLine: number,
  ): void {
    const specs = Object.entries(this.schema.columns);
    const converted = specs.map(() => new Array<number | string | null>(n));
    // each bad row's errors, in the schema's column order (as add writes them)
    const errors = new Map<number, string[]>();
    specs.forEach(([name, spec], j) => {
      const values = column(name), out = converted[j];
      for (let i = 0; i < n; i++) {
        const c = convert(values?.[i], spec);
        if (c !== null && typeof c === "object") {
          const list = errors.get(i);
          if (list) list.push(`${name}: ${c.error}`);
          else errors.set(i, [`${name}: ${c.error}`]);
        } else out[i] = c;
      }
    });
    const targets = specs.map(([name]) => ({
      numeric: this.#numeric.get(name),
      strings: this.#strings.get(name),
    }));
    for (let i = 0; i < n; i++) {
      const bad = errors.get(i);
      if (bad) {
        this.quarantine(row(i), firstLine + i, bad.join("; "));
        continue;
      }
      for (let j = 0; j < specs.length; j++) {
        const v = converted[j][i];
        if (typeof v === "number") targets[j].numeric!.push(v);
        else targets[j].strings!.push(v);
      }
      this.rows++;
    }
  }

  /** Quarantines a row the reader could not even split into values (ragged, bad quoting…). */
  quarantine(values: Record<string, unknown>, line: number, reason: string): void {
    this.quarantined.push({ row: line, index: this.total, reason, values });
  }

  /** Every row seen: `rows + quarantined.length`. */
  get total(): number {
    return this.rows + this.quarantined.length;
  }

  /** The table of the rows read. */
  build(): Table {
    const out: Record<string, Column> = {};
    for (const name of Object.keys(this.schema.columns)) {
      out[name] = this.#numeric.has(name)
        ? Float64Array.from(this.#numeric.get(name)!)
        : this.#strings.get(name)!;
    }
    return out;
  }
}
