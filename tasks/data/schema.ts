/**
 * File schemas: which columns a table must have, of what type, and which values are acceptable —
 * as zod-validated data. Reading a file through a schema fails with a message naming a missing
 * required column; a row with a bad value goes to quarantine with its reason; nothing is dropped
 * silently.
 *
 * @example
 * ```ts
 * import { TableBuilder, TableSchema } from "./schema.ts";
 * const schema = TableSchema.parse({ columns: { delay: { type: "numeric" }, origin: { type: "categorical" } } });
 * const b = new TableBuilder(schema, ["delay", "origin"]);
 * b.add({ delay: "12", origin: "SEA" }, 1);
 * b.add({ delay: "soon", origin: "SFO" }, 2); // quarantined: "delay: not a number: \"soon\""
 * ```
 */
import { z } from "zod";
import type { Column, Table } from "./table.ts";

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
  row: number;
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

function isMissing(v: unknown): boolean {
  return v === null || v === undefined || (typeof v === "string" && v.trim() === "") ||
    (typeof v === "number" && Number.isNaN(v));
}

/** Converts one value to its column's kind; a string is an error message. */
function convert(v: unknown, spec: ColumnSpec): number | string | null | { error: string } {
  if (isMissing(v)) {
    return spec.nullable
      ? (spec.type === "categorical" || spec.type === "text" ? null : NaN)
      : { error: "missing value" };
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

/** Infers a schema from sample rows: numeric when every present value reads as a number. */
export function inferSchema(
  header: readonly string[],
  sample: readonly Record<string, unknown>[],
): TableSchema {
  const columns: Record<string, ColumnSpec> = {};
  for (const name of header) {
    const present = sample.map((r) => r[name]).filter((v) => !isMissing(v));
    const numeric = present.length > 0 &&
      present.every((v) =>
        typeof v === "number" || typeof v === "bigint" || Number.isFinite(Number(String(v).trim()))
      );
    const dates = !numeric && present.length > 0 && present.every((v) => v instanceof Date);
    columns[name] = ColumnSpec.parse({
      type: numeric ? "numeric" : dates ? "datetime" : "categorical",
      required: true,
    });
  }
  return { columns };
}

/** Builds a table row by row through a schema, quarantining rows it cannot read. */
export class TableBuilder {
  readonly #numeric = new Map<string, number[]>();
  readonly #strings = new Map<string, (string | null)[]>();
  readonly quarantined: Quarantined[] = [];
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
      this.quarantined.push({ row: line, reason: errors.join("; "), values });
      return false;
    }
    for (const [name, v] of converted) {
      if (typeof v === "number") this.#numeric.get(name)!.push(v);
      else this.#strings.get(name)!.push(v);
    }
    this.rows++;
    return true;
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
