/**
 * The prediction log and the feedback it receives, in the engine's store: every served prediction
 * gets an id and is kept (inputs and outputs), so live traffic can be monitored for prediction
 * drift, and a true label sent later for that id is feedback for the feedback loop.
 *
 * @example
 * ```ts
 * import { PredictionLog } from "./prediction_log.ts";
 * const log = await PredictionLog.open(store.db);
 * await log.feedback(id, "yes");
 * await log.evaluation("flights_delay");
 * ```
 */
import { migrate, type Migration } from "../../runner/store/migrations.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";

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

export class PredictionLog {
  #pending: LoggedPrediction[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> = Promise.resolve();

  private constructor(readonly db: SqlClient, readonly flushMs = 50) {}

  static async open(db: SqlClient): Promise<PredictionLog> {
    await migrate(db, MIGRATIONS, "serving");
    return new PredictionLog(db);
  }

  /**
   * Queues predictions and writes them within `flushMs` in one statement with whatever else
   * arrived meanwhile (serving does not wait for the database); {@link flush} writes at once.
   */
  enqueue(rows: LoggedPrediction[]): void {
    this.#pending.push(...rows);
    if (this.#timer === undefined) {
      this.#timer = setTimeout(
        () => void this.flush().catch((e) => console.error(`prediction log: ${e}`)),
        this.flushMs,
      );
    }
  }

  /** Writes the queued predictions now. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const rows = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(() => this.log(rows));
    return this.#flushing;
  }

  /** Stores predictions (one statement for the batch). */
  async log(rows: LoggedPrediction[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.query(
      `insert into predictions (id, model, version, input, label, score, output)
       select * from jsonb_to_recordset($1::text::jsonb)
         as t(id text, model text, version int, input jsonb, label text, score double precision, output jsonb)`,
      [JSON.stringify(rows)],
    );
  }

  /** Records the true label of a prediction; false when the id is unknown. Later labels replace earlier ones. */
  async feedback(predictionId: string, label: string): Promise<boolean> {
    await this.flush();
    const known = await this.db.query<{ id: string }>("select id from predictions where id = $1", [
      predictionId,
    ]);
    if (known.length === 0) return false;
    await this.db.query(
      `insert into feedback (prediction_id, label) values ($1, $2)
       on conflict (prediction_id) do update set label = excluded.label, at = now()`,
      [predictionId, label],
    );
    return true;
  }

  /** How the model's served predictions fared against feedback so far. */
  async evaluation(model: string): Promise<Evaluation> {
    await this.flush();
    const rows = await this.db.query<
      { truth: string; predicted: string | null; n: number | string }
    >(
      `select f.label as truth, p.label as predicted, count(*) as n
       from feedback f join predictions p on p.id = f.prediction_id
       where p.model = $1 group by 1, 2`,
      [model],
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

  /** Labelled served rows (inputs + true label) since a time, for retraining on live traffic. */
  async labelled(
    model: string,
    since = new Date(0),
  ): Promise<{ input: Record<string, unknown>; label: string }[]> {
    const rows = await this.db.query<{ input: unknown; label: string }>(
      `select p.input, f.label from feedback f join predictions p on p.id = f.prediction_id
       where p.model = $1 and f.at >= $2::timestamptz order by f.at`,
      [model, since.toISOString()],
    );
    return rows.map((r) => ({
      input: (typeof r.input === "string" ? JSON.parse(r.input) : r.input) as Record<
        string,
        unknown
      >,
      label: r.label,
    }));
  }
}
