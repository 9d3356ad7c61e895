/**
 * The live view of a run on stderr: on a terminal, a table of task states redrawn in place; in a
 * log or pipe, one line per state change.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../artifacts/local.ts";
 * import { dag } from "../dag.ts";
 * import { Executor } from "../executor.ts";
 * import { createDagRun } from "../runs.ts";
 * import { openStore } from "../store/open.ts";
 * import { LiveView } from "./live.ts";
 * const etl = dag({ id: "etl" })
 *   .task("extract", { run: () => 1 })
 *   .task("load", { deps: ["extract"], run: () => 2 });
 * const store = await openStore({ memory: true });
 * const dir = await Deno.makeTempDir();
 * try {
 *   const view = new LiveView(["extract", "load"], false); // not a terminal: a line per change
 *   const artifacts = new LocalArtifactStore(dir);
 *   const executor = new Executor({ store, artifacts, onEvent: (e) => view.update(e) });
 *   const result = await executor.runToEnd(etl, (await createDagRun(store, etl)).id);
 *   view.finish(); // stderr had one line per state change of extract and of load
 *   assert.equal(result.state, "success");
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
import { formatDuration } from "../duration.ts";
import type { ExecutorEvent } from "../executor.ts";

const ICON: Record<string, string> = {
  none: "·",
  scheduled: "○",
  queued: "○",
  running: "▶",
  success: "✔",
  failed: "✘",
  skipped: "↷",
  upstream_failed: "⊘",
  up_for_retry: "↻",
  up_for_reschedule: "⏲",
};
const COLOUR: Record<string, string> = {
  running: "\x1b[36m",
  success: "\x1b[32m",
  failed: "\x1b[31m",
  upstream_failed: "\x1b[33m",
  up_for_retry: "\x1b[33m",
  up_for_reschedule: "\x1b[36m",
  skipped: "\x1b[90m",
};

interface Row {
  state: string;
  tries: number;
  durationMs?: number;
  mapped: Map<number, string>;
}

export class LiveView {
  readonly #rows = new Map<string, Row>();
  readonly #tty: boolean;
  readonly #encoder = new TextEncoder();
  #drawn = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #rootRun: { id: number | null } = { id: null };

  constructor(taskIds: readonly string[], tty = Deno.stderr.isTerminal()) {
    for (const id of taskIds) this.#rows.set(id, { state: "none", tries: 0, mapped: new Map() });
    this.#tty = tty;
  }

  /** Takes one executor event. */
  update(e: ExecutorEvent): void {
    if (e.kind === "run") {
      this.#rootRun.id ??= e.runId;
      if (e.runId !== this.#rootRun.id) this.#print(`run ${e.runId} of dag ${e.dagId}: ${e.state}`);
      return;
    }
    if (this.#rootRun.id !== null && e.runId !== this.#rootRun.id) return;
    const row = this.#rows.get(e.taskId);
    if (!row) return;
    const state = e.state ?? "none";
    if (e.mapIndex >= 0) row.mapped.set(e.mapIndex, state);
    else {
      row.state = state;
      row.tries = Math.max(row.tries, e.tryNumber);
      if (e.durationMs !== undefined) row.durationMs = e.durationMs;
    }
    if (this.#tty) this.#schedule();
    else if (state !== "scheduled") {
      const where = e.mapIndex >= 0 ? `${e.taskId}[${e.mapIndex}]` : e.taskId;
      const extra = [
        e.tryNumber > 0 ? `try ${e.tryNumber}` : "",
        e.durationMs !== undefined ? formatDuration(e.durationMs) : "",
      ].filter(Boolean).join(", ");
      const err = e.error ? `: ${e.error.split("\n")[0]}` : "";
      this.#print(
        `${new Date().toISOString().slice(11, 19)} ${ICON[state] ?? "?"} ${where} ${state}${
          extra ? ` (${extra})` : ""
        }${err}`,
      );
    }
  }

  /** Draws the final state (on a terminal). */
  finish(): void {
    clearTimeout(this.#timer);
    if (this.#tty) this.#draw();
  }

  #print(line: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(line + "\n"));
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
    }, 50);
  }

  #draw(): void {
    const lines: string[] = [];
    const width = Math.max(...[...this.#rows.keys()].map((k) => k.length), 4);
    for (const [id, row] of this.#rows) {
      const c = COLOUR[row.state] ?? "";
      let mapped = "";
      if (row.mapped.size > 0) {
        const done = [...row.mapped.values()].filter((s) => s === "success").length;
        mapped = ` [${done}/${row.mapped.size} mapped]`;
      }
      const dur = row.durationMs !== undefined ? ` ${formatDuration(row.durationMs)}` : "";
      const tries = row.tries > 1 ? ` try ${row.tries}` : "";
      lines.push(
        `${c}${ICON[row.state] ?? "?"} ${
          id.padEnd(width)
        } ${row.state}${tries}${dur}${mapped}\x1b[0m`,
      );
    }
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    Deno.stderr.writeSync(
      this.#encoder.encode(up + lines.map((l) => `\x1b[2K${l}`).join("\n") + "\n"),
    );
    this.#drawn = lines.length;
  }
}
