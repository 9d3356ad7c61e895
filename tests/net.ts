/**
 * Loopback helpers for tests that start servers: a free port, and waiting until a server answers.
 */

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Polls `url` until `ready(response)` holds; throws after `timeoutMs`. */
export async function waitForHttp(
  url: string,
  ready: (res: Response) => boolean | Promise<boolean> = (res) => res.ok,
  timeoutMs = 20_000,
  headers: HeadersInit = {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if (await ready(await fetch(url, { headers }))) return;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
