/**
 * Alert channels: the log (stderr), a webhook (HTTP POST of the alert as JSON, retried with backoff
 * on errors and 5xx answers) and e-mail over SMTP (nodemailer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openChannel } from "./channels.ts";
 * // a webhook receiver on this machine (any free port)
 * const received: { key: string }[] = [];
 * const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
 *   received.push(await req.json());
 *   return new Response(null, { status: 204 });
 * });
 * try {
 *   const hook = openChannel({
 *     type: "webhook",
 *     url: `http://127.0.0.1:${server.addr.port}/hook`,
 *     headers: {},
 *     retries: 3,
 *     retryDelay: 500,
 *     timeout: 5000,
 *   });
 *   await hook.send({
 *     id: 1,
 *     at: new Date().toISOString(),
 *     level: "WARNING",
 *     key: "drift:flights",
 *     title: "Drift",
 *     message: "3 of 9 columns drifted",
 *     details: {},
 *   });
 *   assert.equal(received[0].key, "drift:flights");
 * } finally {
 *   await server.shutdown();
 * }
 * ```
 */
// @ts-types="npm:@types/nodemailer@8.0.2"
import nodemailer from "nodemailer";
import type { z } from "zod";
import type { Alert, ChannelConfig } from "./types.ts";

/** A parsed alert as channels receive it. */
export type SentAlert = z.output<typeof Alert> & { id: number; at: string };

/** Somewhere alerts go. */
export interface Channel {
  readonly name: string;
  send(alert: SentAlert): Promise<void>;
}

function logChannel(): Channel {
  return {
    name: "log",
    send(alert) {
      console.error(
        `${alert.at} ALERT ${alert.level} [${alert.key}] ${alert.title}: ${alert.message}`,
      );
      return Promise.resolve();
    },
  };
}

function webhookChannel(c: Extract<ChannelConfig, { type: "webhook" }>): Channel {
  return {
    name: `webhook ${new URL(c.url).host}`,
    async send(alert) {
      let last = "";
      for (let attempt = 0; attempt <= c.retries; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, c.retryDelay * 2 ** (attempt - 1)));
        try {
          const res = await fetch(c.url, {
            method: "POST",
            headers: { "content-type": "application/json", ...c.headers },
            body: JSON.stringify(alert),
            signal: AbortSignal.timeout(c.timeout),
          });
          await res.body?.cancel();
          if (res.ok) return;
          last = `HTTP ${res.status}`;
          if (res.status < 500 && res.status !== 429) break;
        } catch (e) {
          last = (e as Error).message;
        }
      }
      throw new Error(`webhook ${c.url} failed after ${c.retries + 1} attempt(s): ${last}`);
    },
  };
}

function emailChannel(c: Extract<ChannelConfig, { type: "email" }>): Channel {
  const transport = nodemailer.createTransport({
    host: c.host,
    port: c.port,
    secure: c.secure,
    auth: c.user ? { user: c.user, pass: c.password ?? "" } : undefined,
    tls: { rejectUnauthorized: c.secure },
  });
  return {
    name: `email ${c.host}:${c.port}`,
    async send(alert) {
      await transport.sendMail({
        from: c.from,
        to: c.to.join(", "),
        subject: `[Driftflow ${alert.level}] ${alert.title}`,
        text: `${alert.message}\n\nkey: ${alert.key}\n${
          alert.dagId ? `dag: ${alert.dagId}\n` : ""
        }${alert.runId ? `run: ${alert.runId}\n` : ""}details: ${
          JSON.stringify(alert.details, null, 2)
        }\n`,
      });
    },
  };
}

/** The channel a configuration describes. */
export function openChannel(config: ChannelConfig): Channel {
  switch (config.type) {
    case "log":
      return logChannel();
    case "webhook":
      return webhookChannel(config);
    case "email":
      return emailChannel(config);
  }
}

export type { Alert };
