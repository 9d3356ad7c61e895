/**
 * Run parameters: validated by the DAG's zod schema when a run is created. A bad value fails with
 * one line per bad field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { dag } from "./dag.ts";
 * import { ParamsError, parseParams } from "./params.ts";
 * const example = dag({ id: "example", params: z.object({ batchSize: z.number().default(1000) }) })
 *   .task("extract", { run: (ctx) => ctx.params.batchSize });
 * assert.deepEqual(parseParams(example, {}), { batchSize: 1000 });
 * assert.throws(() => parseParams(example, { batchSize: "x" }), (e) => {
 *   assert.ok(e instanceof ParamsError);
 *   assert.deepEqual(e.lines, [
 *     "params.batchSize: Invalid input: expected number, received string",
 *   ]);
 *   return true;
 * });
 * ```
 */
import { z } from "zod";
import type { DagDefinition } from "./dag.ts";

/** Thrown when params do not match the DAG's schema; `lines` has one entry per bad field. */
export class ParamsError extends Error {
  constructor(readonly dagId: string, readonly lines: string[]) {
    super(`invalid params for dag "${dagId}":\n  ${lines.join("\n  ")}`);
  }
}

/** The validated params of a new run of `dag` from the raw values given. */
export function parseParams(
  dag: DagDefinition,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const schema = dag.options.params;
  if (!schema) return {};
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ParamsError(
      dag.id,
      result.error.issues.map((i) => `params.${i.path.join(".") || "(root)"}: ${i.message}`),
    );
  }
  return result.data as Record<string, unknown>;
}

/**
 * Throws a ParamsError naming each param the DAG's schema does not have (a typo such as
 * `--param batchSzie=5` would otherwise be dropped silently). Only an object schema lists its
 * fields; other schemas decide for themselves.
 */
export function rejectUnknownParams(dag: DagDefinition, raw: Record<string, unknown>): void {
  const given = Object.keys(raw);
  if (given.length === 0) return;
  const schema = dag.options.params;
  let known: string[];
  if (!schema) known = [];
  else if (schema instanceof z.ZodObject) known = Object.keys(schema.shape);
  else return;
  const unknown = given.filter((k) => !known.includes(k));
  if (unknown.length === 0) return;
  throw new ParamsError(
    dag.id,
    unknown.map((k) =>
      `params.${k}: unknown param; ${
        known.length ? `the DAG's params are: ${known.join(", ")}` : "the DAG takes no params"
      }`
    ),
  );
}

/** The JSON Schema of a DAG's params (for the trigger form and the API), or null. */
export function paramsJsonSchema(dag: DagDefinition): unknown {
  const schema = dag.options.params;
  if (!schema) return null;
  try {
    return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });
  } catch {
    return null;
  }
}

/** Parses `k=v` command-line params: v as JSON when it parses, else as a string. */
export function parseParamArgs(args: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const arg of args) {
    const eq = arg.indexOf("=");
    if (eq <= 0) {
      throw new Error(`invalid --param "${arg}": expected key=value, such as batchSize=500`);
    }
    const value = arg.slice(eq + 1);
    try {
      out[arg.slice(0, eq)] = JSON.parse(value);
    } catch {
      out[arg.slice(0, eq)] = value;
    }
  }
  return out;
}
