/**
 * Why a try was aborted, as types the try runner tells apart with `instanceof`: its task's timeout
 * ran out, or its worker is shutting down and releases it to another worker (no retry used).
 * Their names stay "TimeoutError" and "ReleaseError": an isolate rebuilds the abort reason its
 * task sees from the name (see isolate_entry.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TryReleased, TryTimeout } from "./try_errors.ts";
 * const controller = new AbortController();
 * controller.abort(new TryTimeout("5m"));
 * assert.ok(controller.signal.reason instanceof TryTimeout);
 * assert.ok(!(new TryReleased() instanceof TryTimeout));
 * ```
 */

/** A try ran longer than its task's `timeout`. */
export class TryTimeout extends Error {
  override name = "TimeoutError";
  /** `timeout`: the task's setting, as written ("5m", or milliseconds). */
  constructor(timeout: string | number) {
    super(`timed out after ${timeout}`);
  }
}

/** A worker shutting down released the try back to the queue: it does not use a retry. */
export class TryReleased extends Error {
  override name = "ReleaseError";
  constructor() {
    super("the worker is shutting down: the try is released to another worker");
  }
}
