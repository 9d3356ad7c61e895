/**
 * The artifact store the environment names: S3 when `DRIFTFLOW_S3_BUCKET` is set (with
 * `DRIFTFLOW_S3_ENDPOINT` for S3-compatible servers and `DRIFTFLOW_S3_PREFIX`), otherwise a local
 * directory under the data home.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "./local.ts";
 * import { openArtifactStore } from "./open.ts";
 * const noS3 = (_name: string) => undefined; // as if no DRIFTFLOW_S3_* variable were set
 * const artifacts = openArtifactStore(".driftflow", noS3);
 * assert.ok(artifacts instanceof LocalArtifactStore);
 * assert.equal(artifacts.root, ".driftflow/artifacts");
 * ```
 */
import { join } from "node:path";
import type { ArtifactStore } from "./artifact_store.ts";
import { LocalArtifactStore } from "./local.ts";
import { S3ArtifactStore } from "./s3.ts";

export function openArtifactStore(
  home: string,
  env: (name: string) => string | undefined = Deno.env.get,
): ArtifactStore {
  const bucket = env("DRIFTFLOW_S3_BUCKET");
  if (!bucket) return new LocalArtifactStore(join(home, "artifacts"));
  return new S3ArtifactStore({
    bucket,
    prefix: env("DRIFTFLOW_S3_PREFIX") ?? "",
    endpoint: env("DRIFTFLOW_S3_ENDPOINT"),
    region: env("AWS_REGION"),
  });
}
