/**
 * `deno task predict`: scores a CSV or Parquet file with a model directory or a registered model
 * (`name`, `name@alias`, `name@N`) through ONNX Runtime, and writes the input rows with the outputs
 * added: `label` and `p_<class>` per class, or `predicted_<target>`.
 *
 * @example
 * ```sh
 * deno task predict --model delays@champion --data flights-june.parquet --out scored.csv
 * ```
 */
import { dataHome, openStore } from "../../runner/store/open.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { parse, UsageError } from "../../runner/cli/common.ts";
import { readTable, UnsupportedFormatError, writeTable } from "../../tasks/data/read_table.ts";
import { rowCount, type Table } from "../../tasks/data/table.ts";
import { loadModel } from "../package.ts";
import { runOnnx } from "../onnx/runtime.ts";
import { ModelInputError } from "../columns.ts";
import { ModelNotFoundError, ModelRegistry } from "../registry/registry.ts";

const USAGE =
  "usage: deno task predict --model <dir|name@alias> --data <csv|parquet> --out <csv|parquet>";

export async function predictCommand(args: string[]): Promise<number> {
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  try {
    const { values } = parse(args, {
      model: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
    }, false);
    if (!values.model || !values.data || !values.out) {
      throw new UsageError("--model, --data and --out are required");
    }
    let isDir = false;
    try {
      isDir = (await Deno.stat(values.model)).isDirectory;
    } catch { /* a registry reference */ }
    let deps;
    if (!isDir) {
      store = await openStore();
      deps = {
        registry: await ModelRegistry.open(store.db),
        artifacts: openArtifactStore(dataHome()),
      };
    }
    const { model, onnx, version } = await loadModel(values.model, deps);
    const { table } = await readTable(values.data);
    const n = rowCount(table);
    const out = await runOnnx(onnx, table, model.spec);
    const result: Record<string, Table[string]> = { ...table };
    if (model.spec.target.task === "regression") {
      model.spec.target.names.forEach((name, k) => {
        result[`predicted_${name}`] = Float64Array.from(
          { length: n },
          (_, i) => out.predictions![i * out.width + k],
        );
      });
    } else {
      const classes = model.spec.target.classes!;
      result.label = Array.from(out.label!, (c) => classes[Number(c)]);
      classes.forEach((c, k) => {
        result[`p_${c}`] = Float64Array.from(
          { length: n },
          (_, i) => out.probabilities![i * out.width + k],
        );
      });
    }
    await writeTable(values.out, result);
    console.log(
      `scored ${n} rows with ${
        version ? `${version.name}@${version.version}` : values.model
      } → ${values.out}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n${USAGE}`);
      return 2;
    }
    if (
      e instanceof ModelNotFoundError || e instanceof ModelInputError ||
      e instanceof Deno.errors.NotFound || e instanceof UnsupportedFormatError
    ) {
      console.error(`cannot predict: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    await store?.close();
  }
}

if (import.meta.main) Deno.exit(await predictCommand(Deno.args));
