/**
 * A ready-made poke for a local path (Airflow's FileSensor): a file that exists, or a directory
 * with at least one entry (optionally matching a glob). Its value is the sorted list of paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "../dag.ts";
 * import { pathExists } from "./file.ts";
 * const inbox = await Deno.makeTempDir();
 * const poke = pathExists(inbox, { glob: "*.eml" });
 * dag({ id: "inbox" }).sensor("wait", { poke, interval: "30s" }); // how a DAG uses it
 * assert.equal(await poke(), false); // nothing yet: poke again after 30 s
 * await Deno.writeTextFile(`${inbox}/a.eml`, "Subject: hi\n\nhello");
 * await Deno.writeTextFile(`${inbox}/notes.txt`, "not an e-mail");
 * assert.deepEqual(await poke(), [`${inbox}/a.eml`]); // the sensor's value (its XCom)
 * await Deno.remove(inbox, { recursive: true });
 * ```
 */
import { join, matchesGlob } from "node:path";

/** Pokes `path`: false while it is missing (or an empty directory), else the paths found. */
export function pathExists(
  path: string,
  opts: { glob?: string } = {},
): () => Promise<string[] | false> {
  const glob = opts.glob;
  const matches = (name: string) => glob === undefined || matchesGlob(name, glob);
  return async () => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
    if (!info.isDirectory) return matches(path.split("/").at(-1)!) ? [path] : false;
    const found: string[] = [];
    for await (const entry of Deno.readDir(path)) {
      if (matches(entry.name)) found.push(join(path, entry.name));
    }
    return found.length ? found.sort() : false;
  };
}
