/**
 * Loads the DAG files of a folder (default `dags/`, or `DRIFTFLOW_DAGS`): each `*.ts` module's
 * default export is a DAG. Files whose names start with `_` and `*_test.ts` files are skipped.
 * Problems — a file that fails to import, a default export that is no DAG, an invalid DAG, a DAG id
 * defined twice — are collected, each naming its file.
 *
 * @example
 * ```ts
 * import { loadDags } from "./loader.ts";
 * const { dags, problems } = await loadDags("dags");
 * ```
 */
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type DagDefinition, isDag } from "./dag.ts";
import { validateDag } from "./validate.ts";

/** What loading found. */
export interface LoadedDags {
  /** The valid DAGs by id. */
  dags: Map<string, DagDefinition>;
  /** One line per problem, each starting with the file. */
  problems: string[];
  /** The files read. */
  files: string[];
}

/** The DAG folder: `DRIFTFLOW_DAGS` or `dags`. */
export function dagsFolder(): string {
  return Deno.env.get("DRIFTFLOW_DAGS") ?? "dags";
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && !entry.name.startsWith("_") && !entry.name.startsWith(".")) {
      out.push(...await listFiles(path));
    } else if (
      entry.isFile && entry.name.endsWith(".ts") && !entry.name.startsWith("_") &&
      !entry.name.endsWith("_test.ts")
    ) out.push(path);
  }
  return out.sort();
}

/** Imports and validates every DAG file under `dir`. */
export async function loadDags(dir = dagsFolder()): Promise<LoadedDags> {
  const dags = new Map<string, DagDefinition>();
  const problems: string[] = [];
  let files: string[];
  try {
    files = await listFiles(dir);
  } catch (e) {
    return {
      dags,
      problems: [`${dir}: cannot read the DAG folder: ${(e as Error).message}`],
      files: [],
    };
  }
  for (const file of files) {
    const shown = relative(Deno.cwd(), file) || file;
    let mod: Record<string, unknown>;
    try {
      mod = await import(pathToFileURL(resolve(file)).href);
    } catch (e) {
      problems.push(`${shown}: cannot import: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    const dag = mod.default;
    if (!isDag(dag)) {
      problems.push(
        `${shown}: the default export is not a DAG; write: export default dag({ id: "…" }).task(…)`,
      );
      continue;
    }
    dag.fileloc = shown;
    const found = validateDag(dag, shown);
    const other = dags.get(dag.id);
    if (other) found.push(`${shown}: dag id "${dag.id}" is already defined in ${other.fileloc}`);
    if (found.length > 0) problems.push(...found);
    else dags.set(dag.id, dag);
  }
  return { dags, problems, files };
}
