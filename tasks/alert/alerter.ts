/**
 * Sends alerts through the configured channels and keeps every alert — sent or held back — in the
 * `alerts` table of the store. A cooldown per key stops one drift episode from sending a storm:
 * within it, an alert of the same key at the same or a lower level is stored as suppressed; a
 * louder one (WARNING → CRITICAL) goes out at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { Alerter } from "./alerter.ts";
 * const db = await openPglite(); // in memory
 * try {
 *   const alerter = await Alerter.open(db, { channels: [{ type: "log" }], cooldown: "1h" });
 *   const alert = {
 *     level: "WARNING",
 *     key: "drift:flights",
 *     title: "Drift",
 *     message: "3 of 9 columns drifted",
 *   } as const;
 *   assert.equal((await alerter.send(alert)).suppressed, false); // a line on stderr
 *   const again = await alerter.send(alert); // the same episode within the cooldown
 *   assert.equal(again.suppressed, true);
 *   assert.match(again.reason!, /cooldown/);
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import { migrate, type Migration } from "../../runner/store/migrations.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { tableExists } from "../../runner/store/table_exists.ts";
import { type Channel, openChannel, type SentAlert } from "./channels.ts";
import { Alert, AlertConfig, LEVEL_RANK } from "./types.ts";

const MIGRATIONS: Migration[] = [{
  version: 1,
  name: "alerts",
  sql: `
create table alerts (
  id serial primary key,
  at timestamptz not null default now(),
  level text not null,
  key text not null,
  title text not null,
  message text not null,
  dag_id text,
  run_id int,
  details jsonb not null default '{}',
  suppressed boolean not null default false,
  deliveries jsonb not null default '[]'
);
create index alerts_key_idx on alerts (key, id desc);
create index alerts_at_idx on alerts (at desc);
`,
}];

/** What happened to one alert. */
export interface AlertOutcome {
  id: number;
  suppressed: boolean;
  /** Why it was held back. */
  reason?: string;
  deliveries: { channel: string; ok: boolean; error?: string }[];
}

/** A stored alert. */
export interface StoredAlert extends SentAlert {
  suppressed: boolean;
  deliveries: AlertOutcome["deliveries"];
}

type Row = Record<string, unknown>;

export class Alerter {
  private constructor(
    readonly db: SqlClient,
    readonly config: ReturnType<typeof AlertConfig.parse>,
    readonly channels: Channel[],
    readonly now: () => Date,
  ) {}

  /** An alerter on `db` (its table created when missing) with a validated configuration. */
  static async open(
    db: SqlClient,
    config: AlertConfig = {},
    now = () => new Date(),
  ): Promise<Alerter> {
    await migrate(db, MIGRATIONS, "alerts");
    const parsed = AlertConfig.parse(config);
    return new Alerter(db, parsed, parsed.channels.map(openChannel), now);
  }

  /** Stores the alert and, unless it is too quiet or within its key's cooldown, sends it everywhere. */
  async send(input: Alert): Promise<AlertOutcome> {
    const alert = Alert.parse(input);
    const at = this.now();
    let reason: string | undefined;
    if (LEVEL_RANK[alert.level] < LEVEL_RANK[this.config.minLevel]) {
      reason = `below the minimum level ${this.config.minLevel}`;
    } else {
      const since = new Date(at.getTime() - this.config.cooldown);
      const recent = await this.db.query<{ level: keyof typeof LEVEL_RANK; at: Date }>(
        `select level, at from alerts where key = $1 and not suppressed and at > $2::timestamptz order by id desc limit 1`,
        [alert.key, since.toISOString()],
      );
      const last = recent[0];
      if (last && LEVEL_RANK[alert.level] <= LEVEL_RANK[last.level]) {
        reason = `cooldown: a ${last.level} alert of "${alert.key}" went out at ${
          new Date(last.at).toISOString()
        }`;
      }
    }
    const rows = await this.db.query<{ id: number }>(
      `insert into alerts (at, level, key, title, message, dag_id, run_id, details, suppressed)
       values ($1::timestamptz, $2, $3, $4, $5, $6, $7, $8::text::jsonb, $9) returning id`,
      [
        at.toISOString(),
        alert.level,
        alert.key,
        alert.title,
        alert.message,
        alert.dagId ?? null,
        alert.runId ?? null,
        JSON.stringify(alert.details),
        reason !== undefined,
      ],
    );
    const id = Number(rows[0].id);
    if (reason) return { id, suppressed: true, reason, deliveries: [] };
    const sent: SentAlert = { ...alert, id, at: at.toISOString() };
    const deliveries = await Promise.all(this.channels.map(async (ch) => {
      try {
        await ch.send(sent);
        return { channel: ch.name, ok: true };
      } catch (e) {
        return { channel: ch.name, ok: false, error: (e as Error).message };
      }
    }));
    await this.db.query("update alerts set deliveries = $2::text::jsonb where id = $1", [
      id,
      JSON.stringify(deliveries),
    ]);
    return { id, suppressed: false, deliveries };
  }

  /** The latest alerts, newest first. */
  recent(limit = 50): Promise<StoredAlert[]> {
    return readAlerts(this.db, limit, 0);
  }
}

async function readAlerts(db: SqlClient, limit: number, offset: number): Promise<StoredAlert[]> {
  const rows = await db.query<Row>("select * from alerts order by id desc limit $1 offset $2", [
    limit,
    offset,
  ]);
  return rows.map((r) => ({
    id: Number(r.id),
    at: new Date(String(r.at instanceof Date ? r.at.toISOString() : r.at)).toISOString(),
    level: r.level as StoredAlert["level"],
    key: String(r.key),
    title: String(r.title),
    message: String(r.message),
    dagId: (r.dag_id ?? undefined) as string | undefined,
    runId: r.run_id == null ? undefined : Number(r.run_id),
    details: (r.details ?? {}) as Record<string, unknown>,
    suppressed: Boolean(r.suppressed),
    deliveries: (r.deliveries ?? []) as AlertOutcome["deliveries"],
  }));
}

/**
 * The latest stored alerts (sent or held back), newest first; none before the first alert (a
 * reader: the table is not created).
 */
export async function storedAlerts(
  db: SqlClient,
  { limit = 50, offset = 0 }: { limit?: number; offset?: number } = {},
): Promise<StoredAlert[]> {
  if (!await tableExists(db, "alerts")) return [];
  return await readAlerts(db, limit, offset);
}

/** How many alerts went out (not suppressed), by level; none before the first alert. */
export async function sentAlertCounts(db: SqlClient): Promise<{ level: string; n: number }[]> {
  if (!await tableExists(db, "alerts")) return [];
  const rows = await db.query<{ level: string; n: number }>(
    "select level, count(*)::int as n from alerts where not suppressed group by 1 order by 1",
  );
  return rows.map((r) => ({ level: r.level, n: Number(r.n) }));
}
