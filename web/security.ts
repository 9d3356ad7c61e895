/**
 * Guards for the web app: a bearer token (`DRIFTFLOW_TOKEN`) or a session cookie made from it on
 * every mutating request, CSRF protection on forms (the Origin must be this site), secure headers,
 * and a body size limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { requireAuth, SESSION_COOKIE, sessionValue } from "./security.ts";
 * const token = "s3cret";
 * const app = new Hono();
 * app.use("/api/v1/*", requireAuth(token));
 * app.post("/api/v1/runs", (c) => c.json({ ok: true }));
 * const post = (headers: Record<string, string>) =>
 *   app.request("/api/v1/runs", { method: "POST", headers });
 * assert.equal((await post({})).status, 401);
 * assert.equal((await post({ authorization: `Bearer ${token}` })).status, 200);
 * const cookie = `${SESSION_COOKIE}=${await sessionValue(token)}`; // what the login form sets
 * assert.equal((await post({ cookie })).status, 200);
 * ```
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";

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

/** Refuses mutating requests (anything but GET/HEAD/OPTIONS) that are not authorized. */
export function requireAuth(token: string): MiddlewareHandler {
  return async (c, next) => {
    if (["GET", "HEAD", "OPTIONS"].includes(c.req.method)) return await next();
    if (await isAuthorized(c, token)) return await next();
    const wantsHtml = (c.req.header("accept") ?? "").includes("text/html");
    if (wantsHtml) {
      return c.redirect(`/login?next=${encodeURIComponent(new URL(c.req.url).pathname)}`, 303);
    }
    return c.json({ error: "unauthorized: send Authorization: Bearer <DRIFTFLOW_TOKEN>" }, 401);
  };
}
