/**
 * Where large outputs live: a content-addressed blob store. A key is `sha256:<hex>` of the bytes,
 * so a stored object never changes and a read can check its integrity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./local.ts";
 * const dir = await Deno.makeTempDir();
 * const artifacts = new LocalArtifactStore(dir);
 * const key = await artifacts.put(new TextEncoder().encode("hello"));
 * assert.match(key, /^sha256:[0-9a-f]{64}$/); // the key is the content's hash
 * assert.equal(new TextDecoder().decode(await artifacts.get(key)), "hello");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */

/** A content-addressed blob store. */
export interface ArtifactStore {
  /** Stores `bytes` (a no-op when already there) and returns their key `sha256:<hex>`. */
  put(bytes: Uint8Array): Promise<string>;
  /** The bytes under `key`; throws when missing or when they no longer match the key. */
  get(key: string): Promise<Uint8Array>;
  /** True when `key` is stored. */
  has(key: string): Promise<boolean>;
  /** A human-readable location of `key` (a path or URL), for logs and reports. */
  locate(key: string): string;
}

/** The key of `bytes`: `sha256:` and the hex digest. */
export async function contentKey(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return "sha256:" +
    Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The hex digest of a key; throws on anything that is not `sha256:` and 64 hex digits. */
export function keyDigest(key: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(key);
  if (!m) {
    throw new Error(`invalid artifact key "${key}": expected sha256: followed by 64 hex digits`);
  }
  return m[1];
}
