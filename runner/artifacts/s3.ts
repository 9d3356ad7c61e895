/**
 * The S3 artifact store (any S3-compatible server: AWS, MinIO, …) through `@aws-sdk/client-s3`,
 * path-style addressing. Keys are content hashes under a prefix; a read checks the bytes against
 * the key. An object appears whole or not at all (S3 PUT is atomic), so no partial object is ever
 * visible.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { S3ArtifactStore } from "./s3.ts";
 * const store = new S3ArtifactStore({
 *   endpoint: "http://127.0.0.1:9000",
 *   bucket: "driftflow",
 *   prefix: "artifacts/",
 * });
 * const key = `sha256:${"ab".repeat(32)}`; // what `await store.put(bytes)` returns
 * assert.equal(store.locate(key), `s3://driftflow/artifacts/ab/${"ab".repeat(32)}`);
 * ```
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { type ArtifactStore, contentKey, keyDigest } from "./artifact_store.ts";

/** Where the artifacts live. Credentials come from the usual AWS variables when not given. */
export interface S3Options {
  bucket: string;
  /** Prepended to every object key, e.g. "artifacts/". */
  prefix?: string;
  /** An S3-compatible endpoint (MinIO, a local test server); default AWS. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export class S3ArtifactStore implements ArtifactStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(readonly options: S3Options) {
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region ?? Deno.env.get("AWS_REGION") ?? "us-east-1",
      forcePathStyle: true,
      credentials: options.credentials,
    });
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? "";
  }

  #objectKey(key: string): string {
    const hex = keyDigest(key);
    return `${this.prefix}${hex.slice(0, 2)}/${hex}`;
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${this.#objectKey(key)}`;
  }

  async put(bytes: Uint8Array): Promise<string> {
    const key = await contentKey(bytes);
    if (await this.has(key)) return key;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.#objectKey(key),
        Body: bytes,
        ContentLength: bytes.length,
      }),
    );
    return key;
  }

  async get(key: string): Promise<Uint8Array> {
    let body: Uint8Array;
    try {
      const r = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) }),
      );
      body = await r.Body!.transformToByteArray();
    } catch (e) {
      if ((e as Error).name === "NoSuchKey") {
        throw new Error(`artifact ${key} not found at ${this.locate(key)}`);
      }
      throw e;
    }
    if (await contentKey(body) !== key) {
      throw new Error(
        `artifact ${key} at ${this.locate(key)} is corrupt: its content no longer matches its key`,
      );
    }
    return body;
  }

  async has(key: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.#objectKey(key) }),
      );
      return true;
    } catch (e) {
      if (
        (e as Error).name === "NotFound" ||
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404
      ) {
        return false;
      }
      throw e;
    }
  }
}
