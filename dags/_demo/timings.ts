/**
 * Where `deno task demo`'s time went: the wall-clock time of each phase (startup, data, the first
 * champion, each batch's run, the report files) and, from the executor's events, the time each
 * DAG's tasks spent running summed over the runs (a mapped task's instances run side by side, so a
 * task's sum can exceed the wall time of its runs). Printed as a short table after the results.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Timings } from "./timings.ts";
 * let now = 0;
 * const timings = new Timings(() => now);
 * await timings.phase("startup", () => {
 *   now += 1500;
 *   return Promise.resolve();
 * });
 * timings.onEvent({ kind: "run", runId: 1, dagId: "training", state: "running" });
 * timings.onEvent({
 *   kind: "task", runId: 1, taskId: "load", mapIndex: -1, state: "success", tryNumber: 1, durationMs: 700,
 * });
 * const text = timings.render();
 * assert.match(text, /startup\s+1\.50/);
 * assert.match(text, /training\.load\s+1\s+0\.70/);
 * ```
 */
import { renderTable } from "../../runner/cli/common.ts";
import type { ExecutorEvent } from "../../runner/executor.ts";

/** Phase wall times and per-task run times of one demo. */
export class Timings {
  readonly #now: () => number;
  readonly #start: number;
  readonly #phases: { name: string; ms: number }[] = [];
  readonly #dagOfRun = new Map<number, string>();
  readonly #tasks = new Map<string, { tries: number; ms: number }>();

  /** `start`: when the total begins (default now; 0 with performance.now: the process's start). */
  constructor(now: () => number = () => performance.now(), start = now()) {
    this.#now = now;
    this.#start = start;
  }

  /** Records a phase measured elsewhere. */
  record(name: string, ms: number): void {
    this.#phases.push({ name, ms });
  }

  /** Runs `fn` and records its wall time under `name`. */
  async phase<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = this.#now();
    try {
      return await fn();
    } finally {
      this.record(name, this.#now() - t0);
    }
  }

  /** Takes the executor's events: each finished try's run time, by DAG and task. */
  onEvent(e: ExecutorEvent): void {
    if (e.kind === "run") {
      this.#dagOfRun.set(e.runId, e.dagId);
      return;
    }
    if (e.durationMs === undefined) return;
    const key = `${this.#dagOfRun.get(e.runId) ?? "?"}.${e.taskId}`;
    const t = this.#tasks.get(key) ?? { tries: 0, ms: 0 };
    t.tries++;
    t.ms += e.durationMs;
    this.#tasks.set(key, t);
  }

  /** The phases (with the total) and the tasks that took at least `minMs` in all, slowest first. */
  render(minMs = 100): string {
    const s = (ms: number) => (ms / 1000).toFixed(2);
    const total = this.#now() - this.#start;
    const phases = [
      ["phase", "wall s", "share"],
      ...this.#phases.map((p) => [p.name, s(p.ms), `${(100 * p.ms / total).toFixed(0)}%`]),
      ["total", s(total), "100%"],
    ];
    const tasks = [...this.#tasks].filter(([, t]) => t.ms >= minMs).sort((a, b) =>
      b[1].ms - a[1].ms
    );
    return [
      renderTable(phases),
      "",
      renderTable([
        ["task (summed over runs)", "tries", "run s"],
        ...tasks.map(([k, t]) => [k, String(t.tries), s(t.ms)]),
      ]),
    ].join("\n");
  }
}
