/**
 * `deno task models [NAME]`: the registered models with their versions, metrics and aliases, and —
 * for one model — the history of its alias moves.
 *
 * @example
 * ```sh
 * deno task models delays
 * ```
 */
import { parseArgs } from "node:util";
import { renderTable, showDate } from "../../runner/cli/common.ts";
import { openStore } from "../../runner/store/open.ts";
import { PgliteLockedError } from "../../runner/store/pglite_lock.ts";
import { ModelRegistry } from "../registry/registry.ts";

export async function modelsCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  let store;
  try {
    store = await openStore();
  } catch (e) {
    if (!(e instanceof PgliteLockedError)) throw e;
    console.error(`cannot list models: ${e.message}`);
    return 2;
  }
  try {
    const registry = await ModelRegistry.open(store.db);
    const models = (await registry.models()).filter((m) =>
      !positionals[0] || m.name === positionals[0]
    );
    if (models.length === 0) {
      console.log(
        positionals[0]
          ? `no model "${positionals[0]}" is registered`
          : "no models are registered yet",
      );
      return positionals[0] ? 2 : 0;
    }
    const rows = [["model", "version", "aliases", "algo", "metrics", "rows", "made by", "created"]];
    for (const m of models) {
      for (const v of m.versions) {
        rows.push([
          m.name,
          String(v.version),
          v.aliases.join(", "),
          v.algo,
          Object.entries(v.metrics).map(([k, x]) => `${k}=${Number(x.toPrecision(4))}`).join(" "),
          String(v.fingerprint.rows),
          v.lineage ? `run ${v.lineage.runId} ${v.lineage.taskId}` : "",
          showDate(v.createdAt),
        ]);
      }
    }
    console.log(renderTable(rows));
    if (positionals[0]) {
      const history = await registry.aliasHistory(positionals[0]);
      console.log(`\nalias moves of ${positionals[0]}:`);
      console.log(renderTable([
        ["when", "alias", "from", "to", "run", "why"],
        ...history.map((h) => [
          showDate(h.at),
          h.alias,
          h.fromVersion === null ? "-" : String(h.fromVersion),
          h.toVersion === null ? "-" : String(h.toVersion),
          h.runId === null ? "" : String(h.runId),
          h.reason,
        ]),
      ]));
    }
    return 0;
  } finally {
    await store.close();
  }
}

if (import.meta.main) Deno.exit(await modelsCommand(Deno.args));
