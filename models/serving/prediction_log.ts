/**
 * The prediction log and the feedback it receives, in the engine's store: every served prediction
 * gets an id and is kept (inputs and outputs), so live traffic can be monitored for prediction
 * drift, and a true label sent later for that id is feedback for the feedback loop.
 *
 * Writes are a group commit: {@link PredictionLog.write} resolves only once its rows are committed,
 * and whatever arrived from concurrent requests while one commit was in flight goes into the next
 * one (one statement, one transaction per group). So an answered prediction is stored (a crash
 * loses none that were acknowledged) and the throughput stays that of batched inserts.
 *
 * Failures: a group that fails for a transient reason (connection lost, server restarting, a
 * commit that outlasts `commitTimeoutMs`) stays queued and is retried with backoff — never
 * dropped — while {@link PredictionLog.health} reports the log "degraded"; it is "ok" again after
 * the next successful commit. Every commit is bounded: on PostgreSQL by a `statement_timeout` set
 * for its transaction, and on both backends by a timer (a commit that never returns — a hung
 * connection, a lock — is given up and retried, not awaited forever). The log is also "degraded"
 * while its oldest queued row has waited longer than `ackTimeoutMs`, whatever the cause. A caller that waits longer
 * than `ackTimeoutMs` gets {@link PredictionLogUnavailable} (its rows stay queued and are stored
 * once the database is back). A group the database rejects for its data (SQLSTATE class 22, 23,
 * or 54 — a value beyond a limit) is split so only the offending request fails
 * ({@link PredictionRejected}); the others are stored. Any other error that retrying may not cure
 * (e.g. class 42: a missing table, a privilege) splits the group too, and a request that keeps
 * failing alone is given up after `maxAttempts` tries, loudly ({@link PredictionLogFailed} and a
 * line on stderr), so it cannot block the queue: the others go on being stored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { PredictionLog } from "./prediction_log.ts";
 * const db = await openPglite(); // in memory
 * const log = await PredictionLog.open(db);
 * try {
 *   const id = crypto.randomUUID();
 *   const input = { distance: 900 }, output = { yes: 0.9, no: 0.1 };
 *   await log.write([{ id, model: "m", version: 1, input, label: "yes", score: 0.9, output }]);
 *   assert.equal(await log.feedback(id, "yes"), true); // the true label, sent later
 *   const e = await log.evaluation("m");
 *   assert.equal(e.accuracy, 1);
 *   assert.deepEqual(e.confusion, { yes: { yes: 1 } });
 * } finally {
 *   await log.close();
 *   await db.close();
 * }
 * ```
 */
import { migrate, type Migration } from "../../runner/store/migrations.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { tableExists } from "../../runner/store/table_exists.ts";
import { retryRead } from "./transient.ts";

const MIGRATIONS: Migration[] = [{
  version: 1,
  name: "predictions and feedback",
  sql: `
create table predictions (
  id text primary key,
  at timestamptz not null default now(),
  model text not null,
  version int not null,
  input jsonb not null,
  label text,
  score double precision,
  output jsonb not null
);
create index predictions_model_idx on predictions (model, at desc);
create table feedback (
  prediction_id text primary key references predictions (id),
  at timestamptz not null default now(),
  label text not null
);
`,
}];

/** One served prediction. */
export interface LoggedPrediction {
  id: string;
  model: string;
  version: number;
  input: Record<string, unknown>;
  label: string | null;
  score: number | null;
  output: Record<string, unknown>;
}

/** Accuracy and confusion matrix of served predictions against their feedback labels. */
export interface Evaluation {
  model: string;
  rows: number;
  accuracy: number | null;
  /** confusion[true label][predicted label] = count */
  confusion: Record<string, Record<string, number>>;
}

/** The log could not commit within the caller's wait; the rows stay queued and are retried. */
export class PredictionLogUnavailable extends Error {
  constructor(readonly waitedMs: number, readonly reason: string) {
    super(
      waitedMs > 0
        ? `the prediction log could not store the prediction within ${waitedMs} ms (${reason}); ` +
          "it was not acknowledged — it stays queued and is written once the database is back"
        : `the prediction log refused the prediction (${reason}); it was not stored — retry later`,
    );
  }
}

/**
 * The rows failed `attempts` times alone with an error retrying did not cure; they were not stored
 * and are no longer retried (a 503 with this message, like {@link PredictionLogUnavailable}).
 */
export class PredictionLogFailed extends PredictionLogUnavailable {
  constructor(readonly attempts: number, reason: string) {
    super(0, reason);
    this.message = `the prediction log could not store the prediction: ${reason} ` +
      `(${attempts} attempts); it was not stored and is no longer retried`;
  }
}

/** The database refused the rows for their content (not a transient failure). */
export class PredictionRejected extends Error {
  constructor(readonly reason: string) {
    super(`the prediction log refused the rows: ${reason}`);
  }
}

/** What /health shows about the log. */
export interface PredictionLogHealth {
  /**
   * "degraded" from a failed commit until the next successful one, and while the oldest queued row
   * has waited longer than `ackTimeoutMs`.
   */
  state: "ok" | "degraded";
  /** Rows waiting to be committed. */
  queued: number;
  /** How long the oldest queued row has waited (ms), or null when none waits. */
  oldestQueuedMs: number | null;
  /** Rows committed since the process started. */
  written: number;
  /** Commits that failed and were retried. */
  failedCommits: number;
  /** Requests refused for their content (SQLSTATE class 22/23/54). */
  rejected: number;
  /** Requests given up after `maxAttempts` failures retrying did not cure (not stored). */
  failed: number;
  /** When the current degradation began (ISO time), or null. */
  degradedSince: string | null;
  lastError: string | null;
}

export interface PredictionLogOptions {
  /** How long a writer waits for its group's commit before giving up (default 10 s). */
  ackTimeoutMs?: number;
  /**
   * The longest one commit may take before it is given up and retried (default `ackTimeoutMs`):
   * PostgreSQL's `statement_timeout` for the insert, and a timer on both backends.
   */
  commitTimeoutMs?: number;
  /** Rows a single statement carries at most (default 2,000). */
  maxGroupRows?: number;
  /** Queued rows beyond which new writes are refused at once (default 100,000). */
  maxQueuedRows?: number;
  /**
   * Tries of a request that fails alone with an error that is neither transient nor about its
   * content (default 8, about 5 s with the default backoff) before it is given up.
   */
  maxAttempts?: number;
  /** First retry delay after a failed commit; doubles up to 2 s (default 50 ms). */
  retryMs?: number;
  /**
   * Group commits in flight at once (default 4): while one group waits for its commit the next
   * can be sent (PostgreSQL can flush the WAL of concurrent commits together).
   */
  maxInFlight?: number;
}

interface Pending {
  rows: LoggedPrediction[];
  /** When it was queued (Date.now() ms). */
  at: number;
  /** When the writer stops waiting (Date.now() ms). */
  deadline: number;
  resolve(): void;
  reject(e: Error): void;
  /** The caller has its answer (committed, refused or timed out). */
  settled: boolean;
  /** Committed or refused: no longer queued (a timed-out write stays queued). */
  done: boolean;
  /** Times it failed alone with a "permanent" error. */
  attempts: number;
}

/** Inserts the rows of a JSON array ($1); an id already stored is skipped. */
const INSERT = `insert into predictions (id, model, version, input, label, score, output)
  select * from jsonb_to_recordset($1::text::jsonb)
    as t(id text, model text, version int, input jsonb, label text, score double precision, output jsonb)
  on conflict (id) do nothing`;

/**
 * What a failed commit means:
 * - "content": SQLSTATE class 22 (data exception), 23 (integrity violation) or 54 (a value beyond
 *   a limit) — the rows themselves; split the group, refuse the offending request at once;
 * - "transient": the connection, the server's state or a timeout (classes 08, 40, 53, 55, 57, 58,
 *   network codes, errors without a code) — retry the whole group;
 * - "permanent": any other SQLSTATE (e.g. 42: a missing table), or a TypeError/RangeError in
 *   making the statement — split the group and retry each request alone a bounded number of times.
 */
export function failureKind(e: unknown): "content" | "transient" | "permanent" {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    if (/^(22|23|54)/.test(code)) return "content";
    if (/^(08|40|53|55|57|58)/.test(code)) return "transient";
    return "permanent";
  }
  if (typeof code === "string") return "transient"; // ECONNREFUSED, CONNECTION_CLOSED, ...
  return e instanceof TypeError || e instanceof RangeError ? "permanent" : "transient";
}

/** A commit that did not finish within `commitTimeoutMs` (transient: it is retried). */
export class CommitTimeout extends Error {
  readonly code = "COMMIT_TIMEOUT";
  constructor(readonly timeoutMs: number) {
    super(`a commit did not finish within ${timeoutMs} ms`);
  }
}

export class PredictionLog {
  readonly #queue: Pending[] = [];
  /** Every write not yet committed or refused, oldest first (insertion order). */
  readonly #unfinished = new Set<Pending>();
  #queuedRows = 0;
  #writers = 0;
  /** Writers still waiting for their answer (queued or in a commit in flight). */
  readonly #waiting = new Set<Pending>();
  #watcher: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #health: PredictionLogHealth = {
    state: "ok",
    queued: 0,
    oldestQueuedMs: null,
    written: 0,
    failedCommits: 0,
    rejected: 0,
    failed: 0,
    degradedSince: null,
    lastError: null,
  };
  readonly #opts: Required<PredictionLogOptions>;

  private constructor(readonly db: SqlClient, opts: PredictionLogOptions) {
    this.#opts = {
      ackTimeoutMs: opts.ackTimeoutMs ?? 10_000,
      commitTimeoutMs: opts.commitTimeoutMs ?? opts.ackTimeoutMs ?? 10_000,
      maxGroupRows: opts.maxGroupRows ?? 2_000,
      maxQueuedRows: opts.maxQueuedRows ?? 100_000,
      retryMs: opts.retryMs ?? 50,
      maxAttempts: opts.maxAttempts ?? 8,
      maxInFlight: opts.maxInFlight ?? 4,
    };
  }

  static async open(db: SqlClient, opts: PredictionLogOptions = {}): Promise<PredictionLog> {
    await migrate(db, MIGRATIONS, "serving");
    return new PredictionLog(db, opts);
  }

  /** The log's state for /health. */
  health(): PredictionLogHealth {
    const h = { ...this.#health, queued: this.#queuedRows };
    const oldest = this.#unfinished.values().next().value;
    if (oldest === undefined) return h;
    const now = Date.now();
    h.oldestQueuedMs = now - oldest.at;
    // a commit that hangs throws nothing: what shows it is a row waiting longer than any caller
    if (h.state === "ok" && h.oldestQueuedMs > this.#opts.ackTimeoutMs) {
      h.state = "degraded";
      h.degradedSince = new Date(oldest.at + this.#opts.ackTimeoutMs).toISOString();
      h.lastError = `the oldest queued row has waited ${h.oldestQueuedMs} ms for its commit ` +
        `(longer than ${this.#opts.ackTimeoutMs} ms); last error: ${this.#health.lastError}`;
    }
    return h;
  }

  /**
   * Stores predictions: resolves once they are committed (with whatever concurrent writers queued
   * meanwhile). Throws {@link PredictionLogUnavailable} after `ackTimeoutMs` without a commit (the
   * rows stay queued) and {@link PredictionRejected} when the database refuses their content.
   */
  write(rows: LoggedPrediction[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error("the prediction log is closed"));
    if (this.#queuedRows + rows.length > this.#opts.maxQueuedRows) {
      return Promise.reject(
        new PredictionLogUnavailable(
          0,
          `${this.#queuedRows} rows already wait for the database (limit ${this.#opts.maxQueuedRows})`,
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const now = Date.now();
      const p: Pending = {
        rows,
        at: now,
        deadline: now + this.#opts.ackTimeoutMs,
        settled: false,
        done: false,
        attempts: 0,
        resolve: () => {
          if (!p.settled) resolve();
          p.settled = true;
          this.#waiting.delete(p);
        },
        reject: (e) => {
          if (!p.settled) reject(e);
          p.settled = true;
          this.#waiting.delete(p);
        },
      };
      this.#waiting.add(p);
      this.#watch();
      this.#queue.push(p);
      this.#unfinished.add(p);
      this.#queuedRows += rows.length;
      this.#spawn();
    });
  }

  /** Waits (at most `timeoutMs`) for the queued rows to be written, then refuses new writes. */
  async close(timeoutMs = 5_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while ((this.#queuedRows > 0 || this.#writers > 0) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.#closed = true;
    if (this.#queuedRows > 0) {
      console.error(
        `prediction log: closing with ${this.#queuedRows} unacknowledged rows not written (${this.#health.lastError})`,
      );
    }
  }

  /**
   * Answers writers whose wait is over with {@link PredictionLogUnavailable} (their rows stay
   * queued). One timer for all of them, running only while someone waits: a timer per write
   * would cost more than the commit it guards.
   */
  #watch(): void {
    if (this.#watcher !== undefined) return;
    const every = Math.max(10, Math.min(250, this.#opts.ackTimeoutMs / 4));
    this.#watcher = setInterval(() => {
      const now = Date.now();
      for (const p of this.#waiting) {
        if (p.deadline <= now) {
          p.reject(
            new PredictionLogUnavailable(
              this.#opts.ackTimeoutMs,
              this.#health.lastError ?? "the commit is slow",
            ),
          );
        }
      }
      if (this.#waiting.size === 0) {
        clearInterval(this.#watcher);
        this.#watcher = undefined;
      }
    }, every);
  }

  /** Starts writers while there is queued work: up to `maxInFlight`, one while degraded. */
  #spawn(): void {
    const cap = this.#health.state === "ok" ? this.#opts.maxInFlight : 1;
    while (this.#writers < cap && this.#queue.length > 0 && !this.#closed) {
      this.#writers++;
      void this.#writer();
    }
  }

  /** One writer: commits groups from the queue until it is empty. */
  async #writer(): Promise<void> {
    let delay = this.#opts.retryMs;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const group: Pending[] = [];
        let n = 0;
        while (
          this.#queue.length > 0 &&
          (n === 0 || n + this.#queue[0].rows.length <= this.#opts.maxGroupRows)
        ) {
          const p = this.#queue.shift()!;
          group.push(p);
          n += p.rows.length;
        }
        try {
          await this.#commit(group);
          delay = this.#opts.retryMs;
        } catch (e) {
          // transient: back to the front of the queue, retried after a pause
          this.#queue.unshift(...group.filter((p) => !p.done));
          this.#failed(e);
          // while the database fails, one writer retries; the others stop
          if (this.#writers > 1) return;
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 2_000);
        }
      }
    } finally {
      this.#writers--;
    }
  }

  /**
   * Commits a group; splits it when the database refuses it for other than a transient reason, so
   * the requests that can be stored are. Throws when transient, or when a request alone failed for
   * a permanent reason and has tries left (after its other half was committed).
   */
  async #commit(group: Pending[]): Promise<void> {
    try {
      await this.#bounded(group.flatMap((p) => p.rows));
    } catch (e) {
      const kind = failureKind(e);
      if (kind === "transient") throw e;
      if (group.length === 1) return this.#refused(group[0], e, kind);
      const half = Math.ceil(group.length / 2);
      let first: unknown;
      for (const part of [group.slice(0, half), group.slice(half)]) {
        try {
          await this.#commit(part);
        } catch (err) {
          if (failureKind(err) === "transient") throw err;
          first ??= err;
        }
      }
      if (first !== undefined) throw first;
      return;
    }
    this.#dequeued(group);
    this.#health.written += group.reduce((n, p) => n + p.rows.length, 0);
    if (this.#health.state !== "ok") {
      console.error(
        `prediction log: writing again after ${this.#health.failedCommits} failed commits since ${this.#health.degradedSince}`,
      );
    }
    this.#health.state = "ok";
    this.#health.degradedSince = null;
    for (const p of group) p.resolve();
  }

  /**
   * {@link log} within `commitTimeoutMs`: on PostgreSQL a `statement_timeout` for the insert ends it
   * on the server; on both backends a timer gives up on a commit that never returns (its late
   * outcome is ignored: the retry's `on conflict do nothing` makes a late landing harmless).
   */
  async #bounded(rows: LoggedPrediction[]): Promise<void> {
    const ms = this.#opts.commitTimeoutMs;
    const insert = this.db.kind === "postgres"
      ? this.#insertWithin(rows, ms)
      : this.#insert(this.db, rows);
    insert.catch(() => {}); // given up on: its rejection must not go unhandled
    let timer: ReturnType<typeof setTimeout> | undefined;
    // the server's timeout should answer first; the timer is for a commit nothing answers
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CommitTimeout(ms)), ms + Math.min(ms, 1_000));
    });
    try {
      await Promise.race([insert, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The insert with `set local statement_timeout`, sent as one simple-protocol message (its
   * statements are one implicit transaction, so the setting ends with it). Not an explicit
   * transaction: postgres.js sends a ROLLBACK on a connection that was just lost and crashes the
   * process (postgres 3.4.9, connection.js nextWrite on a null socket). The rows go in as a
   * dollar-quoted literal with a random tag that does not occur in them (no escaping needed).
   */
  async #insertWithin(rows: LoggedPrediction[], ms: number): Promise<void> {
    if (rows.length === 0) return;
    const json = JSON.stringify(rows);
    let tag: string;
    do tag = `$r${crypto.randomUUID().replaceAll("-", "")}$`; while (json.includes(tag));
    await this.db.exec(
      `set local statement_timeout = ${Math.max(1, Math.round(ms))};
       ${INSERT.replace("$1", `${tag}${json}${tag}`)}`,
    );
  }

  /**
   * One request failed alone: refused at once for its content; for a permanent error thrown again
   * (retried after the backoff) until its `maxAttempts`-th try, then given up loudly.
   */
  #refused(p: Pending, e: unknown, kind: "content" | "permanent"): void {
    const message = (e as Error)?.message ?? String(e);
    if (kind === "content") {
      this.#dequeued([p]);
      this.#health.rejected++;
      p.reject(new PredictionRejected(message));
      return;
    }
    p.attempts++;
    if (p.attempts < this.#opts.maxAttempts) throw e;
    this.#dequeued([p]);
    this.#health.failed++;
    console.error(
      `prediction log: gave up ${p.rows.length} rows (ids ${
        p.rows.slice(0, 3).map((r) => r.id).join(", ")
      }${p.rows.length > 3 ? ", ..." : ""}) after ${p.attempts} tries: ${message}; NOT stored`,
    );
    p.reject(new PredictionLogFailed(p.attempts, message));
  }

  #dequeued(group: Pending[]): void {
    for (const p of group) {
      p.done = true;
      this.#unfinished.delete(p);
    }
    this.#queuedRows -= group.reduce((n, p) => n + p.rows.length, 0);
  }

  #failed(e: unknown): void {
    const message = (e as Error)?.message ?? String(e);
    this.#health.failedCommits++;
    this.#health.lastError = message;
    if (this.#health.state === "ok") {
      this.#health.state = "degraded";
      this.#health.degradedSince = new Date().toISOString();
      console.error(
        `prediction log: a commit failed (${message}); ${this.#queuedRows} rows stay queued and are retried`,
      );
    }
  }

  /**
   * Inserts predictions in one statement (its own transaction), without the queue; an id already
   * stored is skipped, so a retried commit whose first attempt did land is not an error.
   */
  async log(rows: LoggedPrediction[]): Promise<void> {
    await this.#insert(this.db, rows);
  }

  async #insert(db: SqlClient, rows: LoggedPrediction[]): Promise<void> {
    if (rows.length === 0) return;
    await db.query(INSERT, [JSON.stringify(rows)]);
  }

  /** Records the true label of a prediction; false when the id is unknown. Later labels replace earlier ones. */
  async feedback(predictionId: string, label: string): Promise<boolean> {
    const known = await retryRead(() =>
      this.db.query<{ id: string }>("select id from predictions where id = $1", [predictionId])
    );
    if (known.length === 0) return false;
    // idempotent (the same label again), so safe to retry after a lost connection
    await retryRead(() =>
      this.db.query(
        `insert into feedback (prediction_id, label) values ($1, $2)
         on conflict (prediction_id) do update set label = excluded.label, at = now()`,
        [predictionId, label],
      )
    );
    return true;
  }

  /** How the model's served predictions fared against feedback so far. */
  async evaluation(model: string): Promise<Evaluation> {
    const rows = await retryRead(() =>
      this.db.query<{ truth: string; predicted: string | null; n: number | string }>(
        `select f.label as truth, p.label as predicted, count(*) as n
         from feedback f join predictions p on p.id = f.prediction_id
         where p.model = $1 group by 1, 2`,
        [model],
      )
    );
    const confusion: Evaluation["confusion"] = {};
    let total = 0, right = 0;
    for (const r of rows) {
      const n = Number(r.n);
      const predicted = r.predicted ?? "(none)";
      (confusion[r.truth] ??= {})[predicted] = n;
      total += n;
      if (r.truth === r.predicted) right += n;
    }
    return { model, rows: total, accuracy: total ? right / total : null, confusion };
  }

  /**
   * Labelled served rows (inputs, true label and when the prediction was served) since a time, for
   * retraining on live traffic.
   */
  async labelled(
    model: string,
    since = new Date(0),
  ): Promise<{ input: Record<string, unknown>; label: string; at: Date }[]> {
    const rows = await this.db.query<
      { input: Record<string, unknown>; label: string; at: string | Date }
    >(
      `select p.input, f.label, p.at from feedback f join predictions p on p.id = f.prediction_id
       where p.model = $1 and f.at >= $2::timestamptz order by f.at`,
      [model, since.toISOString()],
    );
    return rows.map((r) => ({ input: r.input, label: r.label, at: new Date(r.at) }));
  }
}

/**
 * How many predictions each model has served, by model name; none before the first prediction
 * (a reader: the table is not created).
 */
export async function predictionCounts(db: SqlClient): Promise<{ model: string; n: number }[]> {
  if (!await tableExists(db, "predictions")) return [];
  const rows = await db.query<{ model: string; n: number }>(
    "select model, count(*)::int as n from predictions group by 1 order by 1",
  );
  return rows.map((r) => ({ model: r.model, n: Number(r.n) }));
}

/**
 * The model name and version that made a stored prediction, or null when no prediction has that
 * id (a reader: the table is not created).
 */
export async function predictionMaker(
  db: SqlClient,
  id: string,
): Promise<{ model: string; version: number } | null> {
  if (!await tableExists(db, "predictions")) return null;
  const rows = await db.query<{ model: string; version: number }>(
    "select model, version from predictions where id = $1",
    [id],
  );
  return rows[0] ? { model: rows[0].model, version: Number(rows[0].version) } : null;
}
