const MODULE = new URL("../runner/command_task.ts", import.meta.url).href;
for (const delayMs of [0, 2, 5, 10, 15, 20, 30, 40, 60]) {
  const dir = await Deno.makeTempDir();
  const code = `
      import { runCommand } from "${MODULE}";
      runCommand(["bash", "-c", 'touch "$0/started"; sleep 1.5; touch "$0/finished"', "${dir}"], {
        signal: new AbortController().signal, log: (s, l) => console.log(s, l) });
      setTimeout(() => Deno.kill(Deno.pid, "SIGKILL"), ${delayMs});`;
  await new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "null", stderr: "null" }).output();
  await new Promise((r) => setTimeout(r, 2500));
  const ex = (f: string) => Deno.stat(`${dir}/${f}`).then(() => 1, () => 0);
  console.log(delayMs, await ex("started"), await ex("finished"));
}
