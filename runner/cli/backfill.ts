/**
 * `deno task backfill <dag_id> --from ISO --to ISO`: creates the runs of a past range — one per
 * schedule tick whose logical date lies in [from, to], both ends included (Airflow's backfill:
 * `--from D --to D` makes the one run at D) — and runs them in this process, oldest first. Runs
 * that already exist are skipped. Exit 0 when all succeed, 1 when one fails, 2 when the range
 * holds no tick.
 *
 * @example
 * ```sh
 * deno task backfill drift_monitoring --from 2026-01-01 --to 2026-01-02
 * ```
 */
import { Executor } from "../executor.ts";
import { createDagRun } from "../runs.ts";
import { parseSchedule } from "../schedule.ts";
import { RunExistsError } from "../store/store.ts";
import { loadAndSync, openStores, parse, renderTable, UsageError } from "./common.ts";

export const USAGE = "usage: deno task backfill <dag_id> --from ISO --to ISO";

function isoOption(name: string, value: string | undefined): Date {
  const d = value === undefined ? new Date(NaN) : new Date(value);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(`--${name} must be an ISO date such as 2026-01-01, got "${value ?? ""}"`);
  }
  return d;
}

export async function backfillCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { from: { type: "string" }, to: { type: "string" } });
  if (positionals.length !== 1) throw new UsageError("name one DAG id");
  const from = isoOption("from", values.from), to = isoOption("to", values.to);
  if (to < from) throw new UsageError("--to is before --from");
  const { store, artifacts } = await openStores();
  try {
    const loaded = await loadAndSync(store);
    const dag = loaded.dags.get(positionals[0]);
    if (!dag) {
      throw new UsageError(
        `no DAG "${positionals[0]}"; loaded: ${[...loaded.dags.keys()].join(", ")}`,
      );
    }
    if (!dag.options.schedule) throw new UsageError(`dag "${dag.id}" has no schedule to backfill`);
    const schedule = parseSchedule(dag.options.schedule, dag.options.timezone ?? "UTC");
    const starts = schedule.between(new Date(from.getTime() - 1), to);
    if (starts.length === 0) {
      const next = schedule.next(new Date(from.getTime() - 1));
      throw new UsageError(
        `no tick of "${dag.options.schedule}" has a logical date in [${from.toISOString()}, ` +
          `${to.toISOString()}]${next ? `; the next is ${next.toISOString()}` : ""}`,
      );
    }
    const executor = new Executor({ store, artifacts, resolveDag: (id) => loaded.dags.get(id) });
    const rows = [["logical date", "run", "state"]];
    let failed = 0;
    for (const [i, logical] of starts.entries()) {
      console.error(`backfill ${dag.id}: run ${i + 1}/${starts.length} (${logical.toISOString()})`);
      try {
        const run = await createDagRun(store, dag, {
          logicalDate: logical,
          dataInterval: { start: logical, end: schedule.next(logical)! },
          runType: "backfill",
        });
        const result = await executor.runToEnd(dag, run.id);
        if (result.state !== "success") failed++;
        rows.push([logical.toISOString(), String(run.id), result.state]);
      } catch (e) {
        if (!(e instanceof RunExistsError)) throw e;
        rows.push([logical.toISOString(), String(e.existingId), "exists (skipped)"]);
      }
    }
    await executor.drain();
    console.log(renderTable(rows));
    return failed ? 1 : 0;
  } finally {
    await store.close();
  }
}
