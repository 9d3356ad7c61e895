/**
 * `deno task clear <run_id> [--task ID]… [--downstream]`: resets task instances of a run (all of
 * them, or the named ones and, with --downstream, everything after them in the graph the run
 * recorded) so `deno task run --resume <run_id>` runs them again.
 *
 * @example
 * ```sh
 * deno task clear 12 --task transform --downstream && deno task run --resume 12
 * ```
 */
import { tasksToClear, UnknownTaskError } from "../clear.ts";
import { intOption, openStores, parse, UsageError } from "./common.ts";

export const USAGE = "usage: deno task clear <run_id> [--task ID]... [--downstream]";

export async function clearCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    task: { type: "string", multiple: true },
    downstream: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError("give one run id");
  const runId = intOption("run_id", positionals[0], 0);
  const { store } = await openStores();
  try {
    const run = await store.getRun(runId);
    if (!run) throw new UsageError(`run ${runId} does not exist`);
    const structure = await store.structure(run.structureHash);
    if (!structure) throw new Error(`run ${runId} has no recorded structure`);
    let ids: string[];
    try {
      ids = tasksToClear(structure, values.task, values.downstream ?? false);
    } catch (e) {
      if (!(e instanceof UnknownTaskError)) throw e;
      throw new UsageError(`run ${runId}: ${e.message}`);
    }
    const n = await store.clear(runId, ids);
    console.log(`cleared ${n} task instance(s) of run ${runId}: ${ids.join(", ")}`);
    console.log(`run them again with: deno task run --resume ${runId}`);
    return 0;
  } finally {
    await store.close();
  }
}
