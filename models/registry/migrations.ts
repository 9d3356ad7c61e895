/**
 * The model registry's tables, kept in the engine's database as the "models" component: registered
 * models, their versions (params, metrics, column spec, training-data fingerprint, artifacts, and
 * lineage to the run and task that made them), aliases, and the append-only history of alias moves.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { migrate } from "../../runner/store/migrations.ts";
 * import { openPglite } from "../../runner/store/pglite.ts";
 * import { REGISTRY_MIGRATIONS } from "./migrations.ts";
 * const db = await openPglite(); // in memory
 * try {
 *   const applied = await migrate(db, REGISTRY_MIGRATIONS, "models");
 *   assert.deepEqual(applied, REGISTRY_MIGRATIONS.map((m) => m.version));
 *   // nothing left to apply the second time
 *   assert.deepEqual(await migrate(db, REGISTRY_MIGRATIONS, "models"), []);
 * } finally {
 *   await db.close();
 * }
 * ```
 */
import type { Migration } from "../../runner/store/migrations.ts";

export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "registry",
    sql: `
create table registered_models (
  name text primary key,
  description text not null default '',
  created_at timestamptz not null default now()
);
create table model_versions (
  name text not null references registered_models(name),
  version int not null,
  algo text not null,
  task text not null,
  params jsonb not null,
  metrics jsonb not null,
  columns jsonb not null,
  fingerprint jsonb not null,
  artifacts jsonb not null,
  run_id int,
  task_id text,
  created_at timestamptz not null default now(),
  primary key (name, version)
);
create table model_aliases (
  name text not null,
  alias text not null,
  version int not null,
  updated_at timestamptz not null default now(),
  primary key (name, alias),
  foreign key (name, version) references model_versions(name, version)
);
create table model_alias_history (
  id serial primary key,
  name text not null,
  alias text not null,
  from_version int,
  to_version int,
  reason text not null,
  run_id int,
  at timestamptz not null default now()
);
create index model_alias_history_name_idx on model_alias_history (name, id desc);
`,
  },
  {
    version: 2,
    name: "alias actor",
    sql: `
alter table model_alias_history add column actor text not null default 'system';
`,
  },
];
