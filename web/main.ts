/**
 * The entry point of `deno task serve`: runs {@link serveCommand} with the CLI's exit codes.
 *
 * @example
 * ```sh
 * deno run -A web/main.ts --port 8080 --scheduler
 * ```
 */
import { UsageError } from "../runner/cli/common.ts";
import { PgliteLockedError } from "../runner/store/pglite_lock.ts";
import { serveCommand, USAGE } from "./server.ts";

/** Runs `deno task serve` with `args`; the process's exit code. */
async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  try {
    return await serveCommand(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`driftflow serve: ${e.message}\n${USAGE}`);
      return 2;
    }
    if (e instanceof PgliteLockedError) {
      console.error(`driftflow serve: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
