/**
 * The model registry: versions of named models with everything needed to trust and reproduce them,
 * and aliases (`champion`, `challenger`, any name) whose every move is recorded — when, why, and by
 * which run. It lives in the same PostgreSQL store as the engine (PGlite or a server).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { ModelRegistry } from "./registry.ts";
 * const db = await openPglite(); // in memory
 * try {
 *   const registry = await ModelRegistry.open(db);
 *   const v = await registry.register({
 *     name: "delays",
 *     algo: "gbdt",
 *     task: "classification",
 *     params: { nEstimators: 100 },
 *     metrics: { roc_auc: 0.71 },
 *     columns: [],
 *     fingerprint: { rows: 1000, sha256: "0".repeat(64) },
 *     artifacts: {}, // artifact keys by role, e.g. { onnx: "sha256:…" }
 *   });
 *   await registry.setAlias("delays", "champion", v.version, { reason: "first model" });
 *   assert.equal((await registry.resolve("delays@champion")).version, 1);
 *   assert.equal((await registry.aliasHistory("delays"))[0].reason, "first model");
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import { z } from "zod";
import { migrate } from "../../runner/store/migrations.ts";
import type { SqlClient } from "../../runner/store/sql_client.ts";
import { REGISTRY_MIGRATIONS } from "./migrations.ts";

/** A model reference that names nothing registered (or is not a reference at all). */
export class ModelNotFoundError extends Error {
  override name = "ModelNotFoundError";
}

/** The training data a version was fitted on: row count and content hash. */
export const Fingerprint = z.object({
  rows: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Fingerprint = z.infer<typeof Fingerprint>;

/** What registering a version takes. */
export const NewVersion = z.object({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, _, - and . only"),
  description: z.string().optional(),
  algo: z.string().min(1),
  task: z.enum(["classification", "regression"]),
  params: z.record(z.string(), z.unknown()),
  metrics: z.record(z.string(), z.number()),
  columns: z.unknown(),
  fingerprint: Fingerprint,
  /** Artifact keys by role, e.g. { onnx: "sha256:…", meta: "sha256:…" }. */
  artifacts: z.record(z.string(), z.string()),
  lineage: z.object({ runId: z.number().int(), taskId: z.string() }).nullable().optional(),
});
export type NewVersion = z.input<typeof NewVersion>;

/** A registered version. */
export interface ModelVersion {
  name: string;
  version: number;
  algo: string;
  task: "classification" | "regression";
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  columns: unknown;
  fingerprint: Fingerprint;
  artifacts: Record<string, string>;
  lineage: { runId: number; taskId: string } | null;
  createdAt: Date;
  /** The aliases pointing at this version. */
  aliases: string[];
}

/** One move of an alias. */
export interface AliasMove {
  name: string;
  alias: string;
  fromVersion: number | null;
  toVersion: number | null;
  reason: string;
  runId: number | null;
  /** Who moved it: a person (`user@host` from the CLI), "web UI", "api", or "system" (DAG runs). */
  actor: string;
  at: Date;
}

type Row = Record<string, unknown>;

function toVersion(r: Row): ModelVersion {
  return {
    name: String(r.name),
    version: Number(r.version),
    algo: String(r.algo),
    task: r.task as ModelVersion["task"],
    params: r.params as Record<string, unknown>,
    metrics: r.metrics as Record<string, number>,
    columns: r.columns,
    fingerprint: r.fingerprint as Fingerprint,
    artifacts: r.artifacts as Record<string, string>,
    lineage: r.run_id == null ? null : { runId: Number(r.run_id), taskId: String(r.task_id) },
    createdAt: r.created_at instanceof Date ? r.created_at : new Date(String(r.created_at)),
    aliases: (r.aliases as string[] | null) ?? [],
  };
}

const VERSION_SELECT =
  `select v.*, coalesce((select array_agg(a.alias order by a.alias) from model_aliases a
  where a.name = v.name and a.version = v.version), '{}') as aliases from model_versions v`;

export class ModelRegistry {
  private constructor(readonly db: SqlClient) {}

  /** The registry on `db`, its tables created or migrated. */
  static async open(db: SqlClient): Promise<ModelRegistry> {
    await migrate(db, REGISTRY_MIGRATIONS, "models");
    return new ModelRegistry(db);
  }

  /** Registers a new version (numbered 1, 2, … per name); the model is created on first use. */
  async register(input: NewVersion): Promise<ModelVersion> {
    const v = NewVersion.parse(input);
    return await this.db.transaction(async (tx) => {
      await tx.query(
        `insert into registered_models (name, description) values ($1, coalesce($2, ''))
         on conflict (name) do update set description = coalesce($2, registered_models.description)`,
        [v.name, v.description ?? null],
      );
      await tx.query("select name from registered_models where name = $1 for update", [v.name]);
      const rows = await tx.query<Row>(
        `insert into model_versions (name, version, algo, task, params, metrics, columns, fingerprint, artifacts, run_id, task_id)
         values ($1, (select coalesce(max(version), 0) + 1 from model_versions where name = $1), $2, $3,
           $4::text::jsonb, $5::text::jsonb, $6::text::jsonb, $7::text::jsonb, $8::text::jsonb, $9, $10)
         returning *, '{}'::text[] as aliases`,
        [
          v.name,
          v.algo,
          v.task,
          JSON.stringify(v.params),
          JSON.stringify(v.metrics),
          JSON.stringify(v.columns ?? null),
          JSON.stringify(v.fingerprint),
          JSON.stringify(v.artifacts),
          v.lineage?.runId ?? null,
          v.lineage?.taskId ?? null,
        ],
      );
      return toVersion(rows[0]);
    });
  }

  /** One version, or null. */
  async version(name: string, version: number): Promise<ModelVersion | null> {
    const rows = await this.db.query<Row>(
      `${VERSION_SELECT} where v.name = $1 and v.version = $2`,
      [name, version],
    );
    return rows[0] ? toVersion(rows[0]) : null;
  }

  /** Every version of a model, newest first. */
  async versions(name: string): Promise<ModelVersion[]> {
    const rows = await this.db.query<Row>(
      `${VERSION_SELECT} where v.name = $1 order by v.version desc`,
      [name],
    );
    return rows.map(toVersion);
  }

  /** The names of the models that have `alias` (e.g. "champion"), in name order. */
  async namesWithAlias(alias: string): Promise<string[]> {
    const rows = await this.db.query<{ name: string }>(
      "select name from model_aliases where alias = $1 order by name",
      [alias],
    );
    return rows.map((r) => r.name);
  }

  /** Every registered model with its versions and aliases. */
  async models(): Promise<{ name: string; description: string; versions: ModelVersion[] }[]> {
    const names = await this.db.query<Row>(
      "select name, description from registered_models order by name",
    );
    const rows = await this.db.query<Row>(`${VERSION_SELECT} order by v.name, v.version desc`);
    const all = rows.map(toVersion);
    return names.map((n) => ({
      name: String(n.name),
      description: String(n.description),
      versions: all.filter((v) => v.name === n.name),
    }));
  }

  /**
   * The version a reference names: `name@alias`, `name@3` (a version number), or `name` (its
   * champion, else its latest version). Throws saying what exists when nothing matches.
   */
  async resolve(ref: string): Promise<ModelVersion> {
    const m = /^([A-Za-z0-9_.-]+)(?:@([A-Za-z0-9_.-]+))?$/.exec(ref);
    if (!m) {
      throw new ModelNotFoundError(
        `invalid model reference "${ref}": expected name, name@alias or name@version`,
      );
    }
    const [, name, tag] = m;
    let version: number | null = null;
    if (tag !== undefined && /^\d+$/.test(tag)) version = Number(tag);
    else {
      const alias = tag ?? "champion";
      const rows = await this.db.query<{ version: number }>(
        "select version from model_aliases where name = $1 and alias = $2",
        [name, alias],
      );
      version = rows[0] ? Number(rows[0].version) : null;
      if (version === null && tag === undefined) {
        version = (await this.versions(name))[0]?.version ?? null;
      }
    }
    const found = version === null ? null : await this.version(name, version);
    if (!found) {
      const known = await this.versions(name);
      throw new ModelNotFoundError(
        known.length === 0
          ? `no model "${name}" is registered`
          : `model "${name}" has no ${
            tag === undefined ? "version" : /^\d+$/.test(tag) ? `version ${tag}` : `alias "${tag}"`
          }; ` +
            `versions: ${
              known.map((v) =>
                `${v.version}${v.aliases.length ? ` (${v.aliases.join(", ")})` : ""}`
              ).join(", ")
            }`,
      );
    }
    return found;
  }

  /** Points `alias` at `version` (or removes it with null), recording the move and its reason. */
  async setAlias(
    name: string,
    alias: string,
    version: number | null,
    why: { reason: string; runId?: number | null; actor?: string },
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      const current = await tx.query<{ version: number }>(
        "select version from model_aliases where name = $1 and alias = $2 for update",
        [name, alias],
      );
      const from = current[0] ? Number(current[0].version) : null;
      if (version === null) {
        await tx.query("delete from model_aliases where name = $1 and alias = $2", [name, alias]);
      } else {
        if (!await this.#exists(tx, name, version)) {
          throw new Error(`model "${name}" has no version ${version}`);
        }
        await tx.query(
          `insert into model_aliases (name, alias, version) values ($1, $2, $3)
           on conflict (name, alias) do update set version = excluded.version, updated_at = now()`,
          [name, alias, version],
        );
      }
      await tx.query(
        `insert into model_alias_history (name, alias, from_version, to_version, reason, run_id, actor)
         values ($1, $2, $3, $4, $5, $6, $7)`,
        [
          name,
          alias,
          from,
          version,
          why.reason,
          why.runId ?? null,
          why.actor ?? (why.runId == null ? "system" : `run ${why.runId}`),
        ],
      );
    });
  }

  async #exists(tx: SqlClient, name: string, version: number): Promise<boolean> {
    return (await tx.query("select 1 from model_versions where name = $1 and version = $2", [
      name,
      version,
    ])).length > 0;
  }

  /** The alias moves of a model, newest first. */
  async aliasHistory(name: string): Promise<AliasMove[]> {
    const rows = await this.db.query<Row>(
      "select * from model_alias_history where name = $1 order by id desc",
      [name],
    );
    return rows.map((r) => ({
      name: String(r.name),
      alias: String(r.alias),
      fromVersion: r.from_version == null ? null : Number(r.from_version),
      toVersion: r.to_version == null ? null : Number(r.to_version),
      reason: String(r.reason),
      runId: r.run_id == null ? null : Number(r.run_id),
      actor: String(r.actor ?? "system"),
      at: r.at instanceof Date ? r.at : new Date(String(r.at)),
    }));
  }
}
