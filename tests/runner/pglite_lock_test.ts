/**
 * The PGlite folder lock follows symlinks: an alias of a locked folder meets the same lock (before,
 * `resolve` kept the alias's path and gave it a lock file of its own). The second holder here is a
 * real process, as in production.
 */
import assert from "node:assert/strict";
import { lockPgliteFolder, PgliteLockedError, realFolder } from "../../runner/store/pglite_lock.ts";

Deno.test("a symlinked alias of a locked PGlite folder is refused, in this process and another", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/real/pgdata`, { recursive: true });
    await Deno.symlink(`${dir}/real/pgdata`, `${dir}/alias`);
    await Deno.symlink(`${dir}/real`, `${dir}/parent-alias`);
    const lock = await lockPgliteFolder(`${dir}/real/pgdata`);
    try {
      assert.equal(lock.file, `${await Deno.realPath(dir)}/real/pgdata.lock`);
      for (const alias of [`${dir}/alias`, `${dir}/parent-alias/pgdata`]) {
        await assert.rejects(
          () => lockPgliteFolder(alias),
          (e: unknown) => e instanceof PgliteLockedError && e.owner?.pid === Deno.pid,
          alias,
        );
      }
      // another process trying the alias is refused too
      const code = `import { lockPgliteFolder } from "${
        new URL("../../runner/store/pglite_lock.ts", import.meta.url).href
      }";
        try { await lockPgliteFolder(${JSON.stringify(`${dir}/alias`)}); Deno.exit(0); }
        catch (e) { console.error(String(e)); Deno.exit(3); }`;
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["eval", code],
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(60_000),
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 3, stderr);
      assert.match(stderr, new RegExp(`in use by process ${Deno.pid}`));
    } finally {
      lock.release();
    }
    // released: the alias can take it, and it is the same lock file
    const again = await lockPgliteFolder(`${dir}/alias`);
    assert.equal(again.file, `${await Deno.realPath(dir)}/real/pgdata.lock`);
    again.release();
    // a folder not there yet resolves through its existing ancestor
    assert.equal(
      await realFolder(`${dir}/alias/sub`),
      `${await Deno.realPath(dir)}/real/pgdata/sub`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
