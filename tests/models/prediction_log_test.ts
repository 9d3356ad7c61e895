// The prediction log's group commit under faults, on both backends: concurrent writes share
// commits; a transient failure is retried (degraded, then ok) and nothing is dropped; a row the
// database refuses fails only its own request; a writer that waits too long gets
// PredictionLogUnavailable while its row stays queued and is stored later; the queue is bounded.
import assert from "node:assert/strict";
import {
  type LoggedPrediction,
  predictionCounts,
  PredictionLog,
  PredictionLogFailed,
  PredictionLogUnavailable,
  PredictionRejected,
} from "../../models/serving/prediction_log.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import postgres from "postgres";
import { openPostgres } from "../../runner/store/postgres.ts";
import { Store } from "../../runner/store/store.ts";
import { tableExists } from "../../runner/store/table_exists.ts";
import { countingClient, freshDatabase, storeTest } from "../runner/helpers.ts";
import { eventually } from "../runner/processes.ts";

/**
 * The store's client, with inserts into predictions that fail while `down` is set and hang (never
 * answer) while `hang` is set — in a transaction too. A hung insert goes on once `hang` is cleared.
 * An insert whose rows contain a key of `poison` fails with that SQLSTATE.
 */
function flaky(db: SqlClient) {
  const state = {
    down: false,
    hang: false,
    inserts: 0,
    failures: 0,
    hung: 0,
    poison: new Map<string, string>(),
  };
  /** Applies the faults to an insert into predictions (`payload`: its rows, as sent). */
  async function intercept(text: string, payload: string): Promise<void> {
    if (!text.includes("insert into predictions")) return;
    state.inserts++;
    if (state.down) {
      state.failures++;
      throw Object.assign(new Error("connection refused (injected)"), { code: "ECONNREFUSED" });
    }
    for (const [marker, code] of state.poison) {
      if (payload.includes(marker)) {
        throw Object.assign(new Error(`injected SQLSTATE ${code} for ${marker}`), { code });
      }
    }
    if (state.hang) state.hung++;
    while (state.hang) await new Promise((r) => setTimeout(r, 20));
  }
  const wrap = (db: SqlClient): SqlClient => ({
    kind: db.kind,
    async query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      await intercept(text, JSON.stringify(params ?? []));
      return await db.query<T>(text, params);
    },
    async exec(text) {
      await intercept(text, text);
      await db.exec(text);
    },
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    listen: (c, fn) => db.listen(c, fn),
    close: () => db.close(),
  });
  return { client: wrap(db), state };
}

const row = (input: Record<string, unknown> = { x: 1 }): LoggedPrediction => ({
  id: crypto.randomUUID(),
  model: "m",
  version: 1,
  input,
  label: "yes",
  score: 0.5,
  output: { yes: 0.5 },
});

async function stored(db: SqlClient, ids: string[]): Promise<number> {
  const r = await db.query<{ n: number | string }>(
    "select count(*) as n from predictions where id in (select jsonb_array_elements_text($1::text::jsonb))",
    [JSON.stringify(ids)],
  );
  return Number(r[0].n);
}

storeTest("prediction log: concurrent writes share commits, all stored", async (store) => {
  const { client, state } = flaky(store.db);
  const log = await PredictionLog.open(client);
  const rows = Array.from({ length: 200 }, () => row());
  await Promise.all(rows.map((r) => log.write([r])));
  assert.equal(await stored(store.db, rows.map((r) => r.id)), 200);
  assert.ok(state.inserts < 200, `${state.inserts} commits for 200 concurrent writes`);
  assert.equal(log.health().written, 200);
});

storeTest("prediction log: a transient failure is retried, degraded then ok", async (store) => {
  const { client, state } = flaky(store.db);
  const log = await PredictionLog.open(client, { retryMs: 10 });
  state.down = true;
  const rows = Array.from({ length: 20 }, () => row());
  const writes = Promise.all(rows.map((r) => log.write([r])));
  const h = await eventually(
    "three failed commits",
    () => Promise.resolve(log.health().failedCommits >= 3 ? log.health() : undefined),
    10_000,
  );
  assert.equal(h.state, "degraded");
  assert.equal(h.queued, 20);
  assert.match(h.lastError ?? "", /connection refused/);
  state.down = false;
  await writes;
  assert.equal(await stored(store.db, rows.map((r) => r.id)), 20);
  assert.equal(log.health().state, "ok");
  assert.equal(log.health().queued, 0);
});

storeTest("prediction log: a row the database refuses fails only its own write", async (store) => {
  const log = await PredictionLog.open(store.db);
  const good = Array.from({ length: 9 }, () => row());
  const poison = row({ x: "a\u0000b" }); // jsonb refuses U+0000 (what the API's 422 prevents)
  const results = await Promise.allSettled([
    ...good.slice(0, 4).map((r) => log.write([r])),
    log.write([poison]),
    ...good.slice(4).map((r) => log.write([r])),
  ]);
  assert.equal(results.filter((r) => r.status === "rejected").length, 1);
  const failed = results[4];
  assert.ok(failed.status === "rejected" && failed.reason instanceof PredictionRejected);
  assert.equal(await stored(store.db, good.map((r) => r.id)), 9);
  assert.equal(await stored(store.db, [poison.id]), 0);
  assert.equal(log.health().state, "ok");
  assert.equal(log.health().rejected, 1);
  // and logging goes on
  const later = row();
  await log.write([later]);
  assert.equal(await stored(store.db, [later.id]), 1);
});

storeTest(
  "prediction log: a writer that waits too long is refused, its row stored later",
  async (store) => {
    const { client, state } = flaky(store.db);
    const log = await PredictionLog.open(client, {
      ackTimeoutMs: 200,
      retryMs: 10,
      maxQueuedRows: 3,
    });
    state.down = true;
    const r = row();
    await assert.rejects(() => log.write([r]), PredictionLogUnavailable);
    assert.equal(log.health().queued, 1, "not dropped: still queued");
    // the queue is bounded: beyond maxQueuedRows a write is refused at once
    const more = [row(), row()];
    const pending = log.write(more).catch((e) => e);
    await assert.rejects(() => log.write([row()]), /already wait/);
    state.down = false;
    // answered once committed, or refused if the machine was slow: stored either way
    const outcome = await pending;
    assert.ok(outcome === undefined || outcome instanceof PredictionLogUnavailable, `${outcome}`);
    const ids = [r, ...more].map((x) => x.id);
    await eventually(
      "the queued rows stored",
      async () => (await stored(store.db, ids)) === 3 ? true : undefined,
      10_000,
    );
    assert.equal(log.health().queued, 0);
    await log.close();
    await assert.rejects(() => log.write([row()]), /closed/);
  },
);

storeTest(
  "prediction log: a commit that never returns is given up, shown degraded, and retried",
  async (store) => {
    const { client, state } = flaky(store.db);
    const log = await PredictionLog.open(client, { ackTimeoutMs: 200, retryMs: 10 });
    state.hang = true;
    const rows = [row(), row()];
    try {
      for (const r of await Promise.allSettled(rows.map((r) => log.write([r])))) {
        assert.ok(
          r.status === "rejected" && r.reason instanceof PredictionLogUnavailable,
          `${r.status}`,
        );
      }
      // nothing threw, yet nothing commits: the log must not say "ok"
      const h = log.health();
      assert.equal(h.state, "degraded", JSON.stringify(h));
      assert.equal(h.queued, 2);
      assert.ok((h.oldestQueuedMs ?? 0) > 200, JSON.stringify(h));
      // the hung commit is given up and retried (not awaited forever)
      await eventually(
        "a hung commit given up and retried",
        () =>
          Promise.resolve(state.hung >= 2 && log.health().failedCommits >= 1 ? true : undefined),
        10_000,
      );
      assert.match(log.health().lastError ?? "", /did not finish within 200 ms|statement timeout/);
    } finally {
      state.hang = false;
    }
    // the writers recover by themselves once commits return again
    await eventually(
      "the queued rows stored",
      async () => (await stored(store.db, rows.map((r) => r.id))) === 2 ? true : undefined,
      10_000,
    );
    await eventually(
      "the log ok again",
      () => Promise.resolve(log.health().state === "ok" ? true : undefined),
      10_000,
    );
    assert.equal(log.health().queued, 0);
    const later = row();
    await log.write([later]);
    assert.equal(await stored(store.db, [later.id]), 1);
    await log.close();
  },
);

Deno.test({
  name: "prediction log: PostgreSQL ends a commit blocked on a lock (statement_timeout)",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await freshDatabase();
    const store = new Store(await openPostgres(db.url, 4));
    const locker = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await store.migrate();
      const log = await PredictionLog.open(store.db, {
        ackTimeoutMs: 5_000,
        commitTimeoutMs: 300,
        retryMs: 10,
      });
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let locked!: () => void;
      const holding = new Promise<void>((r) => (locked = r));
      const tx = locker.begin(async (sql) => {
        await sql`lock table predictions in access exclusive mode`;
        locked();
        await released;
      });
      await holding;
      const r = row();
      const written = log.write([r]);
      try {
        await eventually(
          "the blocked commit ended by the server's statement_timeout",
          () =>
            Promise.resolve(
              /statement timeout/.test(log.health().lastError ?? "") ? log.health() : undefined,
            ),
          10_000,
        );
        assert.equal(log.health().state, "degraded");
      } finally {
        release();
        await tx;
      }
      await written;
      assert.equal(await stored(store.db, [r.id]), 1);
      assert.equal(log.health().state, "ok");
    } finally {
      await locker.end();
      await store.close();
      await db.drop();
    }
  },
});

for (const [code, what] of [["42883", "a permanent error"], ["54000", "a limit exceeded"]]) {
  storeTest(
    `prediction log: ${what} (${code}) fails only its own request, later writes go on`,
    async (store) => {
      const { client, state } = flaky(store.db);
      const log = await PredictionLog.open(client, {
        ackTimeoutMs: 5_000,
        retryMs: 10,
        maxAttempts: 3,
      });
      state.poison.set("POISON", code);
      const poison = row({ x: "POISON" });
      const before = Array.from({ length: 4 }, () => row());
      const after = Array.from({ length: 5 }, () => row());
      const results = await Promise.allSettled([
        ...before.map((r) => log.write([r])),
        log.write([poison]),
        ...after.map((r) => log.write([r])),
      ]);
      const failed = results[4];
      assert.equal(failed.status, "rejected");
      const reason = (failed as PromiseRejectedResult).reason;
      if (code === "54000") {
        assert.ok(reason instanceof PredictionRejected, `${reason}`);
        assert.equal(log.health().rejected, 1);
      } else {
        // not stored, said so (503 with the reason), and no longer retried
        assert.ok(reason instanceof PredictionLogFailed, `${reason}`);
        assert.ok(reason instanceof PredictionLogUnavailable);
        assert.match(reason.message, /42883.*3 attempts.*not stored/);
        assert.equal(log.health().failed, 1);
      }
      for (const [i, r] of results.entries()) {
        if (i !== 4) assert.equal(r.status, "fulfilled", `write ${i}: ${r.status}`);
      }
      const ids = [...before, ...after].map((r) => r.id);
      assert.equal(await stored(store.db, ids), 9);
      assert.equal(await stored(store.db, [poison.id]), 0);
      assert.equal(log.health().queued, 0);
      // the queue is not blocked: a later write is stored and the log is ok
      const later = row();
      await log.write([later]);
      assert.equal(await stored(store.db, [later.id]), 1);
      assert.equal(log.health().state, "ok");
      await log.close();
    },
  );
}

storeTest("prediction log: a poisoned request at the head does not block later writes", async (
  store,
) => {
  const { client, state } = flaky(store.db);
  // about 8 s of tries (10 ms doubling to 2 s) before the poisoned request is given up
  const log = await PredictionLog.open(client, {
    ackTimeoutMs: 60_000,
    retryMs: 10,
    maxAttempts: 12,
  });
  state.poison.set("POISON", "42501");
  const poison = row({ x: "POISON" });
  let settled = false;
  const stuck = log.write([poison]).catch((e) => e).finally(() => (settled = true));
  // while it is being retried, later writes are committed (split around it)
  await eventually(
    "the poisoned request retried",
    () => Promise.resolve(log.health().failedCommits >= 2 ? true : undefined),
    10_000,
  );
  const later = Array.from({ length: 5 }, () => row());
  await Promise.all(later.map((r) => log.write([r])));
  assert.equal(await stored(store.db, later.map((r) => r.id)), 5);
  assert.equal(settled, false, "the later writes went past the request still being retried");
  const outcome = await stuck;
  assert.ok(outcome instanceof PredictionLogFailed, `${outcome}`);
  assert.equal(log.health().queued, 0);
  await log.close();
});

storeTest("prediction log: opening it twice on one client migrates once", async (store) => {
  const { client, statements } = countingClient(store.db);
  assert.deepEqual(await predictionCounts(client), [], "none before the first prediction");
  assert.equal(await tableExists(store.db, "predictions"), false, "the reader created nothing");
  const first = await PredictionLog.open(client);
  await first.close();
  assert.ok(statements.some((s) => s.includes("create table predictions")));
  const sent = statements.length;
  const log = await PredictionLog.open(client);
  try {
    assert.equal(statements.length, sent, `the second open sent ${statements.slice(sent)}`);
    const input = { carrier: "AA", note: "a string", nested: { delay: [1, 2] } };
    const a = row(input), b = row(), c = { ...row(), model: "n" };
    await log.write([a, b, c]);
    assert.equal(await log.feedback(a.id, "no"), true);
    const [labelled] = await log.labelled("m");
    assert.deepEqual(labelled.input, input, "the jsonb input arrives parsed");
    assert.equal(labelled.label, "no");
    assert.deepEqual(await predictionCounts(client), [{ model: "m", n: 2 }, { model: "n", n: 1 }]);
  } finally {
    await log.close();
  }
});
