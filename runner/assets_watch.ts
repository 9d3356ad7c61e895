/**
 * Asset watchers (Airflow 3's AssetWatcher, for folders): for a DAG with `watchAssets`, each of its
 * `onAssets` URIs that names a folder — `file:///data/inbox/` or `s3://bucket/inbox/` — is listed
 * on every scheduler pass; when files have landed that were not there in that version on the last
 * pass (a new name, or a new mtime, size or ETag), one asset event is recorded (its `extra.files`
 * names them). The folder's files are remembered by name, not by a watermark of the newest mtime:
 * a file stamped in the same millisecond as one seen, or moved in with an older preserved mtime
 * (mv, cp -p, rsync -t, an S3 multipart upload stamped when it started), still counts. Removed
 * files are forgotten (no event), so the memory is as large as the folder's listing. A folder
 * seen for the first time is remembered as it is, so what was there before does not count.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assetEvents } from "./assets.ts";
 * import { watchAssetFolders } from "./assets_watch.ts";
 * import { dag } from "./dag.ts";
 * import { openStore } from "./store/open.ts";
 * const inbox = await Deno.makeTempDir();
 * const uri = `file://${inbox}/`;
 * const ingest = dag({ id: "ingest", onAssets: [uri], watchAssets: true });
 * const dags = [ingest.task("load", { run: () => 1 })];
 * const store = await openStore({ memory: true });
 * try {
 *   assert.equal(await watchAssetFolders(store.db, dags), 0); // first pass: remembers the folder
 *   await Deno.writeTextFile(`${inbox}/a.csv`, "x\n1\n");
 *   assert.equal(await watchAssetFolders(store.db, dags), 1); // a file landed: one event
 *   const [event] = await assetEvents(store.db, { uri });
 *   assert.equal(event.source, "watcher");
 * } finally {
 *   await store.close();
 *   await Deno.remove(inbox, { recursive: true });
 * }
 * ```
 */
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { recordAssetEvent } from "./assets.ts";
import type { DagDefinition } from "./dag.ts";
import type { SqlClient } from "./store/sql_client.ts";

/** A file in a watched folder. */
export interface Landed {
  name: string;
  modified: Date;
  /** Changes when the file does: its mtime and size (a local file), its ETag and size (S3). */
  version: string;
}

/** The S3 client, made once per endpoint (`DRIFTFLOW_S3_ENDPOINT`, read at each listing). */
let s3: { endpoint: string | undefined; client: S3Client } | null = null;

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
        if (info.mtime) {
          out.push({
            name: e.name,
            modified: info.mtime,
            version: `${info.mtime.getTime()}:${info.size}`,
          });
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return out;
  }
  if (url.protocol === "s3:") {
    const endpoint = Deno.env.get("DRIFTFLOW_S3_ENDPOINT");
    if (s3 === null || s3.endpoint !== endpoint) {
      s3?.client.destroy();
      s3 = {
        endpoint,
        client: new S3Client({
          endpoint,
          region: Deno.env.get("AWS_REGION") ?? "us-east-1",
          forcePathStyle: true,
        }),
      };
    }
    const client: S3Client = s3.client;
    const out: Landed[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({
          Bucket: url.host,
          Prefix: url.pathname.slice(1),
          ContinuationToken: token,
        }),
      );
      for (const c of page.Contents ?? []) {
        if (c.Key && c.LastModified) {
          out.push({
            name: c.Key,
            modified: c.LastModified,
            version: `${c.ETag ?? c.LastModified.getTime()}:${c.Size ?? ""}`,
          });
        }
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
    // Read before listing: a pass that another scheduler overtook while listing writes nothing.
    const [mark] = await db.query<Row>(
      `select seen_until, listed, generation::text as generation from asset_watermarks
       where uri = $1`,
      [uri],
    );
    let files: Landed[];
    try {
      files = await listFolder(uri);
    } catch (e) {
      log(`cannot list watched asset ${uri}: ${(e as Error).message}`);
      continue;
    }
    const newest = new Date(files.reduce((m, f) => Math.max(m, f.modified.getTime()), 0));
    if (!mark) {
      await db.transaction(async (tx) => {
        const created = await tx.query(
          `insert into asset_watermarks (uri, seen_until, listed) values ($1, $2::timestamptz, true)
           on conflict (uri) do nothing returning 1`,
          [uri, newest.toISOString()],
        );
        if (created.length) await remember(tx, uri, files);
      });
      continue;
    }
    const change = mark.listed
      ? diff(files, await known(db, uri))
      // A folder watched before this version: its watermark decides one last time.
      : { landed: files.filter((f) => f.modified > asDate(mark.seen_until)), gone: [] };
    if (mark.listed && change.landed.length === 0 && change.gone.length === 0) continue;
    const landed = change.landed.toSorted((a, b) =>
      a.modified.getTime() - b.modified.getTime() || a.name.localeCompare(b.name)
    );
    const recorded = await db.transaction(async (tx) => {
      const moved = await tx.query(
        `update asset_watermarks set generation = generation + 1, listed = true,
           seen_until = greatest(seen_until, $2::timestamptz)
         where uri = $1 and generation = $3::bigint returning 1`,
        [uri, newest.toISOString(), String(mark.generation)],
      );
      if (moved.length === 0) return false;
      await remember(tx, uri, mark.listed ? landed : files);
      if (change.gone.length) {
        await tx.query("delete from asset_watch_files where uri = $1 and name = any($2::text[])", [
          uri,
          change.gone,
        ]);
      }
      if (landed.length === 0) return false;
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

type Row = Record<string, unknown>;
const asDate = (v: unknown): Date => v instanceof Date ? v : new Date(String(v));

/** The files of `uri` remembered from the last pass: version by name. */
async function known(db: SqlClient, uri: string): Promise<Map<string, string>> {
  const rows = await db.query<{ name: string; version: string }>(
    "select name, version from asset_watch_files where uri = $1",
    [uri],
  );
  return new Map(rows.map((r) => [r.name, r.version]));
}

/** The files that are new or changed since `before`, and the names no longer there. */
export function diff(
  files: readonly Landed[],
  before: ReadonlyMap<string, string>,
): { landed: Landed[]; gone: string[] } {
  const names = new Set(files.map((f) => f.name));
  return {
    landed: files.filter((f) => before.get(f.name) !== f.version),
    gone: [...before.keys()].filter((n) => !names.has(n)),
  };
}

/** Remembers `files` (their current versions) as seen in `uri`. */
async function remember(db: SqlClient, uri: string, files: readonly Landed[]): Promise<void> {
  if (files.length === 0) return;
  await db.query(
    `insert into asset_watch_files (uri, name, version)
     select $1, f.name, f.version from jsonb_to_recordset($2::text::jsonb) as f(name text, version text)
     on conflict (uri, name) do update set version = excluded.version`,
    [uri, JSON.stringify(files.map((f) => ({ name: f.name, version: f.version })))],
  );
}
