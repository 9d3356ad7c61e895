// Which database errors are worth retrying, and how untilWritten retries them.
import assert from "node:assert/strict";
import postgres from "postgres";
import { isTransient, untilWritten } from "../../runner/store/transient.ts";
import { freePort } from "../net.ts";
import { TEST_PG } from "./helpers.ts";

Deno.test("transient: a refused connection is transient, a bad statement is not", async () => {
  const down = postgres(`postgres://postgres@127.0.0.1:${freePort()}/x`, {
    max: 1,
    onnotice: () => {},
  });
  const refused = await down`select 1`.catch((e) => e);
  await down.end();
  assert.ok(isTransient(refused), String(refused));
  const up = postgres("postgres://postgres@127.0.0.1:5432/postgres", {
    max: 1,
    onnotice: () => {},
  });
  const bad = await up`select nonsense_column from pg_class`.catch((e) => e);
  const nul = await up.unsafe("select $1::jsonb", ['"a\\u0000b"']).catch((e) => e);
  await up.end();
  assert.equal(isTransient(bad), false, String(bad));
  assert.equal(isTransient(nul), false, String(nul));
  assert.equal(isTransient(new Error("boom")), false);
  assert.equal(isTransient("text"), false);
});

Deno.test("transient: untilWritten retries transient errors, logs each, holds once", async () => {
  let calls = 0, held = 0;
  const lines: string[] = [];
  const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
    code: "ECONNREFUSED",
  });
  const v = await untilWritten("the outcome of t", () => {
    calls++;
    return calls < 3 ? Promise.reject(refused) : Promise.resolve(42);
  }, {
    log: (l) => lines.push(l),
    onHold: () => Promise.resolve(void held++),
    firstDelayMs: 1,
  });
  assert.equal(v, 42);
  assert.equal(calls, 3);
  assert.equal(held, 1);
  assert.equal(lines.filter((l) => l.includes("holding the outcome of t")).length, 2);
  assert.match(lines.at(-1)!, /database back: wrote the outcome of t after 3 attempts/);
  // A real error is thrown at once; giving up throws the last transient error.
  await assert.rejects(
    untilWritten("x", () => Promise.reject(new Error("bad")), { log: () => {} }),
    /bad/,
  );
  const stop = new AbortController();
  stop.abort();
  await assert.rejects(
    untilWritten("x", () => Promise.reject(refused), { log: () => {}, giveUp: stop.signal }),
    /ECONNREFUSED/,
  );
});
