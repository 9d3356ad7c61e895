import assert from "node:assert/strict";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { ArtifactStore } from "../../runner/artifacts/artifact_store.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { S3ArtifactStore } from "../../runner/artifacts/s3.ts";
import { startS3 } from "./moto.ts";

const bytes = new TextEncoder().encode("the same bytes, the same key");

async function contract(store: ArtifactStore, corrupt: (key: string) => Promise<void>) {
  const key = await store.put(bytes);
  assert.match(key, /^sha256:[0-9a-f]{64}$/);
  assert.equal(await store.put(bytes), key, "content-addressed: the same bytes give the same key");
  assert.deepEqual(await store.get(key), bytes);
  assert.equal(await store.has(key), true);
  const missing = `sha256:${"0".repeat(64)}`;
  assert.equal(await store.has(missing), false);
  await assert.rejects(() => store.get(missing), /not found/);
  await assert.rejects(() => store.get("sha256:../../etc/passwd"), /invalid artifact key/);
  await corrupt(key);
  await assert.rejects(() => store.get(key), /is corrupt/);
}

Deno.test("local artifact store: content-addressed, integrity checked, no partial files", async () => {
  const dir = await Deno.makeTempDir();
  const store = new LocalArtifactStore(dir);
  await contract(store, (key) => Deno.writeTextFile(store.locate(key), "tampered"));
  const leftovers = [];
  for await (
    const e of Deno.readDir(`${dir}/${store.locate(await store.put(bytes)).split("/").at(-2)}`)
  ) {
    if (e.name.endsWith(".tmp")) leftovers.push(e.name);
  }
  assert.deepEqual(leftovers, [], "writes go through a temporary file that is renamed");
});

Deno.test({
  name: "S3 artifact store on a real S3-protocol server (moto_server)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startS3();
    try {
      const store = new S3ArtifactStore({
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        prefix: "runs/",
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      await contract(store, async (key) => {
        const objectKey = store.locate(key).replace(`s3://${s3.bucket}/`, "");
        await store.client.send(
          new PutObjectCommand({ Bucket: s3.bucket, Key: objectKey, Body: "tampered" }),
        );
      });
      assert.match(
        store.locate(await store.put(bytes)),
        /^s3:\/\/driftflow-test\/runs\/[0-9a-f]{2}\/[0-9a-f]{64}$/,
      );
      const env: Record<string, string> = {
        DRIFTFLOW_S3_BUCKET: s3.bucket,
        DRIFTFLOW_S3_ENDPOINT: s3.endpoint,
      };
      assert.ok(openArtifactStore("/tmp/x", (n) => env[n]) instanceof S3ArtifactStore);
      assert.ok(openArtifactStore("/tmp/x", () => undefined) instanceof LocalArtifactStore);
    } finally {
      await s3.stop();
    }
  },
});
