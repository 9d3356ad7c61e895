/**
 * Where data lives: a local path or an `s3://bucket/key` URI. Reading, writing and listing work the
 * same on both; S3 settings come from the environment (`DRIFTFLOW_S3_ENDPOINT` for MinIO and other
 * S3-compatible servers, the usual AWS credentials).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { list, parseLocation, readBytes, writeBytes } from "./location.ts";
 * // the same calls take s3://bucket/key URIs (S3 settings from the environment)
 * assert.deepEqual(parseLocation("s3://driftflow/incoming/batch-1.parquet"), {
 *   kind: "s3",
 *   bucket: "driftflow",
 *   key: "incoming/batch-1.parquet",
 * });
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeBytes(`${dir}/incoming/batch-1.csv`, new TextEncoder().encode("x\n1\n"));
 *   const bytes = await readBytes(`${dir}/incoming/batch-1.csv`);
 *   assert.equal(new TextDecoder().decode(bytes), "x\n1\n");
 *   const fresh = await list(`${dir}/incoming/`, { since: new Date(Date.now() - 3_600_000) });
 *   assert.deepEqual(fresh.map((f) => f.size), [4]);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { dirname } from "node:path";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";

/** A parsed location. */
export type Location = { kind: "file"; path: string } | { kind: "s3"; bucket: string; key: string };

/** Parses a path or an s3:// URI. */
export function parseLocation(uri: string): Location {
  if (uri.startsWith("s3://")) {
    const rest = uri.slice(5);
    const slash = rest.indexOf("/");
    if (slash <= 0) throw new Error(`invalid S3 location "${uri}": expected s3://bucket/key`);
    return { kind: "s3", bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
  }
  return { kind: "file", path: uri };
}

let client: S3Client | undefined;
/** The S3 client the environment describes (shared). */
export function s3Client(): S3Client {
  client ??= new S3Client({
    endpoint: Deno.env.get("DRIFTFLOW_S3_ENDPOINT"),
    region: Deno.env.get("AWS_REGION") ?? "us-east-1",
    forcePathStyle: true,
  });
  return client;
}

/** A stream of the bytes at `uri`. */
export async function readStream(uri: string): Promise<ReadableStream<Uint8Array>> {
  const loc = parseLocation(uri);
  if (loc.kind === "file") return (await Deno.open(loc.path)).readable;
  const r = await s3Client().send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  return r.Body!.transformToWebStream() as ReadableStream<Uint8Array>;
}

/** All the bytes at `uri`. */
export async function readBytes(uri: string): Promise<Uint8Array> {
  const loc = parseLocation(uri);
  if (loc.kind === "file") return await Deno.readFile(loc.path);
  const r = await s3Client().send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
  return await r.Body!.transformToByteArray();
}

/** Writes `bytes` to `uri` whole: a local file through a temporary file and a rename. */
export async function writeBytes(uri: string, bytes: Uint8Array): Promise<void> {
  const loc = parseLocation(uri);
  if (loc.kind === "s3") {
    await s3Client().send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: bytes }));
    return;
  }
  await Deno.mkdir(dirname(loc.path), { recursive: true });
  const tmp = `${loc.path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, loc.path);
}

/** An object found by `list`. */
export interface Listed {
  uri: string;
  size: number;
  modified: Date;
}

/** The files under a folder or prefix (not recursive for local folders), optionally modified since a time. */
export async function list(
  prefix: string,
  opts: { since?: Date; suffix?: string } = {},
): Promise<Listed[]> {
  const loc = parseLocation(prefix);
  const out: Listed[] = [];
  if (loc.kind === "file") {
    try {
      for await (const e of Deno.readDir(loc.path)) {
        if (!e.isFile) continue;
        const path = `${loc.path.replace(/\/$/, "")}/${e.name}`;
        const st = await Deno.stat(path);
        out.push({ uri: path, size: st.size, modified: st.mtime ?? new Date(0) });
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  } else {
    let token: string | undefined;
    do {
      const r = await s3Client().send(
        new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.key, ContinuationToken: token }),
      );
      for (const o of r.Contents ?? []) {
        out.push({
          uri: `s3://${loc.bucket}/${o.Key}`,
          size: o.Size ?? 0,
          modified: o.LastModified ?? new Date(0),
        });
      }
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }
  return out
    .filter((o) =>
      (!opts.since || o.modified >= opts.since) && (!opts.suffix || o.uri.endsWith(opts.suffix))
    )
    .sort((a, b) => a.uri.localeCompare(b.uri));
}
