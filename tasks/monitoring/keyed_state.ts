/**
 * State a DAG keeps between its runs (its `save_state` XCom, read back with `priorXcom`) for
 * several things at once — streams by name, feedback files by path and model — so that runs for
 * one do not go on from another's. A bare state an older run left is read as the key's own, as
 * those runs did, and replaced by the keyed form on the next save.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyedState, withKeyedState } from "./keyed_state.ts";
 * const saved = withKeyedState(withKeyedState(undefined, "flights", { index: 3 }), "mail", { index: 0 });
 * assert.deepEqual(keyedState(saved, "flights"), { index: 3 });
 * assert.equal(keyedState(saved, "other"), undefined); // a new key starts afresh
 * assert.deepEqual(keyedState({ index: 7 }, "flights"), { index: 7 }); // an older run's bare state
 * ```
 */

/** The saved states by key. */
export interface KeyedStates<T> {
  byKey: Record<string, T>;
}

function isKeyed<T>(saved: KeyedStates<T> | T): saved is KeyedStates<T> {
  return typeof saved === "object" && saved !== null && "byKey" in saved;
}

/** The state `key` left (undefined: none yet); a bare state from an older run is taken as its. */
export function keyedState<T>(saved: KeyedStates<T> | T | undefined, key: string): T | undefined {
  if (saved === undefined || saved === null) return undefined;
  return isKeyed(saved) ? saved.byKey[key] : saved;
}

/** What to save: `key`'s new state beside every other key's (a bare older state is dropped). */
export function withKeyedState<T>(
  previous: KeyedStates<T> | T | undefined,
  key: string,
  state: T,
): KeyedStates<T> {
  const byKey = previous !== undefined && previous !== null && isKeyed(previous)
    ? { ...previous.byKey }
    : {};
  byKey[key] = state;
  return { byKey };
}
