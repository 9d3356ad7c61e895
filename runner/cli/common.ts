/**
 * What the CLI commands share: usage errors (exit code 2), opening the store and the DAGs, and
 * plain-text tables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderTable } from "./common.ts";
 * const text = renderTable([["task", "state"], ["extract", "success"]]);
 * assert.equal(text, ["task     state", "-------  -------", "extract  success"].join("\n"));
 * ```
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { openArtifactStore } from "../artifacts/open.ts";
import type { DagDefinition } from "../dag.ts";
import { loadDags, type LoadedDags } from "../loader.ts";
import { paramsJsonSchema } from "../params.ts";
import { dataHome, openStore } from "../store/open.ts";
import type { Store } from "../store/store.ts";
import { dagStructure, structureHash } from "../structure.ts";

/** A mistake in how a command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {}

/** node:util parseArgs, with its errors turned into UsageErrors. */
export function parse<T extends ParseArgsConfig["options"]>(
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** An integer option value, or a UsageError naming the option. */
export function intOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new UsageError(`--${name} must be a non-negative integer, got "${value}"`);
  }
  return n;
}

/** A positive integer option value (≥ 1), or a UsageError naming the option. */
export function positiveIntOption(
  name: string,
  value: string | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be an integer of at least 1, got "${value}"`);
  }
  return n;
}

/** The store and artifact store the environment names. */
export async function openStores() {
  const store = await openStore();
  const artifacts = openArtifactStore(dataHome());
  return { store, artifacts };
}

/** Loads the DAGs and records them in the store (so `dags` and the UI know them). */
export async function loadAndSync(store: Store): Promise<LoadedDags> {
  const loaded = await loadDags();
  for (const dag of loaded.dags.values()) await syncDag(store, dag);
  return loaded;
}

/** Records one DAG's definition in the store. */
export async function syncDag(store: Store, dag: DagDefinition): Promise<void> {
  const structure = dagStructure(dag);
  await store.upsertDag({
    dagId: dag.id,
    fileloc: dag.fileloc ?? null,
    schedule: dag.options.schedule ?? null,
    timezone: dag.options.timezone ?? "UTC",
    description: dag.options.description ?? null,
    paramsSchema: paramsJsonSchema(dag),
    structure,
    structureHash: await structureHash(structure),
  });
}

/** Rows as aligned columns; the first row is the header. */
export function renderTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  }
  const line = (row: readonly string[]) =>
    row.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const out = rows.length ? [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  ")] : [];
  for (const row of rows.slice(1)) out.push(line(row));
  return out.join("\n");
}

/** A date as "2026-01-01 12:00:00" (UTC), or "-". */
export function showDate(d: Date | null): string {
  return d ? d.toISOString().replace("T", " ").slice(0, 19) : "-";
}
