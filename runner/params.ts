/**
 * Run parameters: validated by the DAG's zod schema when a run is created. A bad value fails with
 * a {@link ParamsError} holding one structured {@link ParamIssue} per problem — where (the param's
 * path), what was wrong, and what would be right — that the CLI prints as lines and the web UI and
 * API render field by field.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { dag } from "./dag.ts";
 * import { ParamsError, parseParams } from "./params.ts";
 *
 * const example = dag({ id: "example", params: z.object({ batchSize: z.number() }) })
 *   .task("t", { run: () => 1 });
 * try {
 *   parseParams(example, { batchSize: "x" });
 * } catch (e) {
 *   if (!(e instanceof ParamsError)) throw e;
 *   e.issues[0].path; // ["batchSize"]
 *   e.issues[0].message; // "Invalid input: expected number, received string"
 *   e.issues[0].expected; // "number"
 *   e.lines[0]; // "params.batchSize: Invalid input: expected number, received string"
 * }
 * ```
 */
import { z } from "zod";
import type { DagDefinition } from "./dag.ts";

/** One problem with a run's params. */
export interface ParamIssue {
  /** Where: the path inside the params (`["batchSize"]`, `["policy", "alpha"]`); `[]` for all. */
  readonly path: readonly (string | number)[];
  /** What was wrong, as a sentence that also says what would be right. */
  readonly message: string;
  /** What would be right, in a few words ("number", ">= 1", `one of "a", "b"`), when known. */
  readonly expected?: string;
}

/** The field an issue names, as the CLI and API print it: `params.batchSize`, `params.(root)`. */
export function paramField(issue: Pick<ParamIssue, "path">): string {
  return `params.${issue.path.join(".") || "(root)"}`;
}

/** Thrown when params do not match the DAG's schema; `issues` has one entry per problem. */
export class ParamsError extends Error {
  readonly issues: readonly ParamIssue[];

  constructor(readonly dagId: string, issues: readonly ParamIssue[]) {
    const lines = issues.map((i) => `${paramField(i)}: ${i.message}`);
    super(`invalid params for dag "${dagId}":\n  ${lines.join("\n  ")}`);
    this.issues = issues;
  }

  /** One line per issue: `params.<path>: <message>`. */
  get lines(): string[] {
    return this.issues.map((i) => `${paramField(i)}: ${i.message}`);
  }
}

const between = (inclusive: boolean | undefined, op: "<" | ">") => `${op}${inclusive ? "=" : ""}`;

/** "What would be right" for a zod issue, when the issue says. */
function expectedOf(issue: z.core.$ZodIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return issue.expected;
    case "too_small":
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const op = between(issue.inclusive, issue.code === "too_small" ? ">" : "<");
      if (issue.origin === "string") return `${op} ${bound} characters`;
      if (issue.origin === "array" || issue.origin === "set") return `${op} ${bound} items`;
      return `${op} ${bound}`;
    }
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return `a valid ${issue.format}`;
    case "not_multiple_of":
      return `a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return `no ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
    case "invalid_union": {
      const options = issue.errors.flatMap((branch) =>
        branch.length === 1 && branch[0].code === "invalid_type" ? [branch[0].expected] : []
      );
      return options.length === issue.errors.length && options.length > 0
        ? [...new Set(options)].join(" or ")
        : undefined;
    }
    default:
      return undefined;
  }
}

/** A zod issue as a {@link ParamIssue}. */
function paramIssue(issue: z.core.$ZodIssue): ParamIssue {
  const expected = expectedOf(issue);
  return {
    path: issue.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: issue.message,
    ...(expected === undefined ? {} : { expected }),
  };
}

/** The validated params of a new run of `dag` from the raw values given. */
export function parseParams(
  dag: DagDefinition,
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const schema = dag.options.params;
  if (!schema) return {};
  const result = schema.safeParse(raw);
  if (!result.success) throw new ParamsError(dag.id, result.error.issues.map(paramIssue));
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
    unknown.map((k) => ({
      path: [k],
      message: `unknown param; ${
        known.length ? `the DAG's params are: ${known.join(", ")}` : "the DAG takes no params"
      }`,
      expected: known.length ? `one of ${known.join(", ")}` : "no params",
    })),
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
