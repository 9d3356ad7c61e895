// Spawns the CLI as a user would and checks exit codes, tables and the --json document.
import assert from "node:assert/strict";
import { runCli } from "./processes.ts";
import { RunsJson } from "../../runner/cli/runs_json.ts";
import { freshDatabase } from "./helpers.ts";
import { freePort, waitForHttp } from "../net.ts";
import { lockPgliteFolder } from "../../runner/store/pglite_lock.ts";

const home = await Deno.makeTempDir({ prefix: "driftflow-cli-" });

const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { DRIFTFLOW_HOME: home, DRIFTFLOW_DAGS: "tests/fixtures/dags_ok", ...env });

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test({
  name: "cli: run, runs --json, logs, clear and resume on PGlite",
  ...opts,
  async fn() {
    const ok = await cli(["run", "flaky", "--param", "succeedOnTry=2"]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /flaky\s+success\s+2/);
    assert.match(ok.stdout, /run \d+ of dag flaky: success/);
    assert.match(ok.stderr, /flaky up_for_retry \(try 1/, "live states are drawn on stderr");

    const failed = await cli([
      "run",
      "flaky",
      "--param",
      "succeedOnTry=5",
      "--conf",
      '{"why":"test"}',
    ]);
    assert.equal(failed.code, 1, failed.stderr);
    assert.match(failed.stdout, /flaky\s+failed\s+3/);
    assert.match(failed.stdout, /echo\s+upstream_failed/);
    const runId = Number(/run (\d+) of dag flaky: failed/.exec(failed.stdout)![1]);

    const json = await cli(["runs", "flaky", "--json", "--limit", "5"]);
    assert.equal(json.code, 0, json.stderr);
    const doc = RunsJson.parse(JSON.parse(json.stdout));
    assert.equal(doc.runs.length, 2);
    const [latest] = doc.runs;
    assert.equal(latest.id, runId);
    assert.equal(latest.state, "failed");
    assert.deepEqual(latest.conf, { why: "test" });
    assert.equal(latest.params.succeedOnTry, 5);
    const flaky = latest.tasks.find((t) => t.taskId === "flaky")!;
    assert.deepEqual(flaky.tries.map((t) => t.state), ["up_for_retry", "up_for_retry", "failed"]);
    assert.match(flaky.tries[2].error!, /not yet \(try 3\)/);

    const table = await cli(["runs", "flaky"]);
    assert.match(table.stdout, /1:up_for_retry 2:up_for_retry 3:failed/);

    const logs = await cli(["logs", String(runId), "flaky", "--try", "2"]);
    assert.equal(logs.code, 0);
    assert.match(logs.stdout, /try 2/);
    assert.doesNotMatch(logs.stdout, /try 3/);

    const noTry = await cli(["logs", String(runId), "flaky", "--try", "5"]);
    assert.equal(noTry.code, 2, "a try that does not exist is an error");
    assert.match(noTry.stderr, /task "flaky" in run \d+ has no try 5; its tries: 1, 2, 3/);

    const cleared = await cli(["clear", String(runId), "--task", "flaky", "--downstream"]);
    assert.equal(cleared.code, 0, cleared.stderr);
    assert.match(cleared.stdout, /cleared 2 task instance\(s\) of run \d+: flaky, echo/);
    // Cleared, the task gets its retries again: tries 4 and 5; it succeeds from try 5 on.
    const resumed = await cli(["run", "--resume", String(runId)]);
    assert.equal(resumed.code, 0, resumed.stderr + resumed.stdout);
    assert.match(
      resumed.stdout,
      /start\s+success\s+1/,
      "start was not cleared and did not run again",
    );
    const after = RunsJson.parse(
      JSON.parse((await cli(["runs", "flaky", "--json", "--limit", "1"])).stdout),
    );
    assert.deepEqual(
      after.runs[0].tasks.find((t) => t.taskId === "flaky")!.tries.map((t) => t.tryNumber),
      [1, 2, 3, 4, 5],
    );

    const dags = await cli(["dags"]);
    assert.match(dags.stdout, new RegExp(`flaky\\s+manual\\s+no\\s+${runId} success`));
  },
});

Deno.test({
  name: "cli: usage and validation errors exit 2",
  ...opts,
  async fn() {
    const cases: [string[], RegExp][] = [
      [["run", "flaky", "--param", "succeedOnTry=x"], /params\.succeedOnTry: .*expected number/],
      [["run", "nope"], /no DAG "nope"; loaded: flaky/],
      [["run", "flaky", "--conf", "{bad"], /--conf is not valid JSON/],
      [["run", "flaky", "--date", "yesterday"], /--date "yesterday" is not an ISO date/],
      [["run"], /name one DAG id/],
      [["run", "flaky", "--bogus"], /Unknown option '--bogus'/],
      [["runs", "flaky", "--limit=-3"], /--limit must be a non-negative integer/],
      [["logs", "999999", "x"], /run 999999 does not exist/],
      [["frobnicate"], /unknown command "frobnicate"/],
      [["run", "flaky", "--concurrency", "0"], /--concurrency must be an integer of at least 1/],
      [["run", "flaky", "--concurrency=-2"], /--concurrency must be an integer of at least 1/],
      [["worker", "--concurrency", "0"], /--concurrency must be an integer of at least 1/],
      [["worker", "--concurrency", "1.5"], /--concurrency must be an integer of at least 1/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
    }
    const date = "2026-03-01T00:00:00Z";
    assert.equal((await cli(["run", "flaky", "--date", date])).code, 0);
    const dup = await cli(["run", "flaky", "--date", date]);
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /already exists \(run \d+\).*--resume \d+/);
  },
});

Deno.test({
  name:
    "cli: every command prints its usage with --help and exits 0; runs of an unknown DAG exit 2",
  ...opts,
  async fn() {
    const commands = [
      "run",
      "dags",
      "runs",
      "logs",
      "clear",
      "pools",
      "backfill",
      "scheduler",
      "worker",
    ];
    for (const name of commands) {
      const r = await cli([name, "--help"]);
      assert.equal(r.code, 0, `${name} --help: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`usage: deno task ${name}`), name);
    }
    const all = await cli(["--help"]);
    assert.equal(all.code, 0);
    assert.match(all.stdout, /deno task runs/);
    const serve = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "web/main.ts", "--help"],
      env: { DRIFTFLOW_HOME: home, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    assert.equal(serve.code, 0);
    assert.match(new TextDecoder().decode(serve.stdout), /usage: deno task serve/);
    const nope = await cli(["runs", "nope"]);
    assert.equal(nope.code, 2);
    assert.match(nope.stderr, /unknown DAG "nope"; the DAGs are: .*flaky/);
    assert.doesNotMatch(nope.stdout + nope.stderr, /deno task run nope/);
  },
});

Deno.test({
  name: "cli: dags validate names each bad file and exits 2",
  ...opts,
  async fn() {
    const bad = await cli(["dags", "validate"], { DRIFTFLOW_DAGS: "tests/fixtures/dags_bad" });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /cycle\.ts: dag "cycle", task "\w": dependency cycle/);
    assert.match(bad.stdout, /9 file\(s\), 1 valid DAG\(s\), 8 problem\(s\)/);
    const good = await cli(["dags", "validate"], { DRIFTFLOW_DAGS: "dags" });
    assert.equal(good.code, 0, good.stderr);
  },
});

Deno.test({
  name: "cli: a DAG file that hangs at its top level is named, and does not hang any command",
  ...opts,
  async fn() {
    const env = {
      DRIFTFLOW_DAGS: "tests/fixtures/dags_hang",
      DRIFTFLOW_DAG_IMPORT_TIMEOUT_S: "2",
      DRIFTFLOW_HOME: await Deno.makeTempDir(),
    };
    const hang = /dags_hang\/hangs\.ts: its import did not finish within 2 s/;
    const validate = await cli(["dags", "validate"], env);
    assert.equal(validate.code, 2, validate.stderr);
    assert.match(validate.stderr, hang);
    assert.match(validate.stdout, /2 file\(s\), 1 valid DAG\(s\), 1 problem\(s\)/);
    const fine = await cli(["run", "fine"], env);
    assert.equal(fine.code, 0, fine.stderr);
    assert.match(fine.stdout, /run \d+ of dag fine: success/);
    const never = await cli(["run", "never"], env);
    assert.equal(never.code, 2);
    assert.match(never.stderr, hang);
    const list = await cli(["dags"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stderr, hang);
    assert.match(list.stdout, /fine\s+manual/);
  },
});

Deno.test({
  name: "cli: the same run on a PostgreSQL server through DATABASE_URL",
  ...opts,
  async fn() {
    const db = await freshDatabase();
    try {
      const r = await cli(["run", "example", "--param", "batchSize=5"], {
        DATABASE_URL: db.url,
        DRIFTFLOW_DAGS: "dags",
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /each\s+2\s+success/);
      assert.match(r.stdout, /nothing\s+skipped/);
      const json = RunsJson.parse(
        JSON.parse(
          (await cli(["runs", "example", "--json"], {
            DATABASE_URL: db.url,
            DRIFTFLOW_DAGS: "dags",
          })).stdout,
        ),
      );
      assert.equal(json.runs[0].state, "success");
    } finally {
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "cli: a worker on PGlite refuses to start, saying why; serve --scheduler runs schedules on PGlite",
  ...opts,
  async fn() {
    const w = await cli(["worker"]);
    assert.equal(w.code, 2);
    assert.match(
      w.stderr,
      /workers need a PostgreSQL server that every process shares: set DATABASE_URL/,
    );
    const home = await Deno.makeTempDir();
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "web/main.ts", "--scheduler", "--tick-ms", "100", "--port", `${port}`],
      env: {
        DRIFTFLOW_HOME: home,
        DRIFTFLOW_DAGS: "tests/fixtures/dags_dist",
        DRIFTFLOW_TOKEN: "t",
        TICKER_START: new Date().toISOString(),
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      // Until the server's own API shows a scheduled run that succeeded (bounded: a hang detector).
      await waitForHttp(
        `http://127.0.0.1:${port}/api/v1/dags/ticker/runs`,
        async (res) => {
          if (!res.ok) return false;
          const body = await res.json() as { runs: { state: string; runType: string }[] };
          return body.runs.some((r) => r.state === "success" && r.runType === "scheduled");
        },
        120_000,
        { authorization: "Bearer t" },
      );
    } finally {
      child.kill("SIGTERM");
    }
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const runs = await cli(["runs", "ticker", "--json"], {
      DRIFTFLOW_HOME: home,
      DRIFTFLOW_DAGS: "tests/fixtures/dags_dist",
    });
    const doc = RunsJson.parse(JSON.parse(runs.stdout));
    assert.ok(
      doc.runs.some((r) => r.state === "success" && r.runType === "scheduled"),
      runs.stdout.slice(0, 500),
    );
  },
});

/**
 * A TCP proxy to the test PostgreSQL server that can be cut (the database is down: every connection
 * is closed at once, and counted in `refused`) and restored.
 */
function cuttableProxy(target: URL) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  let isUp = true, refused = 0;
  const close = (c: Deno.Conn) => {
    try {
      c.close();
    } catch { /* closed already */ }
  };
  (async () => {
    try {
      for await (const down of listener) {
        if (!isUp) {
          refused++;
          close(down);
          continue;
        }
        conns.add(down);
        Deno.connect({ hostname: target.hostname, port: Number(target.port || 5432) }).then(
          (up) => {
            conns.add(up);
            down.readable.pipeTo(up.writable).catch(() => {}).finally(() => close(up));
            up.readable.pipeTo(down.writable).catch(() => {}).finally(() => close(down));
          },
          () => close(down),
        );
      }
    } catch { /* the listener was closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    /** Connections closed at once while down. */
    get refused() {
      return refused;
    },
    up() {
      isUp = true;
    },
    down() {
      isUp = false;
      for (const c of conns) close(c);
      conns.clear();
    },
    close() {
      this.down();
      try {
        listener.close();
      } catch { /* closed already */ }
    },
  };
}

Deno.test({
  name: "cli: while the database is down the scheduler says so (not that another scheduler leads)",
  ...opts,
  async fn() {
    const db = await freshDatabase();
    const proxy = cuttableProxy(new URL(db.url));
    const url = new URL(db.url);
    url.port = String(proxy.port);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "runner/cli/main.ts", "scheduler", "--tick-ms", "200"],
      env: {
        DATABASE_URL: url.toString(),
        DRIFTFLOW_HOME: await Deno.makeTempDir(),
        DRIFTFLOW_DAGS: "tests/fixtures/dags_ok",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    const reading = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
      new WritableStream({ write: (t) => void (log += t) }),
    ).catch(() => {});
    const waitFor = async (re: RegExp, from = 0) => {
      const until = Date.now() + 30_000;
      while (!re.test(log.slice(from))) {
        if (Date.now() > until) throw new Error(`no ${re} in the scheduler's log:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await waitFor(/scheduler: leading/);
      const before = log.length;
      proxy.down();
      await waitFor(/scheduler: .*the database is (down|unreachable)/, before);
      const outage = log.length;
      // The outage lasts until the scheduler has tried the database three more times (no fixed
      // wait); the whole log, through the recovery, never blames another scheduler.
      const tried = proxy.refused;
      const until = Date.now() + 30_000;
      while (proxy.refused < tried + 3) {
        if (Date.now() > until) throw new Error(`the scheduler stopped trying:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      proxy.up();
      await waitFor(/scheduler: leading/, outage);
      assert.doesNotMatch(log, /another scheduler leads/);
    } finally {
      proxy.close();
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.status;
      await reading;
      await db.drop();
    }
  },
});

Deno.test({
  name:
    "cli: a second process on a PGlite home is refused, naming the owner; a dead owner's lock is taken over",
  ...opts,
  async fn() {
    const home = await Deno.makeTempDir();
    const env = { DRIFTFLOW_HOME: home, DRIFTFLOW_DAGS: "tests/fixtures/dags_ok" };
    const serve = () => {
      const port = freePort();
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "web/main.ts", "--port", String(port)],
        env: { ...env, DRIFTFLOW_TOKEN: "t" },
        stdout: "null",
        stderr: "null",
      }).spawn();
      return { child, ready: waitForHttp(`http://127.0.0.1:${port}/health`) };
    };
    const stop = async (child: Deno.ChildProcess, signal: Deno.Signal) => {
      try {
        child.kill(signal);
      } catch { /* ended */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* ended */ }
      }, 20_000);
      try {
        return await child.status;
      } finally {
        clearTimeout(timer);
      }
    };
    const first = serve();
    try {
      await first.ready;
      const refused = await cli(["run", "flaky"], env);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(`in use by process ${first.child.pid} \\(web/main\\.ts --port \\d+\\)`),
      );
      assert.match(refused.stderr, /That is the web server \(deno task serve\)/);
      assert.match(refused.stderr, /POST \/api\/v1\/dags\/<dag_id>\/runs/);
      assert.match(refused.stderr, /set DATABASE_URL/);
      assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");
      const runs = await cli(["runs", "flaky", "--json"], env);
      assert.equal(runs.code, 2, "reading behind the owner's back is refused too");
    } finally {
      await stop(first.child, "SIGTERM");
    }
    const ok = await cli(["run", "flaky"], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /run 1 of dag flaky: success/);

    // An owner killed with SIGKILL leaves its lock file behind; the OS lock died with it.
    const second = serve();
    try {
      await second.ready;
    } finally {
      assert.equal((await stop(second.child, "SIGKILL")).signal, "SIGKILL");
    }
    const record = JSON.parse(await Deno.readTextFile(`${home}/pgdata.lock`));
    assert.equal(record.pid, second.child.pid, "the dead owner's record is still there");
    const after = await cli(["run", "flaky"], env);
    assert.equal(after.code, 0, after.stderr);
    assert.match(after.stdout, /run 2 of dag flaky: success/, "run 1 was kept");

    // The server started second is refused the same way (here this test process holds the home).
    const lock = await lockPgliteFolder(`${home}/pgdata`);
    try {
      const late = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "web/main.ts", "--port", String(freePort())],
        env: { ...env, DRIFTFLOW_TOKEN: "t" },
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(late.stderr);
      assert.equal(late.code, 2, stderr);
      assert.match(stderr, new RegExp(`driftflow serve: .* in use by process ${Deno.pid} `));
      assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
    } finally {
      lock.release();
    }
  },
});
