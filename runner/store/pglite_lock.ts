/**
 * One process per PGlite data folder: PGlite is PostgreSQL in this process's memory, so a second
 * process opening the same folder would write behind the first one's back and lose runs. The owner
 * holds an exclusive OS file lock (flock) on `<folder>.lock` beside the folder's real path (symlinks
 * followed, so an alias cannot bypass it) and writes who it is there (pid,
 * command, since when). The kernel frees the lock when the owner dies — `kill -9` included — so a
 * stale lock file (its pid dead) is simply taken over: nothing to clean up, no race.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lockPgliteFolder, PgliteLockedError } from "./pglite_lock.ts";
 * const dir = await Deno.makeTempDir();
 * const lock = await lockPgliteFolder(`${dir}/pgdata`);
 * try {
 *   await assert.rejects(lockPgliteFolder(`${dir}/pgdata`), PgliteLockedError); // taken
 * } finally {
 *   lock.release();
 * }
 * (await lockPgliteFolder(`${dir}/pgdata`)).release(); // free again
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** Who holds a PGlite folder, as written in its lock file. */
export const LockOwner = z.object({
  pid: z.number().int(),
  command: z.string(),
  hostname: z.string(),
  since: z.string(),
});
export type LockOwner = z.infer<typeof LockOwner>;

/** The folder is open in another process: the message names it and says what to do. */
export class PgliteLockedError extends Error {
  override name = "PgliteLockedError";
  constructor(readonly folder: string, readonly owner: LockOwner | null) {
    super(lockedMessage(folder, owner));
  }
}

function lockedMessage(folder: string, owner: LockOwner | null): string {
  const who = owner
    ? `process ${owner.pid} (${owner.command}) on ${owner.hostname}, since ${owner.since}`
    : "another process (its lock file does not say which)";
  const isServer = owner !== null && /web\/main\.ts|\bserve\b/.test(owner.command);
  return `the PGlite database ${folder} is in use by ${who}; PGlite allows one process per ` +
    `folder. ${
      isServer
        ? "That is the web server (deno task serve): trigger runs through its UI or API " +
          "(POST /api/v1/dags/<dag_id>/runs), or stop it first, or "
        : "Wait for it to finish or stop it, or "
    }set DATABASE_URL to a PostgreSQL server that every process shares.`;
}

/** The lock file of a PGlite folder: `<folder>.lock` beside it (the path as given; see realFolder). */
export function lockFileOf(folder: string): string {
  const abs = resolve(folder);
  return join(dirname(abs), `${basename(abs)}.lock`);
}

/**
 * The folder's real path, symlinks followed (`resolve` does not follow them, so a symlinked alias
 * of the folder would get a lock file of its own and bypass the owner's). A folder not there yet
 * resolves through its nearest existing ancestor.
 */
export async function realFolder(folder: string): Promise<string> {
  const abs = resolve(folder);
  try {
    return await Deno.realPath(abs);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    const parent = dirname(abs);
    return parent === abs ? abs : join(await realFolder(parent), basename(abs));
  }
}

/** This process, as the lock file shows it. */
function self(): LockOwner {
  const main = Deno.mainModule.startsWith("file:")
    ? relative(Deno.cwd(), fileURLToPath(Deno.mainModule))
    : Deno.mainModule;
  return {
    pid: Deno.pid,
    command: [main, ...Deno.args].join(" ").slice(0, 300),
    hostname: Deno.hostname(),
    since: new Date().toISOString(),
  };
}

/** Reads who holds the lock (null when the file says nothing readable). */
export async function readLockOwner(folder: string): Promise<LockOwner | null> {
  try {
    const path = lockFileOf(await realFolder(folder));
    const parsed = LockOwner.safeParse(JSON.parse(await Deno.readTextFile(path)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** A held lock; `release` ends it (closing the file frees the OS lock). */
export interface PgliteLock {
  readonly file: string;
  release(): void;
}

/** Takes the folder's lock, or throws a PgliteLockedError naming the process that holds it. */
export async function lockPgliteFolder(folder: string): Promise<PgliteLock> {
  // create the folder, then lock beside its real path: every alias of it meets the same lock
  await Deno.mkdir(folder, { recursive: true });
  const path = lockFileOf(await Deno.realPath(folder));
  const file = await Deno.open(path, { read: true, write: true, create: true });
  let locked = false;
  try {
    locked = await file.tryLock(true);
  } catch (e) {
    file.close();
    throw e;
  }
  if (!locked) {
    file.close();
    throw new PgliteLockedError(folder, await readLockOwner(folder));
  }
  // Ours now (a previous owner that died left its record: overwrite it).
  await file.truncate(0);
  await file.write(new TextEncoder().encode(JSON.stringify(self()) + "\n"));
  let released = false;
  return {
    file: path,
    release() {
      if (released) return;
      released = true;
      try {
        file.close(); // frees the flock; the file stays (removing it could race a new owner)
      } catch { /* closed already */ }
    },
  };
}
