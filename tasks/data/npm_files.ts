/**
 * Files shipped inside npm packages (data sets), found through module resolution: the package is
 * loaded by its name in deno.json's import map (which fetches it when absent), `import.meta.resolve`
 * gives the file its entry point resolved to, and the package's folder is the nearest folder above
 * that holds the package's own package.json. Nothing reads Deno's cache layout, so it works with
 * `nodeModulesDir: "none"` (the global cache) and with a local node_modules alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { npmPackageDir } from "./npm_files.ts";
 * // the package is in Deno's npm cache once deno.json's imports are cached (fetched when absent)
 * const dir = await npmPackageDir("vega-datasets", "3.2.1");
 * assert.match(dir, /vega-datasets[\/\\]3\.2\.1$/);
 * assert.ok((await Deno.stat(`${dir}/data/flights-3m.parquet`)).isFile);
 * ```
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

const PackageJson = z.object({ name: z.string(), version: z.string() });

/**
 * The folder of an npm package that deno.json's import map names, fetching the package when it is
 * absent. `version` is the version the caller expects; a different pin in deno.json is an error.
 */
export async function npmPackageDir(name: string, version: string): Promise<string> {
  try {
    // Loading the entry point is what makes Deno fetch the package and resolve it to a file.
    await import(name);
  } catch (e) {
    throw new Error(
      `cannot load npm package "${name}": ${(e as Error).message}; ` +
        `deno.json's imports should map "${name}" to "npm:${name}@${version}"`,
    );
  }
  const entry = import.meta.resolve(name);
  if (!entry.startsWith("file:")) {
    throw new Error(
      `npm package "${name}" resolved to ${entry}, not to a file; ` +
        `deno.json's imports should map "${name}" to "npm:${name}@${version}"`,
    );
  }
  for (let dir = dirname(fileURLToPath(entry)); dir !== dirname(dir); dir = dirname(dir)) {
    const pkg = await readPackageJson(join(dir, "package.json"));
    if (pkg?.name !== name) continue;
    if (pkg.version !== version) {
      throw new Error(
        `npm package "${name}" is ${pkg.version} in deno.json's imports; expected ${version}`,
      );
    }
    return dir;
  }
  throw new Error(
    `npm package "${name}": no package.json named "${name}" above its entry point ${entry}`,
  );
}

/** The name and version of a package.json, or null when there is none (or it has neither). */
async function readPackageJson(path: string): Promise<z.infer<typeof PackageJson> | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  const parsed = PackageJson.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : null;
}
