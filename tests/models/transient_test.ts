// retryRead repeats a read only for "database not reachable right now" errors, and boundedly.
import assert from "node:assert/strict";
import { isUnavailable, retryRead } from "../../models/serving/transient.ts";

const err = (code: string) => Object.assign(new Error(code), { code });

Deno.test("isUnavailable: connection errors yes, statement errors no", () => {
  for (const code of ["57P01", "57P03", "08006", "ECONNREFUSED", "CONNECTION_CLOSED"]) {
    assert.ok(isUnavailable(err(code)), code);
  }
  for (const code of ["22P05", "23505", "42P01", "40001"]) {
    assert.ok(!isUnavailable(err(code)), code);
  }
  assert.ok(!isUnavailable(new Error("no code")));
  assert.ok(!isUnavailable(null));
});

Deno.test("retryRead: retries a lost connection, not a bad statement, at most `attempts` times", async () => {
  let calls = 0;
  assert.equal(
    await retryRead(() => ++calls < 3 ? Promise.reject(err("57P01")) : Promise.resolve("ok"), 3, 1),
    "ok",
  );
  assert.equal(calls, 3);
  calls = 0;
  await assert.rejects(
    () => retryRead(() => (calls++, Promise.reject(err("42P01"))), 3, 1),
    /42P01/,
  );
  assert.equal(calls, 1);
  calls = 0;
  await assert.rejects(
    () => retryRead(() => (calls++, Promise.reject(err("ECONNREFUSED"))), 3, 1),
    /ECONNREFUSED/,
  );
  assert.equal(calls, 3);
});
