/**
 * Trainers on known problems, and ONNX parity: the exported graph scored by onnxruntime-node equals
 * the TypeScript predictor within 1e-5, and Python's onnxruntime scores it identically.
 */
import assert from "node:assert/strict";
import { predictModel, type TrainedModel, trainModel } from "../../models/model.ts";
import { exportOnnx } from "../../models/export_onnx.ts";
import { decodeModel } from "../../models/onnx/proto.ts";
import { runOnnx } from "../../models/onnx/runtime.ts";
import { TrainingDataError } from "../../models/core/columns.ts";
import type { Table } from "../../models/core/table.ts";
import { Random } from "../../models/core/random.ts";

const PYTHON = Deno.env.get("DRIFTFLOW_PYTHON") ?? ".venv/bin/python";

/** y depends on x (with missing values), a categorical with an unseen label at scoring, and noise. */
function problem(n: number, seed: number, kind: "binary" | "multiclass" | "regression"): Table {
  const rng = new Random(seed);
  const x = new Float64Array(n), z = new Float64Array(n), flag: string[] = [];
  const cat: (string | null)[] = [], yNum = new Float64Array(n), yLab: string[] = [];
  for (let i = 0; i < n; i++) {
    x[i] = rng.next() < 0.05 ? NaN : rng.normal();
    z[i] = rng.normal() * 50 + 100;
    cat.push(rng.next() < 0.05 ? null : ["red", "green", "blue", "amber"][rng.int(4)]);
    flag.push(rng.next() < 0.5 ? "yes" : "no");
    const signal = (Number.isNaN(x[i]) ? 0 : x[i]) * 1.5 + (cat[i] === "green" ? 1 : 0) +
      (z[i] - 100) / 50 + (flag[i] === "yes" ? 0.5 : 0);
    yNum[i] = signal * 10 + rng.normal();
    const noisy = signal + rng.normal() * 0.7;
    yLab.push(
      kind === "multiclass"
        ? (noisy < -0.5 ? "low" : noisy < 1 ? "mid" : "high")
        : noisy > 0.5
        ? "late"
        : "on_time",
    );
  }
  return { x, z, cat, flag, y: kind === "regression" ? yNum : yLab };
}

function withUnseen(t: Table): Table {
  const cat = [...(t.cat as (string | null)[])];
  cat[0] = "violet";
  cat[1] = null;
  return { ...t, cat };
}

async function onnxVsTs(model: TrainedModel, table: Table): Promise<number> {
  const ts = predictModel(model, table);
  const ox = await runOnnx(exportOnnx(model), table, model.spec);
  let max = 0;
  const n = (table.x as Float64Array).length;
  if (ts.predictions) {
    for (let i = 0; i < n; i++) {
      max = Math.max(max, Math.abs(ox.predictions![i] - ts.predictions[0][i]));
    }
    return max;
  }
  const C = ts.probabilities!.length;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < C; k++) {
      max = Math.max(max, Math.abs(ox.probabilities![i * C + k] - ts.probabilities![k][i]));
    }
    assert.equal(
      model.spec.target.classes![Number(ox.label![i])],
      ts.label![i],
      `label of row ${i}`,
    );
  }
  return max;
}

Deno.test("gbdt binary: learns the problem, ONNX equals the TypeScript predictor", async () => {
  const { model } = trainModel(problem(6000, 1, "binary"), { target: "y", algo: "gbdt", seed: 1 });
  assert.ok(model.metrics.roc_auc > 0.85, `AUC ${model.metrics.roc_auc}`);
  assert.deepEqual(model.spec.target.classes, ["late", "on_time"]);
  assert.deepEqual(model.spec.features.map((f) => `${f.name}:${f.type}`), [
    "x:numeric",
    "z:numeric",
    "cat:categorical",
    "flag:boolean",
  ]);
  const diff = await onnxVsTs(model, withUnseen(problem(1000, 2, "binary")));
  assert.ok(diff < 1e-5, `max |ONNX − TS| = ${diff}`);
});

Deno.test("gbdt multiclass and regression: ONNX parity", async () => {
  const multi = trainModel(problem(5000, 3, "multiclass"), { target: "y", seed: 2 }).model;
  assert.equal(multi.gbdt!.objective, "multiclass");
  assert.ok(multi.metrics.accuracy > 0.6, `accuracy ${multi.metrics.accuracy}`);
  assert.ok(await onnxVsTs(multi, withUnseen(problem(500, 4, "multiclass"))) < 1e-5);
  const reg = trainModel(problem(5000, 5, "regression"), { target: "y", seed: 3 }).model;
  assert.equal(reg.spec.target.task, "regression");
  assert.ok(reg.metrics.rmse < 4, `rmse ${reg.metrics.rmse} (noise sd 1, signal sd ≈ 20)`);
  assert.ok(await onnxVsTs(reg, withUnseen(problem(500, 6, "regression"))) < 1e-4);
});

Deno.test("gbdt multi-output regression: one ensemble per output", () => {
  const t = problem(3000, 7, "regression");
  const y2 = (t.y as Float64Array).map((v) => -2 * v + 5);
  const { model } = trainModel({ ...t, y2 }, {
    target: ["y", "y2"],
    seed: 1,
    params: { nEstimators: 50 },
  });
  assert.equal(model.gbdt!.nOutputs, 2);
  assert.ok(model.metrics.rmse_y2 < 12 && model.metrics.rmse_y < 6, JSON.stringify(model.metrics));
  const out = predictModel(model, t).predictions!;
  assert.equal(out.length, 2);
});

Deno.test("gbdt is seeded: same seed, same trees; subsampling and early stopping work", () => {
  const t = problem(3000, 8, "binary");
  const params = {
    rowSubsample: 0.7,
    colSubsample: 0.5,
    nEstimators: 300,
    earlyStoppingRounds: 10,
    learningRate: 0.3,
  };
  const a = trainModel(t, { target: "y", seed: 4, params }).model;
  const b = trainModel(t, { target: "y", seed: 4, params }).model;
  assert.deepEqual(a.gbdt, b.gbdt);
  assert.ok(a.gbdt!.rounds < 300, `early stopping kept ${a.gbdt!.rounds} rounds`);
  const best = Math.min(...a.gbdt!.validLoss);
  assert.equal(a.gbdt!.validLoss[a.gbdt!.rounds - 1], best);
});

Deno.test("logistic: recovers known weights; ONNX equals the TypeScript predictor", async () => {
  const rng = new Random(9);
  const n = 20000, x = new Float64Array(n), c: string[] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    x[i] = rng.normal();
    c.push(["a", "b"][rng.int(2)]);
    const z = 2 * x[i] + (c[i] === "b" ? 1 : -1) * 0.5 - 0.3;
    y.push(rng.next() < 1 / (1 + Math.exp(-z)) ? 1 : 0);
  }
  const table = { x, c, y: Float64Array.from(y) };
  const { model } = trainModel(table, {
    target: "y",
    algo: "logistic",
    validFraction: 0,
    params: { C: 1e6 },
  });
  const [wx, wa, wb] = model.linear!.weights;
  // x is standardised: its weight is 2·std(x) ≈ 2
  assert.ok(Math.abs(wx - 2) < 0.1, `wx ${wx}`);
  assert.ok(Math.abs(wb - wa - 1) < 0.1, `one-hot contrast ${wb - wa}`);
  assert.ok(model.linear!.converged);
  assert.ok(await onnxVsTs(model, problemLike(table)) < 1e-5);
});

function problemLike(t: Table): Table {
  return {
    x: (t.x as Float64Array).slice(0, 500),
    c: [...(t.c as string[]).slice(0, 499), "unseen"],
  };
}

Deno.test("a model made here scores identically in Python's onnxruntime", async () => {
  const { model } = trainModel(problem(3000, 10, "binary"), {
    target: "y",
    seed: 1,
    params: { nEstimators: 40 },
  });
  const test = withUnseen(problem(300, 11, "binary"));
  const dir = await Deno.makeTempDir();
  await Deno.writeFile(`${dir}/model.onnx`, exportOnnx(model));
  const inputs: Record<string, { type: string; values: (number | string | null)[] }> = {};
  for (const f of model.spec.features) {
    const col = test[f.name];
    inputs[f.name] = f.type === "categorical"
      ? { type: "string", values: Array.from(col as (string | null)[]) }
      : {
        type: "float",
        values: f.type === "boolean"
          ? (col as string[]).map((v) => (v === "yes" ? 1 : 0))
          : Array.from(col as Float64Array, (v) => (Number.isNaN(v) ? null : v)),
      };
  }
  await Deno.writeTextFile(`${dir}/inputs.json`, JSON.stringify(inputs));
  const out = await new Deno.Command(PYTHON, {
    args: ["tests/models/score_onnx.py", `${dir}/model.onnx`, `${dir}/inputs.json`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const py = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    probabilities: number[][];
    label: number[][];
  };
  const node = await runOnnx(exportOnnx(model), test, model.spec);
  let max = 0;
  py.probabilities.forEach((row, i) =>
    row.forEach((p, k) => (max = Math.max(max, Math.abs(p - node.probabilities![i * 2 + k]))))
  );
  assert.ok(max < 1e-6, `Python vs Node onnxruntime differ by ${max}`);
  assert.deepEqual(py.label.map((r) => r[0]), Array.from(node.label!, Number));
});

Deno.test("the ONNX graph has one named input per raw column and the documented outputs", () => {
  const { model } = trainModel(problem(500, 12, "binary"), {
    target: "y",
    seed: 1,
    params: { nEstimators: 5 },
  });
  const m = decodeModel(exportOnnx(model)) as {
    graph: { input: { name: string }[]; output: { name: string }[]; node: { op_type: string }[] };
  };
  assert.deepEqual(m.graph.input.map((i) => i.name), ["x", "z", "cat", "flag"]);
  assert.deepEqual(m.graph.output.map((o) => o.name), ["label", "probabilities"]);
  const ops = new Set(m.graph.node.map((n) => n.op_type));
  for (const op of ["Imputer", "LabelEncoder", "TreeEnsembleRegressor", "Sigmoid"]) {
    assert.ok(ops.has(op), op);
  }
});

Deno.test("training refuses bad data with a clear message", () => {
  const t = problem(100, 13, "binary");
  assert.throws(
    () => trainModel(t, { target: "nope" }),
    (e) => e instanceof TrainingDataError && /not in the data/.test(e.message),
  );
  assert.throws(
    () => trainModel({ ...t, y: new Array<string>(t.y.length).fill("same") }, { target: "y" }),
    /constant/,
  );
  assert.throws(() => trainModel({ x: new Float64Array(0), y: [] }, { target: "y" }), /no rows/);
  assert.throws(
    () => trainModel(problem(200, 14, "regression"), { target: "y", algo: "logistic" }),
    /use --algo gbdt/,
  );
});
