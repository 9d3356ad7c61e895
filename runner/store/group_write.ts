/**
 * Group commit for the writes every try makes (its start and its end): the first call goes out at
 * once, alone; calls made while writes are on their way queue and go out together, as one
 * multi-row statement, when one finishes. No call waits for a timer, and each call resolves only
 * once its own row is committed, so durability is that of a single statement. A batch the
 * database refuses is sent again row by row, so one refused row (a value it cannot store, a
 * deadlock, a lost connection) fails only its own call, with its own error.
 *
 * Hand-written: the queueing is a few lines and no kept library does group commit over an
 * arbitrary SQL client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GroupWriter } from "./group_write.ts";
 * const statements: number[][] = [];
 * const w = new GroupWriter<number, number>({
 *   one: (x) => (statements.push([x]), Promise.resolve(x * 2)),
 *   many: (xs) => (statements.push(xs), Promise.resolve(xs.map((x) => x * 2))),
 *   key: String,
 *   maxInFlight: 1,
 * });
 * assert.deepEqual(await Promise.all([w.write(1), w.write(2), w.write(3)]), [2, 4, 6]);
 * assert.deepEqual(statements, [[1], [2, 3]]); // 1 alone, then 2 and 3 together
 * ```
 */

/** How a {@link GroupWriter} writes. */
export interface GroupWriterOptions<I, O> {
  /** Writes one item (a batch of one, and each item of a refused batch). */
  one: (item: I) => Promise<O>;
  /** Writes several items in one statement; returns their results in order. */
  many: (items: I[]) => Promise<O[]>;
  /** Items with the same key never share a batch (one statement must not touch a row twice). */
  key: (item: I) => string;
  /** How many writes may be on their way at once (PGlite: 1; a server: a few connections). */
  maxInFlight: number;
  /** The most items in one statement (default 500). */
  maxBatch?: number;
  /**
   * Writes made in one synchronous run go out together: the first waits for the end of that run
   * (a microtask, no timer) instead of going alone. For writes a caller makes in a loop (a
   * worker's starts of the tries of one claim) or that come at once (the ends of tries started
   * together).
   */
  gather?: boolean;
}

interface Pending<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (e: unknown) => void;
}

export class GroupWriter<I, O> {
  #queue: Pending<I, O>[] = [];
  #inFlight = 0;
  #gathering = false;

  constructor(readonly options: GroupWriterOptions<I, O>) {}

  /** Writes `item`, alone or with others queued meanwhile; resolves once it is committed. */
  write(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.options.gather) this.#pump();
      else if (!this.#gathering) {
        this.#gathering = true;
        queueMicrotask(() => {
          this.#gathering = false;
          this.#pump();
        });
      }
    });
  }

  #pump(): void {
    const o = this.options;
    while (this.#inFlight < o.maxInFlight && this.#queue.length > 0) {
      const batch: Pending<I, O>[] = [];
      const rest: Pending<I, O>[] = [];
      const keys = new Set<string>();
      for (const p of this.#queue) {
        const k = o.key(p.item);
        if (batch.length < (o.maxBatch ?? 500) && !keys.has(k)) {
          keys.add(k);
          batch.push(p);
        } else rest.push(p);
      }
      this.#queue = rest;
      this.#inFlight++;
      this.#send(batch).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #send(batch: Pending<I, O>[]): Promise<void> {
    if (batch.length > 1) {
      let out: O[] | null = null;
      try {
        out = await this.options.many(batch.map((p) => p.item));
      } catch {
        // Refused as a whole (nothing of it was written): each row again on its own, below.
      }
      if (out) {
        batch.forEach((p, i) => p.resolve(out[i]));
        return;
      }
    }
    for (const p of batch) {
      try {
        p.resolve(await this.options.one(p.item));
      } catch (e) {
        p.reject(e);
      }
    }
  }
}
