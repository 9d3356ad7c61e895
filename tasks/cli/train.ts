/**
 * `deno task train`: trains a model on a CSV or Parquet file and writes `<out>/model.onnx` and
 * `<out>/model.json`; prints the validation metrics; optionally registers the version.
 *
 * The input is read with every row accounted for: types are inferred from all rows (or declared
 * with `--schema schema.json`), rows that cannot be read go to `<out>/quarantine.csv` with their
 * reasons, and stderr says `read R of T rows; Q quarantined`. Exit 2 with one clear line (no stack
 * trace) on a usage mistake, bad `--params`, an unreadable file (truncated Parquet, an unclosed CSV
 * quote), a missing target, an empty file, a constant target or a `--register` that cannot work —
 * the last checked before training starts.
 *
 * @example
 * ```sh
 * deno task train --data flights.parquet --target late --algo gbdt --seed 1 --register delays --out out/delays
 * ```
 */
import { z } from "zod";
import { dataHome, openStore } from "../../runner/store/open.ts";
import type { Store } from "../../runner/store/store.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { parse, UsageError } from "../../runner/cli/common.ts";
import { TrainingDataError } from "../../models/core/columns.ts";
import { GbdtParams } from "../../models/gbdt/train.ts";
import { trainModel } from "../../models/model.ts";
import { fingerprintTable, registerModel, writeModelDir } from "../../models/package.ts";
import { ModelRegistry, NewVersion } from "../../models/registry/registry.ts";
import { failedCommand, InputError, readInput, readSchemaFile } from "./input.ts";

const USAGE =
  "usage: deno task train --data <csv|parquet> --target <col[,col]> [--algo gbdt|logistic] [--task classification|regression] [--valid-fraction 0.2] [--seed N] [--features a,b | --drop a,b] [--params JSON] [--schema schema.json] [--register NAME] --out <dir>";

const LogisticParams = z.object({ C: z.number().positive() }).partial().strict();

/** `--params`: a JSON object the chosen algorithm accepts, or an InputError saying what is wrong. */
function parseParams(text: string | undefined, algo: "gbdt" | "logistic", seed: number) {
  if (text === undefined) return {};
  let params: unknown;
  try {
    params = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      `--params is not valid JSON (${(e as Error).message}); write e.g. '{"nEstimators":200}'`,
    );
  }
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new InputError(`--params must be a JSON object such as '{"nEstimators":200}'`);
  }
  const checked = algo === "gbdt"
    ? GbdtParams.safeParse({ seed, ...params })
    : LogisticParams.safeParse(params);
  if (!checked.success) {
    const issue = checked.error.issues[0];
    const known = Object.keys((algo === "gbdt" ? GbdtParams : LogisticParams).shape).join(", ");
    throw new InputError(
      `--params: ${issue.path.join(".") || "(top)"}: ${issue.message} (${algo} takes ${known})`,
    );
  }
  return params as Record<string, unknown>;
}

const HELP = `
Features: every column but the target becomes a feature unless you choose:
  --features a,b   use exactly these columns
  --drop a,b       use every column but these (--exclude is the same)
Drop what will not be known when the model serves (e.g. a date it is trained across); the columns
used are printed after training and are the columns serving will ask for.`;

/**
 * The columns to leave out of training: with `features`, every column not named (and not a
 * target); with `drop`, those named. Unknown names are an InputError listing the table's columns.
 */
export function chooseColumns(
  columns: string[],
  targets: string[],
  choice: { features?: string; drop?: string },
): string[] {
  const names = (text: string, option: string) => {
    const list = text.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const unknown = list.filter((n) => !columns.includes(n));
    if (unknown.length) {
      throw new InputError(
        `${option}: no column ${unknown.map((n) => `"${n}"`).join(", ")}; the columns are ${
          columns.join(", ")
        }`,
      );
    }
    const target = list.filter((n) => targets.includes(n));
    if (target.length) throw new InputError(`${option}: "${target[0]}" is the target`);
    if (list.length === 0) throw new InputError(`${option} names no column`);
    return list;
  };
  if (choice.features !== undefined) {
    const keep = names(choice.features, "--features");
    return columns.filter((c) => !keep.includes(c) && !targets.includes(c));
  }
  return choice.drop !== undefined ? names(choice.drop, "--drop") : [];
}

/** One line per group: the features with their types, and the columns left out. */
export function describeFeatures(
  features: readonly { name: string; type: string }[],
  excluded: string[],
): string {
  const lines = [
    `features (${features.length}): ${features.map((f) => `${f.name} (${f.type})`).join(", ")}`,
  ];
  if (excluded.length) lines.push(`left out: ${excluded.join(", ")}`);
  return lines.join("\n");
}

export async function trainCommand(args: string[]): Promise<number> {
  let store: Store | undefined;
  try {
    const { values } = parse(args, {
      data: { type: "string" },
      target: { type: "string" },
      algo: { type: "string", default: "gbdt" },
      task: { type: "string" },
      "valid-fraction": { type: "string", default: "0.2" },
      seed: { type: "string", default: "0" },
      exclude: { type: "string" },
      features: { type: "string" },
      drop: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      params: { type: "string" },
      schema: { type: "string" },
      register: { type: "string" },
      out: { type: "string" },
    }, false);
    if (values.help) {
      console.log(`${USAGE}\n${HELP}`);
      return 0;
    }
    if (values.features !== undefined && (values.drop ?? values.exclude) !== undefined) {
      throw new UsageError(
        "give --features (the columns to use) or --drop (the ones not to), not both",
      );
    }
    if (!values.data || !values.target || !values.out) {
      throw new UsageError("--data, --target and --out are required");
    }
    const algo = values.algo;
    if (algo !== "gbdt" && algo !== "logistic") {
      throw new UsageError(`--algo must be gbdt or logistic, got "${values.algo}"`);
    }
    if (values.task && values.task !== "classification" && values.task !== "regression") {
      throw new UsageError(`--task must be classification or regression, got "${values.task}"`);
    }
    const validFraction = Number(values["valid-fraction"]);
    if (!(validFraction >= 0 && validFraction <= 0.9)) {
      throw new UsageError(
        `--valid-fraction must be in [0, 0.9], got "${values["valid-fraction"]}"`,
      );
    }
    const seed = Number(values.seed);
    if (!Number.isInteger(seed)) {
      throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
    }
    const params = parseParams(values.params, algo, seed);
    const schema = values.schema ? await readSchemaFile(values.schema) : undefined;
    // --register is checked before any training: a valid name, and a store this process can open.
    let registry: ModelRegistry | undefined;
    if (values.register !== undefined) {
      const name = NewVersion.shape.name.safeParse(values.register);
      if (!name.success) {
        throw new InputError(
          `--register "${values.register}" is not a model name: ${name.error.issues[0].message}`,
        );
      }
      store = await openStore();
      registry = await ModelRegistry.open(store.db);
    }
    const read = await readInput(values.data, {
      schema,
      quarantine: `${values.out}/quarantine.csv`,
    });
    if (read.rows === 0) {
      throw new TrainingDataError(
        `${values.data} has no data rows${
          read.total ? ` that could be read (${read.total} quarantined)` : ""
        }`,
      );
    }
    const targets = values.target.split(",");
    const exclude = chooseColumns(Object.keys(read.table), targets, {
      features: values.features,
      drop: values.drop ?? values.exclude,
    });
    const t0 = performance.now();
    const { model } = trainModel(read.table, {
      target: targets,
      algo,
      task: values.task as "classification" | "regression" | undefined,
      validFraction,
      seed,
      exclude,
      params,
    }, (round, total) => {
      if (round === total || round % Math.max(1, Math.floor(total / 10)) === 0) {
        Deno.stderr.writeSync(
          new TextEncoder().encode(
            `\rboosting round ${round}/${total}${round === total ? "\n" : ""}`,
          ),
        );
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    await writeModelDir(values.out, model);
    console.log(
      `trained ${model.algo} (${model.spec.target.task}) on ${read.rows} of ${read.total} rows in ${
        seconds.toFixed(2)
      } s → ${values.out}/model.onnx`,
    );
    console.log(describeFeatures(model.spec.features, exclude));
    for (const [k, v] of Object.entries(model.metrics)) {
      console.log(`  ${k.padEnd(10)} ${Number(v.toPrecision(6))}`);
    }
    if (registry && values.register) {
      const v = await registerModel(
        { registry, artifacts: openArtifactStore(dataHome()) },
        model,
        { name: values.register, fingerprint: await fingerprintTable(read.table) },
      );
      console.log(`registered ${v.name} version ${v.version}`);
    }
    return 0;
  } catch (e) {
    return failedCommand(e, "train", USAGE);
  } finally {
    await store?.close();
  }
}

if (import.meta.main) Deno.exit(await trainCommand(Deno.args));
