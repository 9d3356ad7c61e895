/**
 * `deno task bench chaos`: the engine and the server under faults, with real processes. On a
 * PostgreSQL server the bench starts itself (its own data folder and port), a scheduler, 3 workers
 * and `deno task serve` carry a DAG of 320 command tasks (16 layers of 20, each task after 2 of
 * the layer before) with the default retries (0), while a bounded load of predictions (4 clients,
 * one row each, 20 ms apart) runs against the server. Meanwhile: a worker that is running tasks is
 * killed with `kill -9` every 6 s (and a new one started), PostgreSQL is restarted twice, and the
 * server is killed with `kill -9` and started again.
 *
 * Every command appends its start, end (or "killed", on SIGTERM, or on SIGPIPE once its runner's
 * end of the output pipe is gone) with a timestamp to a file of its task, and on success inserts its side effect into a table of the bench's own
 * (`chaos_effects`). Afterwards, from that table, the files and the store:
 *   chaos.tasks_lost                 tasks not `success` in the store, or without a side effect
 *   chaos.duplicate_successes        tasks with two executions that completed, or two successful
 *                                    tries in the store
 *   chaos.killed_try_side_effects    (not a defect count) side effects of executions killed after
 *                                    their insert and before they exited: a command killed mid-way
 *                                    runs again (at-least-once), so commands should be idempotent
 *   chaos.overlapping_tries          tasks with two executions alive at one moment (an execution
 *                                    with a start and no end is taken to overlap any later one)
 *   chaos.acknowledged_predictions_lost  predictions answered 200 that are not in the store
 *   chaos.runs_failed                runs of the DAG that failed
 *   chaos.recovery_s                 worst time from killing a worker to a task it ran starting again
 * Settings: workers heartbeat every 1 s, the scheduler reaps after 5 s without one (the defaults,
 * 5 s and 30 s, only make recovery slower). Bounded: everything stops after `--timeout-s` (240).
 *
 * @example
 * ```sh
 * deno task bench chaos [--timeout-s 240]
 * ```
 */
import { parseArgs } from "node:util";
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, registerModel } from "../../models/package.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { loadDags } from "../../runner/loader.ts";
import { createDagRun } from "../../runner/runs.ts";
import { CHANNEL_SCHEDULER, TaskQueue } from "../../runner/store/queue.ts";
import { fakeFlights } from "../dags/helpers.ts";
import { freePort, waitForHttp } from "../net.ts";
import { startPostgres } from "../pg_server.ts";
import { cluster, type Proc } from "../runner/processes.ts";
import { printFigures } from "./report.ts";

const TOKEN = "chaos-token";
const FEATURES = ["day_of_week", "hour", "distance", "origin", "destination"];

/** The command of every task: timeline lines in a file, the side effect in the table. */
const SCRIPT = `
task="$1"; try="$2"; f="$CHAOS_DIR/$task.log"
killed() { echo "killed $try $$ $(date +%s.%N) $1" >> "$f"; exit 143; }
trap 'killed TERM' TERM
trap 'killed PIPE' PIPE
echo "start $try $$ $(date +%s.%N)" >> "$f"
sleep "$CHAOS_SLEEP" & wait $!
until psql "$CHAOS_URL" -qAtX -v ON_ERROR_STOP=1 \\
  -c "insert into chaos_effects (task, try, pid) values ('$task', $try, $$)" >/dev/null 2>&1
do sleep 0.2; done
echo "end $try $$ $(date +%s.%N)" >> "$f"
`;

function dagSource(LAYERS: number, WIDTH: number): string {
  const lines = [
    `import { dag } from "${new URL("../../runner/mod.ts", import.meta.url).href}";`,
    `const SCRIPT = ${JSON.stringify(SCRIPT)};`,
    `const cmd = (id: string) => (ctx: { tryNumber: number }) => ["bash", "-c", SCRIPT, "--", id, String(ctx.tryNumber)];`,
    `export default dag({ id: "chaos", maxActiveTasks: 64 })`,
  ];
  for (let l = 0; l < LAYERS; l++) {
    for (let w = 0; w < WIDTH; w++) {
      const deps = l === 0 ? [] : [`t${l - 1}_${w}`, `t${l - 1}_${(w + 1) % WIDTH}`];
      lines.push(
        `  .command("t${l}_${w}", { deps: ${JSON.stringify(deps)}, cmd: cmd("t${l}_${w}") })`,
      );
    }
  }
  return lines.join("\n") + ";\n";
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line: string) =>
  console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

interface Execution {
  tryNumber: number;
  pid: number;
  start: number;
  end: number | null;
  /** "end": the command completed (its side effect is in); "killed": SIGTERM or SIGPIPE. */
  how: "end" | "killed" | null;
}

async function executions(dir: string, task: string): Promise<Execution[]> {
  const text = await Deno.readTextFile(`${dir}/${task}.log`).catch(() => "");
  const byPid = new Map<number, Execution>();
  for (const line of text.split("\n")) {
    const [phase, tryNumber, pid, at] = line.split(" ");
    if (!phase) continue;
    const key = Number(pid);
    if (phase === "start") {
      byPid.set(key, {
        tryNumber: Number(tryNumber),
        pid: key,
        start: Number(at),
        end: null,
        how: null,
      });
    } else {
      const e = byPid.get(key);
      if (e) {
        e.end = Number(at);
        e.how = phase === "end" ? "end" : "killed";
      }
    }
  }
  return [...byPid.values()].sort((a, b) => a.start - b.start);
}

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      "timeout-s": { type: "string", default: "240" },
      sleep: { type: "string", default: "1.5" },
      layers: { type: "string", default: "16" },
      width: { type: "string", default: "20" },
      "kill-every-s": { type: "string", default: "10" },
      keep: { type: "boolean", default: false },
    },
  });
  const LAYERS = Number(values.layers), WIDTH = Number(values.width);
  const killEvery = Number(values["kill-every-s"]);
  const deadline = Date.now() + Number(values["timeout-s"]) * 1000;
  say("starting PostgreSQL of the bench's own");
  const pg = await startPostgres();
  const dir = await Deno.makeTempDir({ prefix: "driftflow-chaos-" });
  const dagsDir = `${dir}/dags`, effectsDir = `${dir}/effects`;
  await Deno.mkdir(dagsDir);
  await Deno.mkdir(effectsDir);
  await Deno.writeTextFile(`${dagsDir}/chaos.ts`, dagSource(LAYERS, WIDTH));
  const c = await cluster(dagsDir, pg.url);
  const env = {
    CHAOS_URL: c.url,
    CHAOS_DIR: effectsDir,
    CHAOS_SLEEP: values.sleep!,
    PGCONNECT_TIMEOUT: "3",
  };
  const procs: Proc[] = [];
  let server: Deno.ChildProcess | null = null;
  const stopServer = async (signal: Deno.Signal) => {
    if (!server) return;
    try {
      server.kill(signal);
    } catch { /* gone */ }
    await server.status;
    server = null;
  };
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const startServer = () => {
    server = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "web/main.ts", "--port", String(port)],
      env: { ...c.env, DRIFTFLOW_TOKEN: TOKEN, DRIFTFLOW_SERVE_MODEL: "flights_delay" },
      stdout: "null",
      stderr: "null",
    }).spawn();
  };
  let loadOn = true;
  const acknowledged: string[] = [];
  let requests = 0, failures = 0;
  const kills: { at: number; tasks: string[] }[] = [];
  let serverKills = 0, pgRestarts = 0, workerKills = 0;
  try {
    await c.store.db.exec(`create table chaos_effects (
      id bigserial primary key, task text not null, try int not null, pid int not null,
      at timestamptz not null default clock_timestamp())`);
    say("training and registering a small model for the server");
    const data = fakeFlights(2000, 1);
    const table = Object.fromEntries([...FEATURES, "late"].map((k) => [k, data[k]]));
    const { model } = trainModel(table, { target: "late", seed: 1, params: { nEstimators: 20 } });
    const registry = await ModelRegistry.open(c.store.db);
    const v = await registerModel(
      { registry, artifacts: openArtifactStore(c.env.DRIFTFLOW_HOME, () => undefined) },
      model,
      { name: "flights_delay", fingerprint: await fingerprintTable(table) },
    );
    await registry.setAlias("flights_delay", "champion", v.version, { reason: "chaos bench" });

    const scheduler = c.spawn("scheduler", [
      "scheduler",
      "--tick-ms",
      "200",
      "--zombie-after-s",
      "5",
    ], env);
    procs.push(scheduler);
    let workerNo = 0;
    const workers: Proc[] = [];
    const startWorker = () => {
      const w = c.spawn(`worker-${workerNo++}`, [
        "worker",
        "--concurrency",
        "8",
        "--heartbeat-ms",
        "1000",
        "--poll-ms",
        "200",
      ], env);
      procs.push(w);
      workers.push(w);
    };
    for (let i = 0; i < 3; i++) startWorker();
    startServer();
    await waitForHttp(`${base}/health`, async (res) => Boolean((await res.json()).model), 60_000);

    // The load: 4 clients, one row per request, 20 ms apart; ids of answers 200 are kept.
    const row = { day_of_week: 4, hour: 17, distance: 1200, origin: "ORD", destination: "SEA" };
    const client = async () => {
      while (loadOn) {
        requests++;
        try {
          const res = await fetch(`${base}/api/v1/predict`, {
            method: "POST",
            headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
            body: JSON.stringify({ rows: [row] }),
            signal: AbortSignal.timeout(5000),
          });
          if (res.status === 200) {
            const body = await res.json() as { results: { id: string }[] };
            for (const r of body.results) acknowledged.push(r.id);
          } else {
            failures++;
            await res.body?.cancel();
          }
        } catch {
          failures++;
        }
        await sleep(20);
      }
    };
    const clients = Array.from({ length: 4 }, client);

    const { dags } = await loadDags(dagsDir);
    const { id: runId } = await createDagRun(c.store, dags.get("chaos")!, {
      executor: "distributed",
    });
    await new TaskQueue(c.store.db).notify(CHANNEL_SCHEDULER, String(runId));
    say(`run ${runId}: ${LAYERS * WIDTH} command tasks, 3 workers, the server under load`);

    const runState = async () => (await c.store.getRun(runId).catch(() => null))?.state;
    const done = async () => {
      const s = await runState();
      return s === "success" || s === "failed";
    };
    const successes = async () => {
      const [{ n }] = await c.store.db.query<{ n: number }>(
        "select count(*)::int as n from task_instances where run_id = $1 and state = 'success'",
        [runId],
      );
      return n;
    };

    // The faults, on a schedule from the start of the run.
    const t0 = Date.now();
    const plan: { at: number; what: string }[] = [
      { at: 8, what: "pg" },
      { at: 16, what: "server" },
      { at: 26, what: "pg" },
    ];
    for (let s = 5; s < 200; s += killEvery) plan.push({ at: s, what: "worker" });
    plan.sort((a, b) => a.at - b.at);
    let lastReport = 0;
    for (const step of plan) {
      while (Date.now() - t0 < step.at * 1000 && Date.now() < deadline && !await done()) {
        await sleep(200);
        if (Date.now() - lastReport > 5000) {
          lastReport = Date.now();
          say(`tasks done ${await successes().catch(() => "?")}/${LAYERS * WIDTH}`);
        }
      }
      if (Date.now() >= deadline || await done()) break;
      if (step.what === "pg") {
        say("restarting PostgreSQL (down 1 s)");
        await pg.restart({ downMs: 1000 });
        pgRestarts++;
      } else if (step.what === "server") {
        say("kill -9 of the server, and a new one");
        await stopServer("SIGKILL");
        serverKills++;
        startServer();
      } else {
        // A worker that is running tasks right now.
        const running = await c.store.db.query<{ worker_id: string; task_id: string }>(
          "select worker_id, task_id from task_instances where run_id = $1 and state = 'running' and worker_id is not null",
          [runId],
        ).catch(() => []);
        const pids = new Set(running.map((r) => Number(r.worker_id.split(":")[1])));
        const busy = workers.filter((w) => pids.has(w.child.pid));
        const victim = busy[Math.floor(Math.random() * busy.length)];
        if (!victim) continue;
        const tasks = running.filter((r) => Number(r.worker_id.split(":")[1]) === victim.child.pid)
          .map((r) => r.task_id);
        say(`kill -9 of ${victim.name} (running ${tasks.length} tasks), and a new worker`);
        kills.push({ at: Date.now() / 1000, tasks });
        await victim.kill("SIGKILL");
        workers.splice(workers.indexOf(victim), 1);
        workerKills++;
        startWorker();
      }
    }
    while (!await done() && Date.now() < deadline) {
      await sleep(500);
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        say(`tasks done ${await successes().catch(() => "?")}/${LAYERS * WIDTH}`);
      }
    }
    const elapsed = (Date.now() - t0) / 1000;
    loadOn = false;
    await Promise.all(clients);
    // The server stops as a deploy would stop it; what it acknowledged must be stored by now.
    await stopServer("SIGTERM");

    // ---- counting ----
    for (const p of procs) {
      for (const line of (await p.output().catch(() => "")).split("\n")) {
        if (line.includes("outbox:")) say(`${p.name}: ${line.slice(25, 260)}`);
      }
    }
    const state = await runState();
    const tis = await c.store.taskInstances(runId);
    const tries = await c.store.tries(runId);
    const effects = await c.store.db.query<{ task: string; n: number }>(
      "select task, count(*)::int as n from chaos_effects group by task",
    );
    const effectCount = new Map(effects.map((e) => [e.task, e.n]));
    const successTries = new Map<string, number>();
    for (const t of tries) {
      if (t.state === "success") successTries.set(t.taskId, (successTries.get(t.taskId) ?? 0) + 1);
    }
    let lost = 0, duplicates = 0, overlapping = 0, recovery = 0, leaked = 0;
    const execs = new Map<string, Execution[]>();
    for (const ti of tis) {
      if (ti.state !== "success" || !effectCount.get(ti.taskId)) {
        lost++;
        say(
          `lost ${ti.taskId} (${ti.state}): ` + tries.filter((t) => t.taskId === ti.taskId)
            .map((t) =>
              `try ${t.tryNumber} ${t.state} ${(t.error ?? "").split("\n")[0].slice(0, 120)}`
            )
            .join("; "),
        );
      }
      const ex = await executions(effectsDir, ti.taskId);
      execs.set(ti.taskId, ex);
      const completed = ex.filter((e) => e.how === "end").length;
      // A side effect beyond the completed executions' came from a try killed mid-way (after its
      // insert, before it exited): at-least-once, reported apart.
      leaked += Math.max(0, (effectCount.get(ti.taskId) ?? 0) - completed);
      if (completed > 1 || (successTries.get(ti.taskId) ?? 0) > 1) {
        duplicates++;
        say(
          `duplicate ${ti.taskId}: ${effectCount.get(ti.taskId)} side effects; ` +
            JSON.stringify(await executions(effectsDir, ti.taskId)) + " " +
            tries.filter((t) => t.taskId === ti.taskId).map((t) =>
              `try ${t.tryNumber} ${t.state} ${(t.error ?? "").split("\n")[0].slice(0, 100)}`
            ).join("; "),
        );
      }
      for (let i = 1; i < ex.length; i++) {
        const prevEnd = ex[i - 1].end;
        if (prevEnd === null || ex[i].start < prevEnd) {
          overlapping++;
          say(`overlap in ${ti.taskId}: ${JSON.stringify(ex)}`);
          break;
        }
      }
    }
    for (const k of kills) {
      for (const task of k.tasks) {
        const next = execs.get(task)?.find((e) => e.start > k.at);
        if (next) recovery = Math.max(recovery, next.start - k.at);
      }
    }
    const [{ n: stored }] = acknowledged.length
      ? await c.store.db.query<{ n: number }>(
        "select count(*)::int as n from predictions where id = any($1::text[])",
        [acknowledged],
      )
      : [{ n: 0 }];
    const ackLost = acknowledged.length - stored;
    const runsFailed = state === "failed" ? 1 : 0;
    const zombies = tries.filter((t) => t.error?.startsWith("zombie:")).length;

    console.log(
      `\nchaos on PostgreSQL 15 (own server), ${
        LAYERS * WIDTH
      } command tasks of ${values.sleep} s, ` +
        `3 workers × 8, default retries (0); 2 shared CPU cores`,
    );
    console.log(
      `  faults: ${workerKills} worker kill -9, ${pgRestarts} PostgreSQL restarts, ` +
        `${serverKills} server kill -9; ${zombies} tries reaped as zombies`,
    );
    console.log(`  the run: ${state ?? "unfinished"} after ${elapsed.toFixed(1)} s`);
    console.log(
      `  predictions: ${requests} requests, ${acknowledged.length} answered 200, ` +
        `${failures} failed or refused, ${stored} of the 200s stored`,
    );
    console.log(
      `  tasks lost ${lost}, duplicate successes ${duplicates}, overlapping tries ${overlapping}, ` +
        `acknowledged predictions lost ${ackLost}, runs failed ${runsFailed}, ` +
        `worst recovery ${recovery.toFixed(1)} s   (every count must be 0)`,
    );
    console.log(
      `  side effects of tries killed mid-way (after their insert, before they exited): ${leaked}` +
        " (at-least-once: a command killed mid-way runs again)\n",
    );
    printFigures([
      { metric: "chaos.tasks_lost", value: lost, unit: "tasks" },
      { metric: "chaos.duplicate_successes", value: duplicates, unit: "tasks" },
      { metric: "chaos.overlapping_tries", value: overlapping, unit: "tasks" },
      { metric: "chaos.acknowledged_predictions_lost", value: ackLost, unit: "predictions" },
      { metric: "chaos.runs_failed", value: runsFailed, unit: "runs" },
      { metric: "chaos.recovery_s", value: recovery, unit: "s" },
      { metric: "chaos.killed_try_side_effects", value: leaked, unit: "side effects" },
    ]);
  } finally {
    loadOn = false;
    await stopServer("SIGKILL");
    if (values.keep) {
      await new Deno.Command("cp", { args: ["-r", c.env.DRIFTFLOW_HOME, `${dir}/home`] }).output();
    }
    await c.close().catch((e) => say(`cleanup: ${e}`));
    await pg.stop();
    if (values.keep) say(`kept ${dir}`);
    else await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
