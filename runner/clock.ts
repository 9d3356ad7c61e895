/**
 * Time as the engine sees it. The executor never calls `Date.now()` or `setTimeout` directly, so
 * tests can swap in {@link FakeClock} and check retries, backoff and timeouts without waiting.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeClock } from "./clock.ts";
 * const clock = new FakeClock(Date.parse("2026-01-01T00:00:00Z"));
 * await clock.sleep(30_000); // returns at once
 * assert.equal(new Date(clock.now()).toISOString(), "2026-01-01T00:00:30.000Z");
 * assert.deepEqual(clock.sleeps, [30_000]);
 * ```
 */

/** A source of time and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Calls `fn` after `ms`; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const id = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(id);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
  setTimer(ms, fn) {
    const id = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(id);
  },
};

/**
 * Virtual time for tests: `sleep` moves time forward at once (firing any timer that falls due on
 * the way) instead of waiting, and `advance` moves it explicitly, e.g. to fire a task's timeout.
 */
export class FakeClock implements Clock {
  #now: number;
  #timers: { at: number; fn: () => void }[] = [];
  /** Every sleep requested, in milliseconds, in order: what tests assert backoff against. */
  readonly sleeps: number[] = [];

  constructor(start = Date.parse("2026-01-01T00:00:00Z")) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.sleeps.push(ms);
    await Promise.resolve();
    this.advance(ms);
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, ms), fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.#now + Math.max(0, ms);
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now = next.at;
      next.fn();
    }
    this.#now = target;
  }
}
