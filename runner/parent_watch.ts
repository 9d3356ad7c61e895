/**
 * `deno task <name>` runs the command as a child process, and a `kill -9` of `deno task` leaves
 * that child running on its own (nothing tells it). A driftflow process started by `deno task`
 * therefore watches its parent: when the parent is gone (this process was re-parented), it stops
 * at once, so its commands end with it (see command_task.ts) and a `--resume` never overlaps it.
 * Processes started any other way (a shell, `nohup`, systemd) are left alone: only a parent whose
 * command line is `deno task …` is watched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitWithTaskRunner, isDenoTask } from "./parent_watch.ts";
 * assert.equal(isDenoTask(["/usr/bin/deno", "task", "run", "example"]), true);
 * assert.equal(isDenoTask(["/usr/bin/deno", "run", "-A", "runner/cli/main.ts"]), false);
 * const stopWatching = exitWithTaskRunner(); // in a CLI's entry point; a no-op unless `deno task`
 * stopWatching();
 * ```
 */

/** The argv of process `pid` (Linux /proc), or null. */
function cmdline(pid: number): string[] | null {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter((a) => a !== "");
  } catch {
    return null;
  }
}

/** True when `argv` is `deno task …` (any path to a deno binary). */
export function isDenoTask(argv: readonly string[] | null): boolean {
  return argv !== null && argv.length >= 2 && /(^|\/)deno$/.test(argv[0]) && argv[1] === "task";
}

/**
 * When this process was started by `deno task`, polls its parent every `everyMs` and exits (code
 * 137, as if killed) once the parent is gone. Returns a function that stops watching.
 */
export function exitWithTaskRunner(everyMs = 250): () => void {
  const parent = Deno.ppid;
  if (!isDenoTask(cmdline(parent))) return () => {};
  const timer = setInterval(() => {
    if (Deno.ppid === parent) return;
    console.error(
      `driftflow: "deno task" (pid ${parent}) that started this process is gone (killed?): ` +
        "stopping now; its running commands end with it, and `deno task run --resume` continues a run",
    );
    Deno.exit(137);
  }, everyMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
