/**
 * Loads the DAG files of a folder (default `dags/`, or `DRIFTFLOW_DAGS`): each `*.ts` module's
 * default export is a DAG. Files whose names start with `_` and `*_test.ts` files are skipped.
 * Problems — a file that fails to import, a default export that is no DAG, an invalid DAG, a DAG id
 * defined twice, a file whose import does not finish within the time limit — are collected, each
 * naming its file.
 *
 * The time limit (`DRIFTFLOW_DAG_IMPORT_TIMEOUT_S`, default 30 s) guards against a file that hangs at
 * its top level (`await new Promise(() => {})`): an import cannot be cancelled, so it is raced
 * against a timer and left behind; the file is reported and the other DAGs load. A command that
 * left an import behind ends by calling `Deno.exit` (the CLI and `deno task serve` do).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadDags } from "./loader.ts";
 * const dir = await Deno.makeTempDir(); // a DAG folder with one sound file and one mistake
 * const dagTs = new URL("./dag.ts", import.meta.url).href;
 * await Deno.writeTextFile(
 *   `${dir}/etl.ts`,
 *   `import { dag } from "${dagTs}";
 * export default dag({ id: "etl" }).task("a", { run: () => 1 });`,
 * );
 * await Deno.writeTextFile(`${dir}/oops.ts`, "export default 42;");
 * const { dags, problems } = await loadDags(dir);
 * assert.deepEqual([...dags.keys()], ["etl"]);
 * assert.equal(problems.length, 1);
 * assert.match(problems[0], /oops\.ts: the default export is not a DAG/);
 * await Deno.remove(dir, { recursive: true });
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

/** The time limit of one DAG file's import, in ms (`DRIFTFLOW_DAG_IMPORT_TIMEOUT_S`, default 30 s). */
export function importTimeoutMs(): number {
  const raw = Deno.env.get("DRIFTFLOW_DAG_IMPORT_TIMEOUT_S");
  const s = raw === undefined ? 30 : Number(raw);
  if (!(s > 0)) {
    throw new Error(
      `DRIFTFLOW_DAG_IMPORT_TIMEOUT_S must be a positive number of seconds, got "${raw}"`,
    );
  }
  return s * 1000;
}

/** Thrown when a DAG file's import does not finish in time. */
export class ImportTimeoutError extends Error {
  override name = "ImportTimeoutError";
}

/** Imports `url`, or rejects with an ImportTimeoutError after `ms` (the import is left behind). */
async function importWithin(url: string, ms: number): Promise<Record<string, unknown>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ImportTimeoutError(
            `its import did not finish within ${ms / 1000} s (a top-level await that never ` +
              `settles?); fix the file or raise DRIFTFLOW_DAG_IMPORT_TIMEOUT_S`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([import(url) as Promise<Record<string, unknown>>, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
  // All files import at once: a file that hangs costs the time limit once, not once per file.
  const limit = importTimeoutMs();
  const pending = new Set<string>();
  const started = Date.now();
  const progress = setInterval(() => {
    console.error(
      `loading DAGs: still importing ${[...pending].join(", ")} (${
        Math.round((Date.now() - started) / 1000)
      } s of ${limit / 1000} s)`,
    );
  }, 5000);
  const imported = await Promise.all(files.map(async (file) => {
    const shown = relative(Deno.cwd(), file) || file;
    pending.add(shown);
    try {
      return { shown, mod: await importWithin(pathToFileURL(resolve(file)).href, limit) };
    } catch (e) {
      return { shown, error: e as Error };
    } finally {
      pending.delete(shown);
    }
  })).finally(() => clearInterval(progress));
  for (const { shown, mod, error } of imported) {
    if (!mod) {
      problems.push(
        error instanceof ImportTimeoutError
          ? `${shown}: ${error.message}`
          : `${shown}: cannot import: ${String(error?.message ?? error).split("\n")[0]}`,
      );
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
