/**
 * Asset watchers (Airflow 3's AssetWatcher, for folders): for a DAG with `watchAssets`, each of its
 * `onAssets` URIs that names a folder — `file:///data/inbox/` or `s3://bucket/inbox/` — is listed
 * on every scheduler pass; when files newer than the last one seen have landed, one asset event is
 * recorded (its `extra.files` names them) and the watermark moves to the newest. A folder seen for
 * the first time starts at its newest file, so what was there before does not count.
 *
 * @example
 * ```ts
 * import { watchAssetFolders } from "./assets_watch.ts";
 * const events = await watchAssetFolders(store.db, [...dags.values()]); // events recorded
 * ```
 */
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordAssetEvent } from "./assets.ts";
import type { DagDefinition } from "./dag.ts";
import type { SqlClient } from "./store/sql_client.ts";

/** A file in a watched folder. */
interface Landed {
  name: string;
  modified: Date;
}

let s3: S3Client | null = null;

/** The files of a folder URI with their modification times. */
export async function listFolder(uri: string): Promise<Landed[]> {
  const url = new URL(uri);
  if (url.protocol === "file:") {
    const dir = fileURLToPath(url);
    const out: Landed[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (!e.isFile) continue;
        const info = await Deno.stat(join(dir, e.name));
        if (info.mtime) out.push({ name: e.name, modified: info.mtime });
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out;
  }
  if (url.protocol === "s3:") {
    s3 ??= new S3Client({
      endpoint: Deno.env.get("DRIFTFLOW_S3_ENDPOINT"),
      region: Deno.env.get("AWS_REGION") ?? "us-east-1",
      forcePathStyle: true,
    });
    const out: Landed[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: url.host,
          Prefix: url.pathname.slice(1),
          ContinuationToken: token,
        }),
      );
      for (const c of page.Contents ?? []) {
        if (c.Key && c.LastModified) out.push({ name: c.Key, modified: c.LastModified });
      }
      token = page.NextContinuationToken;
    } while (token);
    return out;
  }
  throw new Error(`cannot watch "${uri}": only file:// and s3:// folders can be watched`);
}

/** The folder URIs the DAGs watch (ending in "/"). */
export function watchedFolders(dags: readonly DagDefinition[]): string[] {
  const out = new Set<string>();
  for (const d of dags) {
    if (!d.options.watchAssets) continue;
    for (const uri of d.options.onAssets ?? []) if (uri.endsWith("/")) out.add(uri);
  }
  return [...out].sort();
}

/** Lists each watched folder once; records an event where new files landed. Returns how many. */
export async function watchAssetFolders(
  db: SqlClient,
  dags: readonly DagDefinition[],
  log: (line: string) => void = () => {},
): Promise<number> {
  let events = 0;
  for (const uri of watchedFolders(dags)) {
    let files: Landed[];
    try {
      files = await listFolder(uri);
    } catch (e) {
      log(`cannot list watched asset ${uri}: ${(e as Error).message}`);
      continue;
    }
    const newest = files.reduce((m, f) => Math.max(m, f.modified.getTime()), 0);
    const [mark] = await db.query<{ seen_until: unknown }>(
      "select seen_until from asset_watermarks where uri = $1",
      [uri],
    );
    if (!mark) {
      await db.query(
        `insert into asset_watermarks (uri, seen_until) values ($1, $2::timestamptz)
         on conflict (uri) do nothing`,
        [uri, new Date(newest).toISOString()],
      );
      continue;
    }
    const seen = new Date(
      String(mark.seen_until instanceof Date ? mark.seen_until.toISOString() : mark.seen_until),
    );
    const landed = files.filter((f) => f.modified > seen)
      .sort((a, b) => a.modified.getTime() - b.modified.getTime());
    if (landed.length === 0) continue;
    const recorded = await db.transaction(async (tx) => {
      const moved = await tx.query(
        `update asset_watermarks set seen_until = $2::timestamptz
         where uri = $1 and seen_until = $3::timestamptz returning 1`,
        [uri, new Date(newest).toISOString(), seen.toISOString()],
      );
      if (moved.length === 0) return false;
      await recordAssetEvent(tx, {
        uri,
        source: "watcher",
        extra: { files: landed.slice(0, 100).map((f) => f.name), count: landed.length },
      });
      return true;
    });
    if (recorded) {
      events++;
      log(`asset ${uri}: ${landed.length} new file(s)`);
    }
  }
  return events;
}
