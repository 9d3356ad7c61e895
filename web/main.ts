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

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(USAGE);
  Deno.exit(0);
}
try {
  Deno.exit(await serveCommand(Deno.args));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`driftflow serve: ${e.message}\n${USAGE}`);
    Deno.exit(2);
  }
  if (e instanceof PgliteLockedError) {
    console.error(`driftflow serve: ${e.message}`);
    Deno.exit(2);
  }
  throw e;
}
