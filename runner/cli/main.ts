/**
 * The `driftflow` command line: `deno task <command>` runs `main.ts <command> …`.
 * Exit codes: 0 success, 1 a run failed, 2 a usage or validation error.
 *
 * @example
 * ```sh
 * deno run -A runner/cli/main.ts run example
 * ```
 */
import { assetsCommand, USAGE as ASSETS } from "./assets.ts";
import { backfillCommand, USAGE as BACKFILL } from "./backfill.ts";
import { clearCommand, USAGE as CLEAR } from "./clear.ts";
import { UsageError } from "./common.ts";
import { PgliteLockedError } from "../store/pglite_lock.ts";
import { exitWithTaskRunner } from "../parent_watch.ts";
import { dagsCommand, USAGE as DAGS } from "./dags.ts";
import { logsCommand, USAGE as LOGS } from "./logs.ts";
import { poolsCommand, USAGE as POOLS } from "./pools.ts";
import { SCHEDULER_USAGE, schedulerCommand, WORKER_USAGE, workerCommand } from "./processes.ts";
import { runCommand, USAGE as RUN } from "./run.ts";
import { runsCommand, USAGE as RUNS } from "./runs.ts";

/** A CLI command: takes its arguments, resolves to an exit code. */
export type Command = (args: string[]) => Promise<number>;

/** Commands by name, with their usage lines; other modules (scheduler, web…) add theirs here. */
export const COMMANDS: Record<string, { run: Command; usage: string }> = {
  run: { run: runCommand, usage: RUN },
  dags: { run: dagsCommand, usage: DAGS },
  runs: { run: runsCommand, usage: RUNS },
  logs: { run: logsCommand, usage: LOGS },
  clear: { run: clearCommand, usage: CLEAR },
  pools: { run: poolsCommand, usage: POOLS },
  backfill: { run: backfillCommand, usage: BACKFILL },
  assets: { run: assetsCommand, usage: ASSETS },
  scheduler: { run: schedulerCommand, usage: SCHEDULER_USAGE },
  worker: { run: workerCommand, usage: WORKER_USAGE },
};

/** Runs the command named by `args[0]`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`driftflow: ${name ? `unknown command "${name}"` : "no command given"}\n`);
    console.error(Object.values(COMMANDS).map((c) => c.usage).join("\n"));
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`driftflow ${name}: ${e.message}\n${command.usage}`);
      return 2;
    }
    if (e instanceof PgliteLockedError) {
      console.error(`driftflow ${name}: ${e.message}`);
      return 2;
    }
    console.error(`driftflow ${name}: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

if (import.meta.main) {
  exitWithTaskRunner();
  Deno.exit(await main(Deno.args));
}
