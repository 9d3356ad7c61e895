/**
 * What `train` and `predict` share about their input: reading a data file with its quarantine
 * reported (`read R of T rows; Q quarantined → file` on stderr, reasons in the file), an optional
 * `--schema` file, and the one-line messages (exit 2, no stack trace) for input that cannot be used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readInput } from "./input.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/flights.csv`, "delay,origin\n12,SEA\n3,SFO\n");
 *   // says on stderr: read 2 of 2 rows from …/flights.csv; 0 quarantined
 *   const read = await readInput(`${dir}/flights.csv`, { quarantine: `${dir}/quarantine.csv` });
 *   assert.equal(read.rows, 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { PgliteLockedError } from "../../runner/store/pglite_lock.ts";
import type { ReadOptions, ReadResult } from "../data/csv.ts";
import { readTable, UnsupportedFormatError } from "../data/read_table.ts";
import {
  FileFormatError,
  MissingColumnError,
  parseSchemaJson,
  type TableSchema,
} from "../data/schema.ts";
import { ModelInputError, TrainingDataError } from "../../models/core/columns.ts";
import { ModelNotFoundError } from "../../models/registry/registry.ts";
import { UsageError } from "../../runner/cli/common.ts";

/** Input a command cannot use: printed as one line, exit 2. */
export class InputError extends Error {
  override name = "InputError";
}

/** True for the errors a user can fix in their input: one line, exit 2, no stack trace. */
function isInputError(e: unknown): e is Error {
  return e instanceof InputError || e instanceof FileFormatError ||
    e instanceof MissingColumnError || e instanceof UnsupportedFormatError ||
    e instanceof Deno.errors.NotFound || e instanceof TrainingDataError ||
    e instanceof ModelInputError || e instanceof ModelNotFoundError ||
    e instanceof PgliteLockedError;
}

/**
 * The exit code for an error a command caught: a usage error prints the message and `usage` (2), an
 * input error one line saying what the command could not do (2); anything else is rethrown (a bug
 * shows its stack).
 */
export function failedCommand(e: unknown, verb: string, usage: string): number {
  if (e instanceof UsageError) {
    console.error(`${e.message}\n${usage}`);
    return 2;
  }
  if (isInputError(e)) {
    console.error(`cannot ${verb}: ${e.message.split("\n")[0]}`);
    return 2;
  }
  throw e;
}

/** Reads a `--schema` file. */
export async function readSchemaFile(path: string): Promise<TableSchema> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new InputError(`cannot read the schema file ${path}: ${(e as Error).message}`);
  }
  return parseSchemaJson(text, path);
}

/** Where the quarantine of an output file goes: `scored.csv` → `scored.quarantine.csv`. */
export function quarantineBeside(out: string): string {
  return /\.(csv|parquet)$/i.test(out)
    ? out.replace(/\.(csv|parquet)$/i, ".quarantine.csv")
    : `${out}.quarantine.csv`;
}

/** Reads a data file and reports on stderr: rows read, rows quarantined, where, and why. */
export async function readInput(uri: string, opts: ReadOptions): Promise<ReadResult> {
  const read = await readTable(uri, opts);
  if (read.rows + read.quarantined.length !== read.total) {
    throw new Error(
      `${uri}: ${read.rows} read + ${read.quarantined.length} quarantined ≠ ${read.total}`,
    );
  }
  const q = read.quarantined.length;
  console.error(
    `read ${read.rows} of ${read.total} rows from ${uri}; ${q} quarantined${
      q ? ` → ${read.quarantineUri}` : ""
    }`,
  );
  const unit = /\.csv(\.gz)?$/i.test(uri) ? "line" : "row";
  for (const r of read.quarantined.slice(0, 5)) console.error(`  ${unit} ${r.row}: ${r.reason}`);
  if (q > 5) console.error(`  … and ${q - 5} more (reasons in ${read.quarantineUri})`);
  return read;
}
