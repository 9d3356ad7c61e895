/**
 * Request input the database cannot take, refused at the door instead of failing as a 500 (or, for
 * the prediction log, failing a whole group commit): integers beyond PostgreSQL's `int`/`bigint`
 * (ids over 2³¹, `page=1e308`) and text PostgreSQL cannot store (a NUL character, a lone UTF-16
 * surrogate) anywhere in a JSON body.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Hono } from "hono";
 * import { ID, pageNumber, storableJson, storableUrl } from "./input_guard.ts";
 * assert.equal(ID.safeParse("3000000000").success, false); // over 2³¹ − 1
 * assert.equal(pageNumber("1e308"), null); // answer 400
 * assert.equal(pageNumber("2"), 2);
 * const app = new Hono();
 * app.use(storableUrl());
 * app.use("/api/v1/*", storableJson());
 * app.get("/dags/:id", (c) => c.text(c.req.param("id")));
 * app.post("/api/v1/runs", (c) => c.text("stored"));
 * assert.equal((await app.request("/dags/a%00b")).status, 400);
 * const body = JSON.stringify({ conf: { note: "a\u0000b" } });
 * const headers = { "content-type": "application/json" };
 * const res = await app.request("/api/v1/runs", { method: "POST", headers, body });
 * assert.equal(res.status, 422);
 * assert.equal((await res.json()).fields[0].field, "conf.note");
 * ```
 */
import type { MiddlewareHandler } from "hono";
import { z } from "@hono/zod-openapi";
import { textProblem } from "../../models/serving/storable_text.ts";

/** The largest PostgreSQL `int` (run ids, batch ids, try numbers). */
export const INT4_MAX = 2_147_483_647;
/** The last page a paginated page or API serves (25 rows a page: 25 million rows deep). */
export const MAX_PAGE = 1_000_000;

/** A positive `int` id from a path or query string. */
export const ID = z.coerce.number().int().positive().max(INT4_MAX, {
  message: `an id is a whole number from 1 to ${INT4_MAX}`,
});

/** An offset into a list (bounded so offset + limit stays a `bigint`). */
export const OFFSET = z.coerce.number().int().min(0).max(MAX_PAGE * 500, {
  message: `an offset is a whole number from 0 to ${MAX_PAGE * 500}`,
});

/** A positive `int` from a path segment such as "42"; null for anything else ("1e3", "2147483648"). */
export function intId(raw: string | undefined): number | null {
  if (raw === undefined || !/^[0-9]{1,10}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1 && n <= INT4_MAX ? n : null;
}

/** A page number 0…MAX_PAGE from a query string (absent → 0); null when it is not one. */
export function pageNumber(raw: string | undefined): number | null {
  if (raw === undefined || raw === "") return 0;
  if (!/^[0-9]{1,7}$/.test(raw)) return null;
  const n = Number(raw);
  return n <= MAX_PAGE ? n : null;
}

/** The path and problem of the first unstorable string (keys included) in a JSON value. */
export function unstorableText(
  value: unknown,
  path: string[] = [],
): { field: string; message: string } | undefined {
  const at = (p: string[]) => p.join(".") || "(body)";
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem ? { field: at(path), message: problem } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = unstorableText(value[i], [...path, String(i)]);
      if (hit) return hit;
    }
    return undefined;
  }
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const problem = textProblem(k);
      if (problem) {
        return { field: at([...path, JSON.stringify(k).slice(1, -1)]), message: `key ${problem}` };
      }
      const hit = unstorableText(v, [...path, k]);
      if (hit) return hit;
    }
  }
  return undefined;
}

/**
 * Refuses (422, one message naming the field) a JSON body with text PostgreSQL cannot store. The
 * body is parsed once; the route's validator reads the same parsed body.
 */
export function storableJson(): MiddlewareHandler {
  return async (c, next) => {
    const type = c.req.header("content-type") ?? "";
    if (c.req.method === "GET" || c.req.method === "HEAD" || !type.includes("application/json")) {
      return await next();
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return await next(); // malformed JSON: the route's validator answers it
    }
    const hit = unstorableText(body);
    if (hit) return c.json({ error: "invalid request", fields: [hit] }, 422);
    return await next();
  };
}

/**
 * Refuses (400) a request whose path or query, once decoded, has text PostgreSQL cannot store
 * (`/dags/a%00b`, `?stream=%00`): such a value could only end as a failed statement.
 */
export function storableUrl(): MiddlewareHandler {
  return async (c, next) => {
    // a URL carries a NUL or a surrogate only percent-encoded: without "%" there is nothing to check
    if (!c.req.url.includes("%")) return await next();
    const url = new URL(c.req.url);
    const parts: [string, string][] = url.pathname.split("/").map((p) => ["path", p]);
    for (const [k, v] of url.searchParams) parts.push([`query ${k}`, k], [`query ${k}`, v]);
    for (const [where, raw] of parts) {
      let text = raw;
      if (where === "path") {
        try {
          text = decodeURIComponent(raw);
        } catch {
          return c.text(`${where}: "${raw}" is not valid percent-encoded UTF-8`, 400);
        }
      }
      const problem = textProblem(text);
      if (problem) return c.text(`${where} ${problem}`, 400);
    }
    return await next();
  };
}
