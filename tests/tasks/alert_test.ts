import assert from "node:assert/strict";
// @ts-types="npm:@types/smtp-server@3.5.13"
import { SMTPServer } from "smtp-server";
import { tableExists } from "../../runner/store/table_exists.ts";
import { Alerter, sentAlertCounts, storedAlerts } from "../../tasks/alert/alerter.ts";
import { countingClient, storeTest } from "../runner/helpers.ts";

/** A local webhook receiver that fails the first `failures` requests with 500. */
function receiver(failures = 0) {
  const bodies: unknown[] = [];
  let calls = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    calls++;
    if (calls <= failures) return new Response("busy", { status: 500 });
    bodies.push(await req.json());
    return new Response("ok");
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    bodies,
    calls: () => calls,
    stop: () => server.shutdown(),
  };
}

storeTest(
  "alerts: a webhook is retried until it answers, and every alert is stored",
  async (store) => {
    const hook = receiver(2);
    try {
      const alerter = await Alerter.open(store.db, {
        channels: [{ type: "webhook", url: hook.url, retries: 3, retryDelay: 1 }],
        cooldown: 0,
      });
      const out = await alerter.send({
        level: "WARNING",
        key: "drift:test",
        title: "Drift",
        message: "2 of 5 columns",
        runId: 3,
        details: { share: 0.4 },
      });
      assert.deepEqual(out.deliveries.map((d) => d.ok), [true]);
      assert.equal(hook.calls(), 3, "two 500s, then success");
      const body = hook.bodies[0] as Record<string, unknown>;
      assert.equal(body.level, "WARNING");
      assert.equal(body.key, "drift:test");
      assert.deepEqual(body.details, { share: 0.4 });
      const [stored] = await alerter.recent();
      assert.equal(stored.id, out.id);
      assert.deepEqual(stored.deliveries.map((d) => d.ok), [true]);
    } finally {
      await hook.stop();
    }
  },
);

storeTest(
  "alerts: a webhook that keeps failing is recorded as a failed delivery",
  async (store) => {
    const hook = receiver(100);
    try {
      const alerter = await Alerter.open(store.db, {
        channels: [{ type: "webhook", url: hook.url, retries: 1, retryDelay: 1 }],
        cooldown: 0,
      });
      const out = await alerter.send({ level: "CRITICAL", key: "k", title: "t", message: "m" });
      assert.equal(out.deliveries[0].ok, false);
      assert.match(out.deliveries[0].error!, /failed after 2 attempt\(s\): HTTP 500/);
    } finally {
      await hook.stop();
    }
  },
);

storeTest(
  "alerts: the cooldown holds back repeats of a key, lets louder ones through, and ends",
  async (store) => {
    let now = new Date("2026-01-01T00:00:00Z");
    const hook = receiver();
    try {
      const alerter = await Alerter.open(store.db, {
        channels: [{ type: "webhook", url: hook.url }],
        cooldown: "30m",
        minLevel: "WARNING",
      }, () => now);
      const send = (level: "INFO" | "WARNING" | "CRITICAL", key = "drift:flights") =>
        alerter.send({ level, key, title: "drift", message: level });
      assert.equal((await send("WARNING")).suppressed, false);
      const repeat = await send("WARNING");
      assert.equal(repeat.suppressed, true);
      assert.match(repeat.reason!, /cooldown: a WARNING alert of "drift:flights" went out/);
      assert.equal((await send("CRITICAL")).suppressed, false, "louder goes out at once");
      assert.equal((await send("WARNING")).suppressed, true, "quieter than the last CRITICAL");
      assert.equal(
        (await send("WARNING", "drift:text")).suppressed,
        false,
        "another key has its own cooldown",
      );
      assert.match((await send("INFO", "other")).reason!, /below the minimum level WARNING/);
      now = new Date(now.getTime() + 31 * 60_000);
      assert.equal((await send("WARNING")).suppressed, false, "after the cooldown");
      assert.deepEqual(hook.bodies.map((b) => (b as { message: string }).message), [
        "WARNING",
        "CRITICAL",
        "WARNING",
        "WARNING",
      ]);
      assert.equal((await alerter.recent()).filter((a) => a.suppressed).length, 3);
    } finally {
      await hook.stop();
    }
  },
);

Deno.test({
  name: "alerts: e-mail over SMTP reaches a local SMTP server",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const received: string[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ["STARTTLS"],
      onData(stream, _session, callback) {
        let text = "";
        stream.on("data", (c: Uint8Array) => (text += new TextDecoder().decode(c)));
        stream.on("end", () => {
          received.push(text);
          callback();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, "127.0.0.1", () => r()));
    const port = (smtp.server.address() as { port: number }).port;
    const { openPglite } = await import("../../runner/store/pglite.ts");
    const db = await openPglite();
    try {
      const alerter = await Alerter.open(db, {
        channels: [{
          type: "email",
          host: "127.0.0.1",
          port,
          from: "driftflow@localhost",
          to: ["oncall@localhost"],
        }],
      });
      const out = await alerter.send({
        level: "CRITICAL",
        key: "k",
        title: "Major drift on flights",
        message: "retraining",
      });
      assert.deepEqual(out.deliveries.map((d) => [d.ok, d.error]), [[true, undefined]]);
      assert.equal(received.length, 1);
      assert.match(received[0], /Subject: \[Driftflow CRITICAL\] Major drift on flights/);
      assert.match(received[0], /To: oncall@localhost/);
    } finally {
      await db.close();
      await new Promise<void>((r) => smtp.close(() => r()));
    }
  },
});

storeTest(
  "alerts: opening twice on one client migrates once; readers create nothing",
  async (store) => {
    const { client, statements } = countingClient(store.db);
    assert.deepEqual(await storedAlerts(client), []);
    assert.deepEqual(await sentAlertCounts(client), []);
    assert.equal(await tableExists(store.db, "alerts"), false, "the readers created nothing");
    await Alerter.open(client);
    assert.ok(statements.some((s) => s.includes("create table alerts")));
    const sent = statements.length;
    const alerter = await Alerter.open(client, { cooldown: "1h" });
    assert.deepEqual(statements.slice(sent), [], "the second open sends nothing");
    const alert = { level: "WARNING" as const, key: "k", title: "t", message: "m" };
    await alerter.send({ ...alert, details: { share: 0.5, note: "text" } });
    await alerter.send(alert); // within the cooldown: suppressed
    await alerter.send({ ...alert, key: "other", level: "CRITICAL", dagId: "d", runId: 4 });
    assert.deepEqual(await sentAlertCounts(client), [{ level: "CRITICAL", n: 1 }, {
      level: "WARNING",
      n: 1,
    }]);
    const stored = await storedAlerts(client, { limit: 2, offset: 1 });
    assert.deepEqual(stored.map((a) => [a.key, a.suppressed]), [["k", true], ["k", false]]);
    assert.deepEqual(stored[1].details, { share: 0.5, note: "text" });
    assert.deepEqual(await alerter.recent(1), await storedAlerts(client, { limit: 1 }));
  },
);
