/**
 * Text PostgreSQL cannot store: a NUL character (text and jsonb refuse U+0000) or a lone UTF-16
 * surrogate (not valid Unicode, so not valid UTF-8). Checked where input arrives, so such a value
 * gets a 422 naming its field instead of failing the statement that would store it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textProblem } from "./storable_text.ts";
 * assert.equal(textProblem("SEA"), undefined);
 * assert.match(textProblem("S\u0000EA")!, /NUL character \(U\+0000\) at position 1/);
 * assert.match(textProblem("S\uD800EA")!, /lone UTF-16 surrogate/);
 * ```
 */

/**
 * Why PostgreSQL could not store this text (a NUL character, or half of a UTF-16 surrogate pair
 * that is not valid Unicode), or undefined when it can.
 */
export function textProblem(s: string): string | undefined {
  const nul = s.indexOf("\u0000");
  if (nul >= 0) {
    return `contains a NUL character (U+0000) at position ${nul}, which cannot be stored; remove it`;
  }
  if (!s.isWellFormed()) {
    return "contains a lone UTF-16 surrogate (not valid Unicode), which cannot be stored; send valid UTF-8 text";
  }
  return undefined;
}
