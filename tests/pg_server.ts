/**
 * A PostgreSQL server of a test's own: a fresh data directory (initdb) and a free port on
 * 127.0.0.1, so a test can restart or stop it without touching the machine's shared server.
 * Binaries come from `PG_BIN` (default /usr/lib/postgresql/15/bin); as root the server runs as the
 * `postgres` user (initdb refuses root).
 *
 * @example
 * ```ts
 * import { startPostgres } from "./pg_server.ts";
 * const pg = await startPostgres();
 * try {
 *   await pg.restart(); // fast shutdown, then start again on the same port and data
 * } finally {
 *   await pg.stop();
 * }
 * ```
 */
import { freePort } from "./net.ts";

/** A running server and how to restart or stop it. */
export interface PgServer {
  /** postgres://postgres@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown: clients are disconnected), waits `downMs`, starts it again. */
  restart(opts?: { downMs?: number }): Promise<void>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

const PG_BIN = Deno.env.get("PG_BIN") ?? "/usr/lib/postgresql/15/bin";
const isRoot = Deno.uid() === 0;

/** argv that runs `bin` as the postgres user when we are root. */
function asPostgres(bin: string, args: string[]): [string, string[]] {
  return isRoot
    ? ["setpriv", ["--reuid=postgres", "--regid=postgres", "--clear-groups", "--", bin, ...args]]
    : [bin, args];
}

async function run(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = asPostgres(`${PG_BIN}/${bin}`, args);
  const out = await new Deno.Command(cmd, { args: argv, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${bin} ${args.join(" ")} failed (exit ${out.code}): ${text.slice(-2000)}`);
  }
}

/** Starts a new server; resolves once it accepts connections. */
export async function startPostgres(): Promise<PgServer> {
  const dataDir = await Deno.makeTempDir({ prefix: "driftflow-pg-" });
  if (isRoot) {
    const pw = await new Deno.Command("id", { args: ["-u", "postgres"], stdout: "piped" }).output();
    const gid = await new Deno.Command("id", { args: ["-g", "postgres"], stdout: "piped" })
      .output();
    await Deno.chown(
      dataDir,
      Number(new TextDecoder().decode(pw.stdout)),
      Number(new TextDecoder().decode(gid.stdout)),
    );
  }
  await run("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "-N"]);
  const port = freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const logFile = `${dataDir}/server.log`;
  const start = () =>
    run("pg_ctl", [
      "-D",
      dataDir,
      "-l",
      logFile,
      "-w",
      "-t",
      "60",
      "-o",
      `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      "start",
    ]);
  const stopServer = () => run("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "-t", "60", "stop"]);
  await start();
  let stopped = false;
  return {
    url,
    port,
    dataDir,
    async restart(opts = {}) {
      await stopServer();
      if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
      await start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer().catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}
