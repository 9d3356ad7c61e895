/**
 * Runs a command task (Airflow's BashOperator): argv, env and cwd; stdout and stderr go line by line
 * to the try's log; the exit code decides the state.
 *
 * The command never outlives the process that runs it. It is started through a small bash
 * supervisor ({@link SUPERVISOR}) in a session (process group) of its own; the supervisor's stdin is
 * a pipe only this process writes to. When this process ends — exit, crash or `kill -9` — the
 * kernel closes the pipe and the supervisor ends the command's whole process group (SIGTERM, then
 * SIGKILL after a grace period). An abort (timeout, shutdown) closes the pipe the same way. A
 * command that ends leaves nothing behind in its group either. Only a process that leaves the
 * group on purpose (its own `setsid`) escapes; see the README's "Failure behaviour". The group id
 * is reported through `onStart` so a later try can end leftovers (see leftovers.ts).
 *
 * Deno has no `prctl(PR_SET_PDEATHSIG)` and no pre-exec hook, so the supervisor watches for the
 * pipe's end-of-file instead: it needs only bash and setsid (util-linux), present on every Linux.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runCommand } from "./command_task.ts";
 * const lines: string[] = [];
 * const r = await runCommand(["bash", "-c", "echo hi; echo there"], {
 *   signal: AbortSignal.timeout(10_000), // a timeout ends the command's whole process group
 *   log: (stream, line) => lines.push(`${stream}: ${line}`),
 * });
 * assert.deepEqual(r, { exitCode: 0, lastLine: "there" });
 * assert.deepEqual(lines, ["stdout: hi", "stdout: there"]);
 * ```
 */
import type { CommandResult } from "./dag.ts";

/** The first stderr line of the supervisor: the command's process group id. */
const PGID_MARKER = "driftflow-supervisor: pgid ";
const MISSING_MARKER = "driftflow-supervisor: missing ";

/** How to run a command. */
export interface CommandOptions {
  env?: Record<string, string>;
  cwd?: string;
  signal: AbortSignal;
  log: (stream: "stdout" | "stderr", line: string) => void;
  /** Milliseconds between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /**
   * A file the supervisor writes the command's exit status to as soon as the command ends — before
   * this process can even see it — so the outcome survives this process dying (see outbox.ts).
   */
  exitFile?: string;
  /** Called with the command's process group id once it runs. */
  onStart?: (pgid: number) => void;
}

/**
 * The supervisor: `bash -c SUPERVISOR driftflow-supervisor GRACE_S EXIT_FILE CMD ARGS…`. It starts the
 * command in a new session, reports its process group on stderr (one marker line), and ends the
 * group when its stdin reaches end-of-file or the command's main process ends. It ignores SIGPIPE
 * (the command does not): when the runner is already gone as it starts, reporting the group must
 * not kill it before its watcher runs.
 */
export const SUPERVISOR = `
trap '' PIPE
exec 3<&0
grace="$1"; exitfile="$2"; shift 2
if ! type -P "$1" >/dev/null; then echo "${MISSING_MARKER}$1" >&2; exit 127; fi
exec 4>&2
(trap - PIPE; exec setsid "$@" </dev/null 2>&4 3<&- 4>&-) &
child=$!
echo "${PGID_MARKER}$child" >&4
exec 2>/dev/null 4>&-
{
  while read -r -u 3 _; do :; done
  kill -TERM -- "-$child" 2>/dev/null
  sleep "$grace"
  kill -KILL -- "-$child" 2>/dev/null
} </dev/null >/dev/null 2>&1 &
watcher=$!
exec 3<&-
wait "$child"
status=$?
if [ -n "$exitfile" ]; then echo "$status" > "$exitfile.tmp" && mv "$exitfile.tmp" "$exitfile"; fi
kill "$watcher" 2>/dev/null
kill -TERM -- "-$child" 2>/dev/null
exit "$status"
`;

async function pump(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of stream) {
    rest += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      onLine(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
    }
  }
  rest += decoder.decode();
  if (rest.length > 0) onLine(rest);
}

/** Runs `argv`; resolves with the exit code and last stdout line, or throws when it fails. */
export async function runCommand(
  argv: readonly string[],
  opts: CommandOptions,
): Promise<CommandResult> {
  if (argv.length === 0) {
    throw new Error('the command is empty: give an argv such as ["bash", "-c", "echo hi"]');
  }
  if (opts.signal.aborted) throw opts.signal.reason;
  let child: Deno.ChildProcess;
  const graceS = ((opts.killGraceMs ?? 5000) / 1000).toFixed(3);
  try {
    child = new Deno.Command("bash", {
      args: ["-c", SUPERVISOR, "driftflow-supervisor", graceS, opts.exitFile ?? "", ...argv],
      env: opts.env,
      cwd: opts.cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (e) {
    throw new Error(`cannot start command ${JSON.stringify(argv)}: ${(e as Error).message}`);
  }
  // Nothing is ever written: the pipe's end-of-file is the supervisor's signal to end the command.
  const stdin = child.stdin.getWriter();
  let closed = false;
  const closeStdin = () => {
    if (closed) return;
    closed = true;
    stdin.close().catch(() => {});
  };
  const onAbort = () => closeStdin();
  opts.signal.addEventListener("abort", onAbort, { once: true });
  let pgid = 0;
  let missing = false;
  let lastLine = "";
  try {
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout, (line) => {
        if (line.trim() !== "") lastLine = line;
        opts.log("stdout", line);
      }),
      pump(child.stderr, (line) => {
        if (pgid === 0 && line.startsWith(MISSING_MARKER)) {
          missing = true;
          return;
        }
        if (pgid === 0 && line.startsWith(PGID_MARKER)) {
          pgid = Number(line.slice(PGID_MARKER.length));
          opts.onStart?.(pgid);
          return;
        }
        opts.log("stderr", line);
      }),
    ]);
    if (opts.signal.aborted) throw opts.signal.reason;
    if (!status.success) {
      if (missing) {
        throw new Error(
          `cannot start command ${JSON.stringify(argv)}: "${argv[0]}" is not an executable ` +
            "program on PATH or at that path",
        );
      }
      throw new Error(
        status.signal
          ? `command was killed by ${status.signal}`
          : status.code > 128
          ? `command was killed by signal ${status.code - 128}`
          : `command exited with code ${status.code}`,
      );
    }
    return { exitCode: status.code, lastLine };
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
    closeStdin();
  }
}
