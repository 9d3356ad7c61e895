/**
 * `deno task models [NAME]`: the registered models with their versions, metrics and aliases, and —
 * for one model — the history of its alias moves (who moved it, and why).
 * `deno task models alias NAME ALIAS VERSION [--reason TEXT] [--by WHO]` points an alias at a
 * version (promote, roll back); `--remove` instead of a version deletes the alias. Every move is
 * recorded in the alias history.
 *
 * @example
 * ```sh
 * deno task models delays
 * deno task models alias delays champion 3 --reason "rollback: v4 misses late evening flights"
 * ```
 */
import { hostname } from "node:os";
import { parse, renderTable, showDate, UsageError } from "../../runner/cli/common.ts";
import { openStore } from "../../runner/store/open.ts";
import { PgliteLockedError } from "../../runner/store/pglite_lock.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";

export const USAGE =
  `usage: deno task models [NAME]            list models (one model: with its alias history)
       deno task models alias NAME ALIAS VERSION [--reason TEXT] [--by WHO]
                                                 point ALIAS (e.g. champion) at VERSION
       deno task models alias NAME ALIAS --remove [--reason TEXT]
                                                 delete ALIAS
Every alias move is recorded with who made it (--by, default $USER@host) and why (--reason).`;

const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

/** Who is running this command: `$USER@host`. */
function whoAmI(): string {
  const user = Deno.env.get("USER") ?? Deno.env.get("USERNAME") ?? "unknown";
  return `${user}@${hostname()}`;
}

async function withRegistry<T>(
  what: string,
  fn: (registry: ModelRegistry) => Promise<T>,
): Promise<T | number> {
  let store;
  try {
    store = await openStore();
  } catch (e) {
    if (!(e instanceof PgliteLockedError)) throw e;
    console.error(`cannot ${what}: ${e.message}`);
    return 2;
  }
  try {
    return await fn(await ModelRegistry.open(store.db));
  } finally {
    await store.close();
  }
}

async function aliasCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    reason: { type: "string" },
    by: { type: "string" },
    remove: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [name, alias, versionText, ...extra] = positionals;
  if (!name || !alias) throw new UsageError("alias needs NAME and ALIAS");
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(" ")}`);
  if (!ALIAS_NAME.test(alias) || /^\d+$/.test(alias)) {
    throw new UsageError(
      `alias "${alias}" is not valid: start with a letter; letters, digits, _, - and . only`,
    );
  }
  if (values.remove === (versionText !== undefined)) {
    throw new UsageError("give a VERSION to point the alias at, or --remove (not both)");
  }
  const version = versionText === undefined ? null : Number(versionText);
  if (version !== null && !(Number.isInteger(version) && version >= 1)) {
    throw new UsageError(`VERSION must be a version number such as 3, got "${versionText}"`);
  }
  const result = await withRegistry("move the alias", async (registry) => {
    const versions = await registry.versions(name);
    if (versions.length === 0) {
      console.error(`no model "${name}" is registered (see deno task models)`);
      return 2;
    }
    const current = versions.find((v) => v.aliases.includes(alias))?.version ?? null;
    if (version !== null && !versions.some((v) => v.version === version)) {
      console.error(
        `model "${name}" has no version ${version}; versions: ${
          versions.map((v) => v.version).join(", ")
        }`,
      );
      return 2;
    }
    if (version === null && current === null) {
      console.error(`model "${name}" has no alias "${alias}" to remove`);
      return 2;
    }
    const reason = values.reason ??
      (version === null ? "removed by hand" : `set by hand to v${version}`);
    const actor = values.by ?? whoAmI();
    await registry.setAlias(name, alias, version, { reason, actor });
    console.log(
      version === null
        ? `${name}@${alias} removed (was v${current}) by ${actor}: ${reason}`
        : `${name}@${alias} → v${version}${
          current === null ? "" : ` (was v${current})`
        } by ${actor}: ${reason}`,
    );
    return 0;
  });
  return result;
}

async function listCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    help: { type: "boolean", short: "h", default: false },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length > 1) {
    throw new UsageError(`unexpected arguments: ${positionals.slice(1).join(" ")}`);
  }
  const only = positionals[0];
  return await withRegistry("list models", async (registry) => {
    const models = (await registry.models()).filter((m) => !only || m.name === only);
    if (models.length === 0) {
      console.log(only ? `no model "${only}" is registered` : "no models are registered yet");
      return only ? 2 : 0;
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
    if (only) {
      const history = await registry.aliasHistory(only);
      console.log(`\nalias moves of ${only}:`);
      console.log(renderTable([
        ["when", "alias", "from", "to", "by", "run", "why"],
        ...history.map((h) => [
          showDate(h.at),
          h.alias,
          h.fromVersion === null ? "-" : String(h.fromVersion),
          h.toVersion === null ? "-" : String(h.toVersion),
          h.actor,
          h.runId === null ? "" : String(h.runId),
          h.reason,
        ]),
      ]));
    }
    return 0;
  });
}

export async function modelsCommand(args: string[]): Promise<number> {
  try {
    return args[0] === "alias" ? await aliasCommand(args.slice(1)) : await listCommand(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`models: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await modelsCommand(Deno.args));
