/**
 * `deno task runs <dag_id> [--limit N] [--json]`: a DAG's run history with each task's state and
 * tries. `--json` prints the stable document described in runs_json.ts.
 *
 * @example
 * ```sh
 * deno task runs example --limit 5 --json | jq '.runs[0].state'
 * ```
 */
import { formatDuration } from "../duration.ts";
import { loadDags } from "../loader.ts";
import { intOption, openStores, parse, renderTable, showDate, UsageError } from "./common.ts";
import { runsJson } from "./runs_json.ts";

export const USAGE = "usage: deno task runs <dag_id> [--limit N] [--json]";

export async function runsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    limit: { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError("name one DAG id");
  const limit = intOption("limit", values.limit, 25);
  const { store } = await openStores();
  try {
    const dagId = positionals[0];
    const runs = await store.listRuns(dagId, { limit });
    const ids = runs.map((r) => r.id);
    const [tis, tries] = await Promise.all([
      store.taskInstancesOfRuns(ids),
      store.triesOfRuns(ids),
    ]);
    if (runs.length === 0) {
      const known = (await loadDags()).dags;
      if (!known.has(dagId)) {
        console.error(
          `unknown DAG "${dagId}"; the DAGs are: ${
            [...known.keys()].sort().join(", ") || "(none)"
          }`,
        );
        return 2;
      }
    }
    const doc = runsJson(dagId, runs, tis, tries);
    if (values.json) {
      console.log(JSON.stringify(doc, null, 2));
      return 0;
    }
    if (runs.length === 0) {
      console.log(`no runs of dag "${dagId}" yet; start one with: deno task run ${dagId}`);
      return 0;
    }
    for (const run of doc.runs) {
      const dur = run.durationMs === null ? "" : `, ${formatDuration(run.durationMs)}`;
      console.log(
        `run ${run.id}  ${run.state}  ${run.runType}  logical ${
          showDate(new Date(run.logicalDate))
        }${dur}`,
      );
      const rows = [["  task", "map", "state", "tries", "duration"]];
      for (const t of run.tasks) {
        rows.push([
          `  ${t.taskId}`,
          t.mapIndex >= 0 ? String(t.mapIndex) : "",
          t.state ?? "none",
          t.tries.map((x) => `${x.tryNumber}:${x.state}`).join(" "),
          t.durationMs === null ? "" : formatDuration(t.durationMs),
        ]);
      }
      console.log(renderTable(rows) + "\n");
    }
    return 0;
  } finally {
    await store.close();
  }
}
