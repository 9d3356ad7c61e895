/**
 * A try's log buffer: lines from `ctx.log` and from a command's stdout/stderr, written to the store
 * in batches — every second while the try runs and once at its end.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeClock } from "./clock.ts";
 * import type { LogLine } from "./store/types.ts";
 * import { TaskLog } from "./task_log.ts";
 * const written: LogLine[] = []; // a store's `appendLogs(key, tryNumber, lines)` in real use
 * const sink = (lines: LogLine[]) => Promise.resolve(void written.push(...lines));
 * const log = new TaskLog(sink, new FakeClock());
 * log.write("log", "hello\nworld");
 * await log.close(); // writes what is buffered
 * assert.deepEqual(written.map((l) => l.line), ["hello", "world"]);
 * ```
 */
import type { Clock } from "./clock.ts";
import type { LogLine } from "./store/types.ts";

/** Formats `ctx.log` arguments as one line: strings as they are, anything else inspected. */
export function formatLogArgs(args: readonly unknown[]): string {
  return args.map((a) => (typeof a === "string" ? a : Deno.inspect(a, { depth: 4, colors: false })))
    .join(" ");
}

export class TaskLog {
  #lines: LogLine[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: (lines: LogLine[]) => Promise<void>,
    private readonly clock: Clock,
    flushEveryMs = 1000,
  ) {
    this.#timer = setInterval(() => void this.flush(), flushEveryMs);
  }

  /** Adds one line (a multi-line text becomes several lines). */
  write(stream: LogLine["stream"], text: string): void {
    const ts = new Date(this.clock.now());
    for (const line of text.split("\n")) this.#lines.push({ ts, stream, line });
  }

  /** Writes what is buffered. */
  flush(): Promise<void> {
    const lines = this.#lines;
    if (lines.length === 0) return this.#flushing;
    this.#lines = [];
    this.#flushing = this.#flushing.then(() => this.sink(lines)).catch((e) => {
      console.error(
        `driftflow: could not write ${lines.length} log lines: ${(e as Error).message}`,
      );
    });
    return this.#flushing;
  }

  /** Stops the periodic flush and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
