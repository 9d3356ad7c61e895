/**
 * The local-directory artifact store (the default, under the data directory). Objects are written
 * to a temporary file and renamed into place, so a partial object is never visible.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./local.ts";
 * const dir = await Deno.makeTempDir();
 * const store = new LocalArtifactStore(dir);
 * const key = await store.put(Uint8Array.of(1, 2, 3));
 * assert.equal(await store.put(Uint8Array.of(1, 2, 3)), key); // the same bytes, the same key
 * assert.ok(store.locate(key).startsWith(dir)); // <dir>/<2 hex digits>/<64 hex digits>
 * assert.deepEqual(await store.get(key), Uint8Array.of(1, 2, 3));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import { join } from "node:path";
import { type ArtifactStore, contentKey, keyDigest } from "./artifact_store.ts";

export class LocalArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  locate(key: string): string {
    const hex = keyDigest(key);
    return join(this.root, hex.slice(0, 2), hex);
  }

  async put(bytes: Uint8Array): Promise<string> {
    const key = await contentKey(bytes);
    const path = this.locate(key);
    if (await this.has(key)) return key;
    await Deno.mkdir(join(path, ".."), { recursive: true });
    const tmp = `${path}.${crypto.randomUUID()}.tmp`;
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
    return key;
  }

  async get(key: string): Promise<Uint8Array> {
    const path = this.locate(key);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`artifact ${key} not found at ${path}`);
      }
      throw e;
    }
    if (await contentKey(bytes) !== key) {
      throw new Error(
        `artifact ${key} at ${path} is corrupt: its content no longer matches its key`,
      );
    }
    return bytes;
  }

  async has(key: string): Promise<boolean> {
    try {
      await Deno.stat(this.locate(key));
      return true;
    } catch {
      return false;
    }
  }
}
