// The command supervisor with real processes: a runner killed with kill -9 at any moment — even
// before the supervisor has reported the command's process group — leaves no command running.
import assert from "node:assert/strict";

const MODULE = new URL("../../runner/command_task.ts", import.meta.url).href;

async function killedRunner(delayMs: number): Promise<{ started: boolean; finished: boolean }> {
  const dir = await Deno.makeTempDir({ prefix: "driftflow-supervisor-" });
  try {
    const code = `
      import { runCommand } from "${MODULE}";
      runCommand(["bash", "-c", 'touch "$0/started"; sleep 1.5; touch "$0/finished"', "${dir}"], {
        signal: new AbortController().signal,
        log: (s, l) => console.log(s, l),
      });
      setTimeout(() => Deno.kill(Deno.pid, "SIGKILL"), ${delayMs});
    `;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      stdout: "null",
      stderr: "null",
      signal: AbortSignal.timeout(30_000),
    }).output();
    assert.equal(out.signal, "SIGKILL");
    await new Promise((r) => setTimeout(r, 3000));
    const exists = (f: string) => Deno.stat(`${dir}/${f}`).then(() => true, () => false);
    return { started: await exists("started"), finished: await exists("finished") };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test("supervisor: a runner killed as the command starts leaves nothing running", async () => {
  for (const delay of [0, 5, 20, 300]) {
    const r = await killedRunner(delay);
    assert.equal(r.finished, false, `killed after ${delay} ms: the command ran on to its end`);
  }
});

Deno.test("supervisor: a runner killed while the command runs ends it", async () => {
  const r = await killedRunner(800);
  assert.equal(r.started, true);
  assert.equal(r.finished, false);
});
