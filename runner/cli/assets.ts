/**
 * `deno task assets` (the assets with their event counts and the DAGs they schedule),
 * `deno task assets touch <uri> [--extra JSON]` (records an asset event from outside, as Airflow's
 * REST `POST /assets/events`) and `deno task assets events [<uri>] [--limit N]`.
 *
 * @example
 * ```sh
 * deno task assets touch s3://bucket/inbox/ --extra '{"files": 3}'
 * ```
 */
import { assetEvents, listAssets, recordAssetEvent } from "../assets.ts";
import {
  intOption,
  loadAndSync,
  openStores,
  parse,
  renderTable,
  showDate,
  UsageError,
} from "./common.ts";

export const USAGE = `usage: deno task assets
       deno task assets touch <uri> [--extra JSON]
       deno task assets events [<uri>] [--limit N]`;

export async function assetsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    extra: { type: "string" },
    limit: { type: "string" },
  });
  const [sub, ...rest] = positionals;
  if (sub !== undefined && sub !== "touch" && sub !== "events") {
    throw new UsageError(`unknown subcommand "${sub}"; use touch or events`);
  }
  if (sub === "touch" && rest.length !== 1) throw new UsageError("touch takes one asset URI");
  let extra: Record<string, unknown> = {};
  if (values.extra !== undefined) {
    try {
      extra = JSON.parse(values.extra);
    } catch (e) {
      throw new UsageError(`--extra is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof extra !== "object" || extra === null || Array.isArray(extra)) {
      throw new UsageError(`--extra must be a JSON object such as '{"files": 3}'`);
    }
  }
  const { store } = await openStores();
  try {
    if (sub === "touch") {
      let event;
      try {
        event = await recordAssetEvent(store.db, { uri: rest[0], source: "cli", extra });
      } catch (e) {
        if ((e as Error).name === "ZodError") {
          throw new UsageError(
            `"${
              rest[0]
            }" is not an asset URI; use one such as s3://bucket/inbox/ or file:///data/inbox/`,
          );
        }
        throw e;
      }
      console.log(`asset event ${event.id}: ${event.uri} at ${event.createdAt.toISOString()}`);
      return 0;
    }
    if (sub === "events") {
      const events = await assetEvents(store.db, {
        uri: rest[0],
        limit: intOption("limit", values.limit, 50),
      });
      const rows = [["id", "asset", "at", "source", "from"]];
      for (const e of events) {
        rows.push([
          String(e.id),
          e.uri,
          showDate(e.createdAt),
          e.source,
          e.sourceDagId ? `${e.sourceDagId} run ${e.sourceRunId} ${e.sourceTaskId}` : "",
        ]);
      }
      console.log(renderTable(rows));
      return 0;
    }
    const loaded = await loadAndSync(store);
    const consumers = new Map<string, string[]>();
    const producers = new Map<string, string[]>();
    for (const d of loaded.dags.values()) {
      for (const uri of d.options.onAssets ?? []) {
        consumers.set(uri, [...(consumers.get(uri) ?? []), d.id]);
      }
      for (const t of d.tasks) {
        for (const uri of t.outlets ?? []) {
          producers.set(uri, [...(producers.get(uri) ?? []), `${d.id}.${t.id}`]);
        }
      }
    }
    const known = new Map((await listAssets(store.db)).map((a) => [a.uri, a]));
    const uris = [...new Set([...known.keys(), ...consumers.keys(), ...producers.keys()])].sort();
    const rows = [["asset", "events", "last event", "schedules", "updated by"]];
    for (const uri of uris) {
      const a = known.get(uri);
      rows.push([
        uri,
        String(a?.events ?? 0),
        showDate(a?.lastEventAt ?? null),
        (consumers.get(uri) ?? []).join(", "),
        (producers.get(uri) ?? []).join(", "),
      ]);
    }
    console.log(renderTable(rows));
    return 0;
  } finally {
    await store.close();
  }
}
