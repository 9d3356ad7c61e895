/**
 * `deno task dags`: the DAGs with their schedule and last run's state.
 * `deno task dags validate`: load every DAG file and print each problem; exit 2 when there is one.
 *
 * @example
 * ```sh
 * deno task dags validate
 * ```
 */
import { loadDags } from "../loader.ts";
import { loadAndSync, openStores, parse, renderTable, UsageError } from "./common.ts";

export const USAGE = "usage: deno task dags [validate]";

export async function dagsCommand(args: string[]): Promise<number> {
  const { positionals } = parse(args, {});
  if (positionals[0] === "validate" && positionals.length === 1) {
    const { dags, problems, files } = await loadDags();
    for (const p of problems) console.error(p);
    console.log(
      `${files.length} file(s), ${dags.size} valid DAG(s), ${problems.length} problem(s)`,
    );
    return problems.length ? 2 : 0;
  }
  if (positionals.length > 0) throw new UsageError(`unknown argument "${positionals[0]}"`);
  const { store } = await openStores();
  try {
    const loaded = await loadAndSync(store);
    for (const p of loaded.problems) console.error(`warning: ${p}`);
    const records = await store.listDags();
    const rows = [["dag", "schedule", "paused", "last run", "file"]];
    for (const d of records) {
      if (!loaded.dags.has(d.dagId)) continue;
      rows.push([
        d.dagId,
        d.schedule ??
          (loaded.dags.get(d.dagId)!.options.onAssets?.map((u) => `on ${u}`).join(", ") ||
            "manual"),
        d.isPaused ? "yes" : "no",
        d.lastRunId === null ? "-" : `${d.lastRunId} ${d.lastRunState}`,
        d.fileloc ?? "",
      ]);
    }
    console.log(renderTable(rows));
    return 0;
  } finally {
    await store.close();
  }
}
