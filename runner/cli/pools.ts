/**
 * `deno task pools`: the named pools and their slots; `deno task pools set NAME SLOTS`: create or
 * resize one. Pools limit how many tries that use them run at once.
 *
 * @example
 * ```sh
 * deno task pools set gpu 1
 * ```
 */
import { intOption, openStores, parse, renderTable, UsageError } from "./common.ts";

export const USAGE = "usage: deno task pools [set NAME SLOTS]";

export async function poolsCommand(args: string[]): Promise<number> {
  const { positionals } = parse(args, {});
  const { store } = await openStores();
  try {
    if (positionals[0] === "set") {
      if (positionals.length !== 3) {
        throw new UsageError("pools set takes a name and a number of slots");
      }
      await store.setPool(positionals[1], intOption("slots", positionals[2], 0));
    } else if (positionals.length > 0) throw new UsageError(`unknown argument "${positionals[0]}"`);
    const pools = await store.pools();
    console.log(
      renderTable([
        ["pool", "slots", "description"],
        ...pools.map((p) => [p.name, String(p.slots), p.description]),
      ]),
    );
    return 0;
  } finally {
    await store.close();
  }
}
