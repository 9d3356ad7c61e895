/**
 * Guards for the web app: a bearer token (`DRIFTFLOW_TOKEN`) or a session cookie made from it on
 * every mutating request (a browser's form sent without one is kept through signing in), CSRF
 * protection on forms (the Origin must be this site), secure headers, and a body size limit.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { requireAuth, safeEqual } from "./security.ts";
 *
 * const app = new Hono();
 * app.use("/api/v1/*", requireAuth("s3cret")); // a change needs the token or the session cookie
 * safeEqual("s3cret", "guess"); // false, in time that does not depend on where they differ
 * ```
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";

/** The session cookie's name. */
export const SESSION_COOKIE = "driftflow_session";

async function hmac(key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const sig = await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(message));
  return Array.from(new Uint8Array(sig), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The session cookie value for `token` (an HMAC: the token itself never goes into the cookie). */
export function sessionValue(token: string): Promise<string> {
  return hmac(token, "driftflow-session-v1");
}

/** Compares two strings in time independent of where they differ. */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * `next` when it is a path on this site, else "/": resolved the way a browser would resolve it
 * (a backslash is a slash, tabs and newlines are dropped), so `//evil.example`, `/\evil.example`,
 * `/\t/evil.example` and `https://evil.example` cannot send a signed-in user elsewhere.
 */
export function sameSitePath(next: string | undefined): string {
  if (!next || !next.startsWith("/")) return "/";
  const base = "http://driftflow.invalid";
  let url: URL;
  try {
    url = new URL(next, base);
  } catch {
    return "/";
  }
  if (url.origin !== base) return "/";
  const path = url.pathname + url.search + url.hash;
  // the result must itself read as a path on this site when sent back in a Location header
  return path.startsWith("/") && !path.startsWith("//") && !path.startsWith("/\\") ? path : "/";
}

/** True when the request carries the bearer token or a valid session cookie. */
export async function isAuthorized(c: Context, token: string): Promise<boolean> {
  const header = c.req.header("authorization");
  if (header?.startsWith("Bearer ") && safeEqual(header.slice(7), token)) return true;
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie !== undefined && safeEqual(cookie, await sessionValue(token));
}

/** A submitted form field kept through signing in: its name and text. */
export type KeptField = readonly [name: string, value: string];

/** At most this many fields of a form are kept through signing in. */
const MAX_KEPT_FIELDS = 200;

const KeptFields = z.array(z.tuple([z.string(), z.string()])).max(MAX_KEPT_FIELDS);

/**
 * The kept fields the sign-in page carries (a JSON list of `[name, value]` pairs) back as pairs;
 * anything else (absent, not JSON, not pairs, too many) keeps nothing.
 */
export function keptFromJson(carried: unknown): KeptField[] {
  if (typeof carried !== "string") return [];
  try {
    return KeptFields.safeParse(JSON.parse(carried)).data ?? [];
  } catch {
    return [];
  }
}

/** The text fields of a submitted form, in order (a file is not kept). */
export async function keptFields(c: Context): Promise<KeptField[]> {
  const body = await c.req.parseBody({ all: true });
  const out: KeptField[] = [];
  for (const [name, value] of Object.entries(body)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === "string" && out.length < MAX_KEPT_FIELDS) out.push([name, v]);
    }
  }
  return out;
}

/** What to answer a form sent by a browser without a session: a sign-in page that keeps it. */
export type SignInForForm = (
  c: Context,
  next: string,
  fields: KeptField[],
) => Response | Promise<Response>;

/**
 * Refuses mutating requests (anything but GET/HEAD/OPTIONS) that are not authorized. A browser
 * (Accept: text/html) is sent to sign in; a form it submitted is answered by `signInForForm` when
 * given, so signing in does not lose what was typed.
 */
export function requireAuth(token: string, signInForForm?: SignInForForm): MiddlewareHandler {
  return async (c, next) => {
    if (["GET", "HEAD", "OPTIONS"].includes(c.req.method)) return await next();
    if (await isAuthorized(c, token)) return await next();
    const wantsHtml = (c.req.header("accept") ?? "").includes("text/html");
    const type = c.req.header("content-type") ?? "";
    const isForm = type.startsWith("application/x-www-form-urlencoded") ||
      type.startsWith("multipart/form-data");
    const path = sameSitePath(new URL(c.req.url).pathname);
    if (wantsHtml && isForm && signInForForm && c.req.method === "POST") {
      return await signInForForm(c, path, await keptFields(c));
    }
    if (wantsHtml) return c.redirect(`/login?next=${encodeURIComponent(path)}`, 303);
    return c.json({ error: "unauthorized: send Authorization: Bearer <DRIFTFLOW_TOKEN>" }, 401);
  };
}
