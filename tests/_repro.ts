import { startPostgres } from "./pg_server.ts";
import postgres from "postgres";
const pg = await startPostgres();
try {
  const sql = postgres(pg.url, { max: 1 });
  await sql`create table chaos_effects (id bigserial primary key, task text, try int, pid int)`;
  await sql.end();
  const dir = await Deno.makeTempDir();
  const SCRIPT = await Deno.readTextFile("/tmp/scr.sh");
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `
      import { runCommand } from "${new URL("../runner/command_task.ts", import.meta.url).href}";
      const sig = new AbortController().signal;
      await Promise.all([1,2,3,4].map((i) => runCommand(["bash", "-c", ${
        JSON.stringify(SCRIPT)
      }, "--", "t" + i, "1"], {signal: sig, log: (s, l) => console.log(s, l)}).catch(e => console.log(String(e)))));
    `,
    ],
    env: { CHAOS_DIR: dir, CHAOS_SLEEP: "1.2", CHAOS_URL: pg.url, PGCONNECT_TIMEOUT: "3" },
  }).spawn();
  await new Promise((r) => setTimeout(r, 800));
  await pg.down("fast");
  await new Promise((r) => setTimeout(r, 1000));
  await pg.up();
  await new Promise((r) => setTimeout(r, Number(Deno.args[0] ?? 100)));
  try {
    child.kill("SIGKILL");
  } catch {
    console.log("already done");
  }
  await child.status;
  await new Promise((r) => setTimeout(r, 4000));
  for (let i = 1; i <= 4; i++) {
    console.log(await Deno.readTextFile(`${dir}/t${i}.log`).catch(() => "none"));
  }
  const s2 = postgres(pg.url, { max: 1 });
  console.log(await s2`select task, count(*) from chaos_effects group by task`);
  await s2.end();
} finally {
  await pg.stop();
}
