/**
 * A ready-made poke for an S3 prefix (Airflow's S3KeySensor with a prefix): false while no object
 * has a key under the prefix, else the keys (at most 1000, sorted). Any S3-compatible server
 * (MinIO, moto) through `endpoint`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dag } from "../dag.ts";
 * import { dagStructure } from "../structure.ts";
 * import { s3PrefixExists } from "./s3.ts";
 * // Each poke lists the bucket (AWS, or an S3-compatible server through `endpoint`), so this
 * // example only builds the DAG: `await poke()` is false until a key exists under inbox/.
 * const poke = s3PrefixExists({ bucket: "b", prefix: "inbox/", endpoint: "http://minio:9000" });
 * const inbox = dag({ id: "inbox" }).sensor("wait", { poke, interval: "1m", mode: "reschedule" });
 * assert.equal(dagStructure(inbox).tasks[0].kind, "sensor");
 * ```
 */
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";

/** Where to look. */
export interface S3PrefixOptions {
  bucket: string;
  prefix: string;
  /** An S3-compatible endpoint (default AWS, or DRIFTFLOW_S3_ENDPOINT). */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Only keys created after this moment count (e.g. the run's data interval start). */
  newerThan?: Date;
}

/** Pokes an S3 prefix; see the module doc. */
export function s3PrefixExists(o: S3PrefixOptions): () => Promise<string[] | false> {
  let client: S3Client | null = null;
  return async () => {
    client ??= new S3Client({
      endpoint: o.endpoint ?? Deno.env.get("DRIFTFLOW_S3_ENDPOINT"),
      region: o.region ?? Deno.env.get("AWS_REGION") ?? "us-east-1",
      forcePathStyle: true,
      credentials: o.credentials,
    });
    const out = await client.send(
      new ListObjectsV2Command({ Bucket: o.bucket, Prefix: o.prefix, MaxKeys: 1000 }),
    );
    const keys = (out.Contents ?? [])
      .filter((c) => !o.newerThan || (c.LastModified && c.LastModified > o.newerThan))
      .map((c) => c.Key!)
      .sort();
    return keys.length ? keys : false;
  };
}
