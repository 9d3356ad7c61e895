/**
 * A PostgreSQL server of a test's own: `initdb` into a temporary folder and `postgres` on a free
 * port of 127.0.0.1, so a test can stop, kill and restart the database without touching the
 * machine's shared server on 5432. Every wait is bounded; `stop()` (call it in `finally`) ends the
 * server (SIGKILL if a fast shutdown does not finish in time) and removes the folder.
 *
 * As root (initdb refuses root) the binaries run as the `postgres` user through `setpriv`, which
 * execs them in place, so the pid we hold is the server's. The binaries come from
 * `DRIFTFLOW_PG_BIN` or /usr/lib/postgresql/15/bin. fsync is off: the tests kill the server
 * process, not the machine, and a process crash loses nothing PostgreSQL acknowledged either way.
 *
 * @example
 * ```ts
 * import { startPostgres } from "./pg_server.ts";
 * const pg = await startPostgres();
 * try {
 *   // ... use pg.url (database "postgres", user "postgres", trust auth) ...
 *   await pg.restart({ downMs: 200 });
 * } finally {
 *   await pg.stop();
 * }
 * ```
 */
import { freePort } from "./net.ts";

/** How to take the server down: "fast" (SIGINT, clean), "immediate" (SIGQUIT), "kill" (SIGKILL). */
export type DownMode = "fast" | "immediate" | "kill";

export interface PgServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  /** The data folder (inside a temporary folder that stop() removes). */
  dataDir: string;
  /** The running server's pid, or undefined while it is down. */
  pid(): number | undefined;
  /** Takes the server down (default "fast") and waits until the process has exited. */
  down(mode?: DownMode): Promise<void>;
  /** Starts it again on the same port and waits until it accepts connections. */
  up(): Promise<void>;
  /** down(mode), wait `downMs` (default 0), up(). */
  restart(opts?: { mode?: DownMode; downMs?: number }): Promise<void>;
  /** Ends the server and removes its folder; safe to call twice. */
  stop(): Promise<void>;
  /** The server's log so far (for failure messages). */
  log(): Promise<string>;
}

export interface StartOptions {
  /** Bound on initdb and on each start-up (default 60 s). */
  timeoutMs?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string>;
}

const BIN = Deno.env.get("DRIFTFLOW_PG_BIN") ?? "/usr/lib/postgresql/15/bin";

function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Command + args, run as the postgres user when we are root. */
function asServerUser(cmd: string, args: string[]): { cmd: string; args: string[] } {
  if (!isRoot()) return { cmd, args };
  return {
    cmd: "setpriv",
    args: ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", cmd, ...args],
  };
}

async function owner(): Promise<{ uid: number; gid: number } | undefined> {
  if (!isRoot()) return undefined;
  const out = await new Deno.Command("id", { args: ["-u", "postgres"] }).output();
  const gid = await new Deno.Command("id", { args: ["-g", "postgres"] }).output();
  if (!out.success || !gid.success) {
    throw new Error("running as root but there is no `postgres` user to run initdb/postgres as");
  }
  return {
    uid: Number(new TextDecoder().decode(out.stdout).trim()),
    gid: Number(new TextDecoder().decode(gid.stdout).trim()),
  };
}

async function run(cmd: string, args: string[], timeoutMs: number): Promise<void> {
  const c = asServerUser(cmd, args);
  const out = await new Deno.Command(c.cmd, {
    args: c.args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  if (!out.success) {
    const dec = new TextDecoder();
    throw new Error(
      `${cmd} ${args.join(" ")} failed (exit ${out.code}): ${dec.decode(out.stderr)}${
        dec.decode(out.stdout)
      }`,
    );
  }
}

/** initdb into a new temporary folder and start `postgres` on a free port. */
export async function startPostgres(opts: StartOptions = {}): Promise<PgServer> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const root = await Deno.makeTempDir({ prefix: "driftflow-pg-" });
  const dataDir = `${root}/data`;
  const logFile = `${root}/server.log`;
  const who = await owner();
  if (who) await Deno.chown(root, who.uid, who.gid);
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  let exited: Promise<Deno.CommandStatus> | undefined;
  let stopped = false;

  const settings: Record<string, string> = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: root,
    fsync: "off",
    full_page_writes: "off",
    max_connections: "200",
    ...opts.settings,
  };

  async function up(): Promise<void> {
    if (child) return;
    const c = asServerUser(`${BIN}/postgres`, [
      "-D",
      dataDir,
      ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    ]);
    // The server writes to its log file through a shell redirect, then execs (same pid).
    child = new Deno.Command("bash", {
      args: ["-c", 'exec "$@" >>"$LOG" 2>&1', "--", c.cmd, ...c.args],
      env: { LOG: logFile },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const mine = child;
    exited = mine.status;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const state = await Promise.race([
        mine.status.then(() => "exited" as const),
        ready(port).then((ok) => ok ? "ready" as const : "not yet" as const),
      ]);
      if (state === "ready") return;
      if (state === "exited") {
        child = undefined;
        throw new Error(`postgres exited during start-up on port ${port}:\n${await log()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await down("kill");
    throw new Error(`postgres did not accept connections within ${timeoutMs} ms:\n${await log()}`);
  }

  async function down(mode: DownMode = "fast"): Promise<void> {
    const c = child;
    if (!c) return;
    const signal: Deno.Signal = mode === "fast"
      ? "SIGINT"
      : mode === "immediate"
      ? "SIGQUIT"
      : "SIGKILL";
    try {
      c.kill(signal);
    } catch { /* already gone */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => (timer = setTimeout(() => r("late"), 15_000)));
    const outcome = await Promise.race([exited!.then(() => "done" as const), late]);
    clearTimeout(timer);
    if (outcome === "late") {
      try {
        c.kill("SIGKILL");
      } catch { /* gone */ }
      await exited;
    }
    child = undefined;
    if (mode === "kill") await killOrphans();
  }

  /** After SIGKILL of the postmaster its backends linger a moment; wait until the port is free. */
  async function killOrphans(): Promise<void> {
    const pidFile = `${dataDir}/postmaster.pid`;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        const conn = await Deno.connect({ hostname: "127.0.0.1", port });
        conn.close();
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await Deno.remove(pidFile).catch(() => {});
  }

  async function log(): Promise<string> {
    return await Deno.readTextFile(logFile).catch(() => "(no log)");
  }

  try {
    await run(`${BIN}/initdb`, [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--no-sync",
    ], timeoutMs);
    await up();
  } catch (e) {
    await down("kill").catch(() => {});
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw e;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    pid: () => child?.pid,
    down,
    up,
    async restart({ mode = "fast", downMs = 0 } = {}) {
      await down(mode);
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await up();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await down("fast").catch(() => down("kill"));
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
    log,
  };
}

/** True when the server on `port` accepts connections (pg_isready, bounded). */
async function ready(port: number): Promise<boolean> {
  try {
    const out = await new Deno.Command(`${BIN}/pg_isready`, {
      args: ["-h", "127.0.0.1", "-p", String(port), "-t", "2"],
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(5_000),
    }).output();
    return out.success;
  } catch {
    return false;
  }
}
