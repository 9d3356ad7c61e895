/**
 * XCom values: a task's JSON-serialisable return value is kept in the store; a value whose JSON is
 * over 1 MB goes to the artifact store and the XCom keeps its key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./artifacts/local.ts";
 * import { decodeXcom, encodeXcom } from "./xcom.ts";
 * const dir = await Deno.makeTempDir();
 * const artifacts = new LocalArtifactStore(dir);
 * const small = await encodeXcom({ rows: 10 }, artifacts);
 * assert.deepEqual(small, { value: { rows: 10 }, artifact: null, sizeBytes: 11 }); // kept inline
 * const big = await encodeXcom("x".repeat(2_000_000), artifacts);
 * assert.match(big.artifact ?? "", /^sha256:/); // over 1 MB: the XCom keeps an artifact key
 * assert.equal(await decodeXcom(big, artifacts), "x".repeat(2_000_000));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import type { ArtifactStore } from "./artifacts/artifact_store.ts";

/** Values whose JSON is larger than this many bytes go to the artifact store. */
export const XCOM_INLINE_LIMIT = 1024 * 1024;

/** How an XCom is stored. */
export interface EncodedXcom {
  value: unknown;
  artifact: string | null;
  sizeBytes: number;
}

/** Encodes a return value; throws when it is not JSON-serialisable, saying which task should fix it. */
export async function encodeXcom(value: unknown, artifacts: ArtifactStore): Promise<EncodedXcom> {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new Error(`the return value is not JSON-serialisable: ${(e as Error).message}`);
  }
  if (text === undefined) return { value: null, artifact: null, sizeBytes: 0 };
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= XCOM_INLINE_LIMIT) {
    return { value: JSON.parse(text), artifact: null, sizeBytes: bytes.length };
  }
  return { value: null, artifact: await artifacts.put(bytes), sizeBytes: bytes.length };
}

/** The value of a stored XCom. */
export async function decodeXcom(stored: EncodedXcom, artifacts: ArtifactStore): Promise<unknown> {
  if (!stored.artifact) return stored.value;
  return JSON.parse(new TextDecoder().decode(await artifacts.get(stored.artifact)));
}
