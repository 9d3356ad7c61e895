/**
 * `deno task logs <run_id> <task_id> [--try N]`: the log of a task's try (the latest by default),
 * every map index of a mapped task in turn.
 *
 * @example
 * ```sh
 * deno task logs 12 shell --try 1
 * ```
 */
import { intOption, openStores, parse, UsageError } from "./common.ts";

export const USAGE = "usage: deno task logs <run_id> <task_id> [--try N]";

export async function logsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { try: { type: "string" } });
  if (positionals.length !== 2) throw new UsageError("give a run id and a task id");
  const runId = intOption("run_id", positionals[0], 0);
  const tryNumber = values.try === undefined ? undefined : intOption("try", values.try, 1);
  const { store } = await openStores();
  try {
    const run = await store.getRun(runId);
    if (!run) throw new UsageError(`run ${runId} does not exist`);
    const tis = (await store.taskInstances(runId)).filter((t) => t.taskId === positionals[1]);
    if (tis.length === 0) {
      throw new UsageError(`run ${runId} of dag "${run.dagId}" has no task "${positionals[1]}"`);
    }
    if (tryNumber !== undefined) {
      const made = [
        ...new Set(
          (await store.tries(runId)).filter((t) => t.taskId === positionals[1]).map((t) =>
            t.tryNumber
          ),
        ),
      ].sort((a, b) => a - b);
      if (!made.includes(tryNumber)) {
        console.error(
          `task "${positionals[1]}" in run ${runId} has no try ${tryNumber}; ${
            made.length ? `its tries: ${made.join(", ")}` : "it has not been tried yet"
          }`,
        );
        return 2;
      }
    }
    const lines = await store.logs(runId, positionals[1], tryNumber);
    if (lines.length === 0) {
      console.error(
        `no log lines for ${positionals[1]} in run ${runId}${tryNumber ? ` try ${tryNumber}` : ""}`,
      );
    }
    let mapIndex: number | null = null;
    for (const l of lines) {
      if (l.mapIndex !== mapIndex && (l.mapIndex >= 0 || mapIndex !== null)) {
        console.log(`--- map index ${l.mapIndex}, try ${l.tryNumber} ---`);
      }
      mapIndex = l.mapIndex;
      const tag = l.stream === "log" ? "" : ` ${l.stream}`;
      console.log(`[${l.ts.toISOString()}${tag}] ${l.line}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}
