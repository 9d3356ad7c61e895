// The folder watcher reports every file that lands, whatever its modification time says: files
// stamped in the same millisecond as one already seen, and files moved or copied in with an older
// preserved mtime (mv, cp -p, rsync -t; S3 multipart uploads are stamped when they start).
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import assert from "node:assert/strict";
import { pathToFileURL } from "node:url";
import { assetEvents } from "../../runner/assets.ts";
import { watchAssetFolders } from "../../runner/assets_watch.ts";
import { dag } from "../../runner/dag.ts";
import { storeTest } from "./helpers.ts";
import { startS3 } from "./moto.ts";

let seq = 0;

storeTest(
  "the folder watcher reports files with same-ms and preserved old mtimes",
  async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-watch-" });
    try {
      const uri = `${pathToFileURL(dir).href}/`;
      const d = dag({ id: `watch_${++seq}`, onAssets: [uri], watchAssets: true })
        .task("t", { run: () => 1 });
      const landed = async () => {
        const n = await watchAssetFolders(store.db, [d]);
        if (n === 0) return null;
        const [e] = await assetEvents(store.db, { uri, limit: 1 });
        return (e.extra.files as string[]).toSorted();
      };
      const stamp = new Date("2026-03-01T12:00:00.123Z");
      await Deno.writeTextFile(`${dir}/first.csv`, "1");
      await Deno.utime(`${dir}/first.csv`, stamp, stamp);
      assert.equal(await landed(), null, "first look: what is there does not count");

      await Deno.writeTextFile(`${dir}/same_ms.csv`, "2");
      await Deno.utime(`${dir}/same_ms.csv`, stamp, stamp);
      assert.deepEqual(await landed(), ["same_ms.csv"], "stamped in the same millisecond");

      const lastYear = new Date("2025-03-01T00:00:00Z");
      await Deno.writeTextFile(`${dir}/moved_in.csv`, "3");
      await Deno.utime(`${dir}/moved_in.csv`, lastYear, lastYear); // as mv, cp -p, rsync -t leave it
      assert.deepEqual(await landed(), ["moved_in.csv"], "an older preserved mtime");
      assert.equal(await landed(), null, "each file once");

      await Deno.writeTextFile(`${dir}/first.csv`, "rewritten, longer");
      await Deno.utime(`${dir}/first.csv`, stamp, stamp);
      assert.deepEqual(await landed(), ["first.csv"], "a file rewritten (its size changed)");

      await Deno.remove(`${dir}/same_ms.csv`);
      assert.equal(await landed(), null, "a file removed is not an update");
      await Deno.writeTextFile(`${dir}/same_ms.csv`, "2");
      await Deno.utime(`${dir}/same_ms.csv`, stamp, stamp);
      assert.deepEqual(await landed(), ["same_ms.csv"], "the same file landing again");
      assert.equal(await landed(), null);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

storeTest(
  "a folder watched before files were remembered: its watermark decides once",
  async (store) => {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-watch-" });
    try {
      const uri = `${pathToFileURL(dir).href}/`;
      const d = dag({ id: `legacy_${++seq}`, onAssets: [uri], watchAssets: true })
        .task("t", { run: () => 1 });
      const mark = new Date("2026-03-01T12:00:00Z");
      // as assets migration 1 left it: a watermark only
      await store.db.query(
        "insert into asset_watermarks (uri, seen_until) values ($1, $2::timestamptz)",
        [uri, mark.toISOString()],
      );
      for (const [name, at] of [["before.csv", -1000], ["after.csv", 1000]] as const) {
        await Deno.writeTextFile(`${dir}/${name}`, name);
        const t = new Date(mark.getTime() + at);
        await Deno.utime(`${dir}/${name}`, t, t);
      }
      assert.equal(await watchAssetFolders(store.db, [d]), 1);
      const [e] = await assetEvents(store.db, { uri, limit: 1 });
      assert.deepEqual(e.extra.files, ["after.csv"]);
      assert.equal(await watchAssetFolders(store.db, [d]), 0, "both remembered now");
      await Deno.writeTextFile(`${dir}/old.csv`, "x");
      await Deno.utime(`${dir}/old.csv`, new Date(0), new Date(0));
      assert.equal(await watchAssetFolders(store.db, [d]), 1, "then by name");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

storeTest(
  "an S3 folder: objects by key and ETag, whatever their second-precision stamps",
  async (store) => {
    const s3 = await startS3("watch-bucket");
    const env = ["DRIFTFLOW_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"] as const;
    const saved = env.map((k) => Deno.env.get(k));
    try {
      Deno.env.set("DRIFTFLOW_S3_ENDPOINT", s3.endpoint);
      Deno.env.set("AWS_ACCESS_KEY_ID", "test");
      Deno.env.set("AWS_SECRET_ACCESS_KEY", "test");
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
      });
      const put = (key: string, body: string) =>
        client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
      const prefix = `inbox_${++seq}/`;
      const uri = `s3://${s3.bucket}/${prefix}`;
      const d = dag({ id: `s3_${seq}`, onAssets: [uri], watchAssets: true })
        .task("t", { run: () => 1 });
      const landed = async () => {
        const n = await watchAssetFolders(store.db, [d]);
        if (n === 0) return null;
        const [e] = await assetEvents(store.db, { uri, limit: 1 });
        return (e.extra.files as string[]).toSorted();
      };
      await put(`${prefix}a.eml`, "a");
      assert.equal(await landed(), null, "first look");
      // S3 stamps to the second: these most likely share a.eml's stamp, and count all the same
      await put(`${prefix}b.eml`, "b");
      assert.deepEqual(await landed(), [`${prefix}b.eml`]);
      await put(`${prefix}a.eml`, "a, uploaded again");
      assert.deepEqual(await landed(), [`${prefix}a.eml`], "an object overwritten (a new ETag)");
      assert.equal(await landed(), null, "each version once");
    } finally {
      env.forEach((k, i) =>
        saved[i] === undefined ? Deno.env.delete(k) : Deno.env.set(k, saved[i]!)
      );
      await s3.stop();
    }
  },
);
