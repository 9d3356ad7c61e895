/**
 * Runs a command task (Airflow's BashOperator): argv, env and cwd; stdout and stderr go line by line
 * to the try's log; the exit code decides the state. On abort (timeout or shutdown) the command's
 * whole process group gets SIGTERM, then SIGKILL after a grace period.
 *
 * @example
 * ```ts
 * import { runCommand } from "./command_task.ts";
 * const r = await runCommand(["bash", "-c", "echo hi"], { signal, log: (s, l) => console.log(s, l) });
 * r.exitCode; // 0
 * ```
 */
import type { CommandResult } from "./dag.ts";

/** How to run a command. */
export interface CommandOptions {
  env?: Record<string, string>;
  cwd?: string;
  signal: AbortSignal;
  log: (stream: "stdout" | "stderr", line: string) => void;
  /** Milliseconds between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

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
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env: opts.env,
      cwd: opts.cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (e) {
    throw new Error(`cannot start command ${JSON.stringify(argv)}: ${(e as Error).message}`);
  }
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    const kill = (sig: Deno.Signal) => {
      try {
        Deno.kill(-child.pid, sig);
      } catch { /* already gone */ }
    };
    kill("SIGTERM");
    killTimer = setTimeout(() => kill("SIGKILL"), opts.killGraceMs ?? 5000);
  };
  opts.signal.addEventListener("abort", onAbort, { once: true });
  let lastLine = "";
  try {
    const [status] = await Promise.all([
      child.status,
      pump(child.stdout, (line) => {
        if (line.trim() !== "") lastLine = line;
        opts.log("stdout", line);
      }),
      pump(child.stderr, (line) => opts.log("stderr", line)),
    ]);
    if (opts.signal.aborted) throw opts.signal.reason;
    if (!status.success) {
      throw new Error(
        status.signal
          ? `command was killed by ${status.signal}`
          : `command exited with code ${status.code}`,
      );
    }
    return { exitCode: status.code, lastLine };
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
    clearTimeout(killTimer);
  }
}
