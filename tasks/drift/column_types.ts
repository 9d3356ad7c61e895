/**
 * Which columns detectDrift compares and how: numeric, categorical or text; datetime and id columns
 * are left out unless the caller types them. Inference looks at names and values the way a person
 * would: `*_id`/`id`/`uuid` and all-distinct labels are ids; `date`/`time`/`timestamp` names and ISO
 * date strings are datetimes; long multi-word strings are text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { inferColumnType } from "./column_types.ts";
 * assert.equal(inferColumnType("user_id", ["a", "b"]), "id");
 * assert.equal(inferColumnType("createdAt", Float64Array.of(0)), "datetime");
 * assert.equal(inferColumnType("origin", ["SEA", "SFO"]), "categorical");
 * assert.equal(inferColumnType("note", ["the quick brown fox jumps over the lazy dog"]), "text");
 * ```
 */
import { type Column, isNumericColumn } from "../../models/core/table.ts";

/** How detectDrift treats a column. */
export type DriftColumnType = "numeric" | "categorical" | "text" | "datetime" | "id";

const ID_NAME = /(^|[_\s-])(id|uuid|guid)$|^id$/i;
const TIME_NAME = /(^|[_\s-])(date|time|timestamp|datetime|ts)$|^(date|time|timestamp|ts)$/i;
/** camelCase names: userId, createdAt. */
const CAMEL_ID = /[a-z0-9]Id$/, CAMEL_TIME = /[a-z0-9](At|Date|Time)$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** The type a column is treated as, from its name and (a sample of) its values. */
export function inferColumnType(name: string, column: Column): DriftColumnType {
  if (ID_NAME.test(name) || CAMEL_ID.test(name)) return "id";
  if (TIME_NAME.test(name) || CAMEL_TIME.test(name)) return "datetime";
  if (isNumericColumn(column)) return "numeric";
  const sample: string[] = [];
  for (let i = 0; i < column.length && sample.length < 2000; i++) {
    const v = column[i];
    if (v !== null) sample.push(v);
  }
  if (sample.length === 0) return "categorical";
  if (sample.every((v) => ISO_DATE.test(v))) return "datetime";
  let words = 0, chars = 0;
  for (const v of sample) {
    chars += v.length;
    words += v.split(/\s+/).filter(Boolean).length;
  }
  const distinct = new Set(sample).size;
  if (words / sample.length >= 5 && chars / sample.length >= 30) return "text";
  if (sample.length >= 50 && distinct === sample.length) return "id";
  return "categorical";
}
