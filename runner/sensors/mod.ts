/**
 * Sensors: `.sensor(id, { poke, interval, timeout, mode })` on a DAG, and ready-made pokes for a
 * local path, an S3 prefix and another DAG's task.
 *
 * @example
 * ```ts
 * import { dag } from "../dag.ts";
 * import { pathExists } from "./mod.ts";
 * dag({ id: "d" }).sensor("wait", { poke: pathExists("/tmp/flag"), interval: "5s", mode: "reschedule" });
 * ```
 */
export { pathExists } from "./file.ts";
export { s3PrefixExists, type S3PrefixOptions } from "./s3.ts";
export { externalTask, type ExternalTaskOptions } from "./external_task.ts";
export { SensorTimeout } from "../sensor_poke.ts";
