/**
 * `deno task predict`: scores a CSV or Parquet file with a model directory or a registered model
 * (`name`, `name@alias`, `name@N`) through ONNX Runtime, and writes the input rows with the outputs
 * added: `label` and `p_<class>` per class, or `predicted_<target>`, and `error`.
 *
 * One output row per input row, in order: a row that cannot be scored (a feature value of the
 * wrong type, a ragged row…) is written with empty outputs and its reason in `error`, and is also
 * listed in `<out>.quarantine.csv`; stderr counts them. The model's features are read with the
 * model's types; other columns pass through (numeric only when every value is a number). Exit 2 with
 * one clear line on a usage mistake, an unreadable file or a model that cannot be found.
 *
 * @example
 * ```sh
 * deno task predict --model delays@champion --data flights-june.parquet --out scored.csv
 * ```
 */
import { dataHome, openStore } from "../../runner/store/open.ts";
import { openArtifactStore } from "../../runner/artifacts/open.ts";
import { parse, UsageError } from "../../runner/cli/common.ts";
import { writeTable } from "../data/read_table.ts";
import type { ColumnSpec as TableColumnSpec } from "../data/schema.ts";
import { type Column, isNumericColumn, type Table } from "../../models/core/table.ts";
import type { ColumnSpec } from "../../models/core/columns.ts";
import { loadModel } from "../../models/package.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import { ModelRegistry } from "../../models/registry/registry.ts";
import { failedCommand, quarantineBeside, readInput } from "./input.ts";

const USAGE =
  "usage: deno task predict --model <dir|name@alias> --data <csv|parquet> --out <csv|parquet>";

/** The model's features as declared column types: numbers must be numbers; labels pass as text. */
function declaredFeatures(spec: ColumnSpec): Record<string, TableColumnSpec> {
  return Object.fromEntries(spec.features.map((f) => [
    f.name,
    {
      type: f.type === "numeric" ? "numeric" as const : "categorical" as const,
      required: true,
      nullable: true,
    },
  ]));
}

/** Spreads `scored` (rows in order, without the quarantined ones) over all `total` rows. */
function spread(
  scored: Column,
  total: number,
  bad: Map<number, Record<string, unknown>>,
  name: string,
): Column {
  const numeric = isNumericColumn(scored);
  const out: (string | null)[] = [];
  const nums = new Float64Array(numeric ? total : 0);
  let j = 0;
  for (let i = 0; i < total; i++) {
    const row = bad.get(i);
    if (row === undefined) {
      if (numeric) nums[i] = scored[j];
      else out.push(scored[j]);
      j++;
    } else if (numeric) {
      const v = row[name];
      const n = typeof v === "number" ? v : typeof v === "string" && v.trim() ? Number(v) : NaN;
      nums[i] = Number.isFinite(n) ? n : NaN; // the raw value is kept in the quarantine file
    } else {
      const v = row[name];
      out.push(v === undefined || v === null ? null : String(v));
    }
  }
  return numeric ? nums : out;
}

export async function predictCommand(args: string[]): Promise<number> {
  let store: Awaited<ReturnType<typeof openStore>> | undefined;
  try {
    const { values } = parse(args, {
      model: { type: "string" },
      data: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    }, false);
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
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
    const read = await readInput(values.data, {
      declared: declaredFeatures(model.spec),
      tolerance: 0,
      quarantine: quarantineBeside(values.out),
    });
    const { table, total } = read;
    const n = read.rows;
    const outputs: Record<string, Column> = {};
    if (n > 0) {
      const out = await runOnnx(onnx, table, model.spec);
      if (model.spec.target.task === "regression") {
        model.spec.target.names.forEach((name, k) => {
          outputs[`predicted_${name}`] = Float64Array.from(
            { length: n },
            (_, i) => out.predictions![i * out.width + k],
          );
        });
      } else {
        const classes = model.spec.target.classes!;
        outputs.label = Array.from(out.label!, (c) => classes[Number(c)]);
        classes.forEach((c, k) => {
          outputs[`p_${c}`] = Float64Array.from(
            { length: n },
            (_, i) => out.probabilities![i * out.width + k],
          );
        });
      }
    } else if (model.spec.target.task === "regression") {
      for (const name of model.spec.target.names) outputs[`predicted_${name}`] = new Float64Array();
    } else {
      outputs.label = [];
      for (const c of model.spec.target.classes!) outputs[`p_${c}`] = new Float64Array();
    }
    const bad = new Map(read.quarantined.map((q) => [q.index, q.values]));
    const reasons = new Map(read.quarantined.map((q) => [q.index, q.reason]));
    const result: Record<string, Column> = {};
    // input values of unscored rows come back from the raw row; their outputs stay empty
    for (const [name, column] of Object.entries(table)) {
      result[name] = spread(column, total, bad, name);
    }
    const unscored = new Map([...bad.keys()].map((i) => [i, {}]));
    for (const [name, column] of Object.entries(outputs)) {
      result[name] = spread(column, total, unscored, name);
    }
    result.error = Array.from({ length: total }, (_, i) => reasons.get(i) ?? null);
    await writeTable(values.out, result as Table);
    console.log(
      `scored ${n} of ${total} rows with ${
        version ? `${version.name}@${version.version}` : values.model
      } → ${values.out}${
        total > n
          ? ` (${total - n} row${
            total - n === 1 ? "" : "s"
          } could not be scored: see the error column)`
          : ""
      }`,
    );
    return 0;
  } catch (e) {
    return failedCommand(e, "predict", USAGE);
  } finally {
    await store?.close();
  }
}

if (import.meta.main) Deno.exit(await predictCommand(Deno.args));
