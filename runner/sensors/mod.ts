/**
 * Sensors: `.sensor(id, { poke, interval, timeout, mode })` on a DAG, and ready-made pokes for a
 * local path, an S3 prefix and another DAG's task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalArtifactStore } from "../artifacts/local.ts";
 * import { dag } from "../dag.ts";
 * import { Executor } from "../executor.ts";
 * import { createDagRun } from "../runs.ts";
 * import { openStore } from "../store/open.ts";
 * import { pathExists } from "./mod.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/flag`, "ready");
 * const d = dag({ id: "d" })
 *   .sensor("wait", { poke: pathExists(`${dir}/flag`), interval: "5s", mode: "reschedule" })
 *   .task("use", { deps: ["wait"], run: (ctx) => ctx.xcom("wait").length });
 * const store = await openStore({ memory: true });
 * try {
 *   const executor = new Executor({ store, artifacts: new LocalArtifactStore(dir) });
 *   const result = await executor.runToEnd(d, (await createDagRun(store, d)).id);
 *   assert.equal(result.state, "success"); // the flag was there at the first poke
 * } finally {
 *   await store.close();
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export { pathExists } from "./file.ts";
export { s3PrefixExists, type S3PrefixOptions } from "./s3.ts";
export { externalTask, type ExternalTaskOptions } from "./external_task.ts";
export { SensorTimeout } from "../sensor_poke.ts";
