/**
 * Alerts: what they say, how loud they are, and where they go — as zod schemas, so a DAG's conf can
 * carry an alert configuration.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AlertConfig } from "./types.ts";
 * const config = AlertConfig.parse({
 *   channels: [{ type: "webhook", url: "http://127.0.0.1:9000/hook" }],
 *   cooldown: "30m",
 * });
 * assert.equal(config.cooldown, 1_800_000); // durations become milliseconds
 * assert.equal(config.minLevel, "INFO"); // defaults filled in
 * assert.throws(() => AlertConfig.parse({ channels: [{ type: "webhook", url: "not a url" }] }));
 * ```
 */
import { z } from "zod";
import { DurationSchema } from "../../runner/duration.ts";

export const AlertLevel = z.enum(["INFO", "WARNING", "CRITICAL"]);
export type AlertLevel = z.infer<typeof AlertLevel>;

/** How loud each level is, for comparisons. */
export const LEVEL_RANK: Record<AlertLevel, number> = { INFO: 0, WARNING: 1, CRITICAL: 2 };

/** One alert. `key` names the episode (e.g. "drift:flights"): the cooldown is per key. */
export const Alert = z.object({
  level: AlertLevel,
  key: z.string().min(1),
  title: z.string().min(1),
  message: z.string(),
  dagId: z.string().optional(),
  runId: z.number().int().optional(),
  details: z.record(z.string(), z.unknown()).default({}),
});
export type Alert = z.input<typeof Alert>;

/** Where alerts go. */
export const ChannelConfig = z.discriminatedUnion("type", [
  z.object({ type: z.literal("log") }),
  z.object({
    type: z.literal("webhook"),
    url: z.url(),
    headers: z.record(z.string(), z.string()).default({}),
    retries: z.number().int().min(0).default(3),
    retryDelay: DurationSchema.default(500),
    timeout: DurationSchema.default(5000),
  }),
  z.object({
    type: z.literal("email"),
    host: z.string(),
    port: z.number().int().positive().default(25),
    secure: z.boolean().default(false),
    user: z.string().optional(),
    password: z.string().optional(),
    from: z.string(),
    to: z.array(z.string()).min(1),
  }),
]);
export type ChannelConfig = z.infer<typeof ChannelConfig>;

/** An alert configuration: channels, the quietest level sent, and the cooldown per key. */
export const AlertConfig = z.object({
  channels: z.array(ChannelConfig).default([{ type: "log" }]),
  minLevel: AlertLevel.default("INFO"),
  /** Within this time after an alert of a key, alerts of that key at the same or a lower level are held back. */
  cooldown: DurationSchema.default(3_600_000),
});
export type AlertConfig = z.input<typeof AlertConfig>;
