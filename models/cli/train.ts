/**
 * `deno task train`: trains a model on a CSV or Parquet file and writes `<out>/model.onnx` and
 * `<out>/model.json`; prints the validation metrics; optionally registers the version. Exit 2 with
 * a clear message on a usage mistake, a missing target, an empty file or a constant target.
 *
 * @example
 * ```sh
 * deno task train --data flights.parquet --target late --algo gbdt --seed 1 --register delays --out out/delays
 * ```
 */
import { dataHome, openStore } from "../../runner/store/open.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { parse, UsageError } from "../../runner/cli/common.ts";
import { readTable, UnsupportedFormatError } from "../../tasks/data/read_table.ts";
import { TrainingDataError } from "../columns.ts";
import { trainModel } from "../model.ts";
import { fingerprintTable, registerModel, writeModelDir } from "../package.ts";
import { ModelRegistry } from "../registry/registry.ts";

const USAGE =
  "usage: deno task train --data <csv|parquet> --target <col[,col]> [--algo gbdt|logistic] [--task classification|regression] [--valid-fraction 0.2] [--seed N] [--exclude a,b] [--params JSON] [--register NAME] --out <dir>";

export async function trainCommand(args: string[]): Promise<number> {
  try {
    const { values } = parse(args, {
      data: { type: "string" },
      target: { type: "string" },
      algo: { type: "string", default: "gbdt" },
      task: { type: "string" },
      "valid-fraction": { type: "string", default: "0.2" },
      seed: { type: "string", default: "0" },
      exclude: { type: "string" },
      params: { type: "string" },
      register: { type: "string" },
      out: { type: "string" },
    }, false);
    if (!values.data || !values.target || !values.out) {
      throw new UsageError("--data, --target and --out are required");
    }
    if (values.algo !== "gbdt" && values.algo !== "logistic") {
      throw new UsageError(`--algo must be gbdt or logistic, got "${values.algo}"`);
    }
    if (values.task && values.task !== "classification" && values.task !== "regression") {
      throw new UsageError(`--task must be classification or regression, got "${values.task}"`);
    }
    const validFraction = Number(values["valid-fraction"]);
    if (!(validFraction >= 0 && validFraction < 1)) {
      throw new UsageError(`--valid-fraction must be in [0, 1), got "${values["valid-fraction"]}"`);
    }
    const seed = Number(values.seed);
    if (!Number.isInteger(seed)) {
      throw new UsageError(`--seed must be an integer, got "${values.seed}"`);
    }
    let params: Record<string, unknown> = {};
    if (values.params) {
      try {
        params = JSON.parse(values.params);
      } catch {
        throw new UsageError(`--params must be JSON, e.g. '{"nEstimators":200}'`);
      }
    }
    const read = await readTable(values.data);
    if (read.rows === 0) throw new TrainingDataError(`${values.data} has no data rows`);
    console.error(`read ${read.rows} rows from ${values.data}`);
    const t0 = performance.now();
    const { model } = trainModel(read.table, {
      target: values.target.split(","),
      algo: values.algo,
      task: values.task as "classification" | "regression" | undefined,
      validFraction,
      seed,
      exclude: values.exclude?.split(",") ?? [],
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
      `trained ${model.algo} (${model.spec.target.task}) in ${
        seconds.toFixed(2)
      } s → ${values.out}/model.onnx`,
    );
    for (const [k, v] of Object.entries(model.metrics)) {
      console.log(`  ${k.padEnd(10)} ${Number(v.toPrecision(6))}`);
    }
    if (values.register) {
      const store = await openStore();
      try {
        const registry = await ModelRegistry.open(store.db);
        const v = await registerModel(
          { registry, artifacts: openArtifactStore(dataHome()) },
          model,
          {
            name: values.register,
            fingerprint: await fingerprintTable(read.table),
          },
        );
        console.log(`registered ${v.name} version ${v.version}`);
      } finally {
        await store.close();
      }
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n${USAGE}`);
      return 2;
    }
    if (
      e instanceof TrainingDataError || e instanceof Deno.errors.NotFound ||
      e instanceof UnsupportedFormatError
    ) {
      console.error(`cannot train: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) Deno.exit(await trainCommand(Deno.args));
