// `deno task train` and `deno task predict` as a user runs them: files in, files out, exit codes.
import assert from "node:assert/strict";
import { readTable, writeTable } from "../../tasks/data/read_table.ts";
import { Random } from "../../tasks/random.ts";

async function run(task: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `models/cli/${task}.ts`, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function dataset(dir: string): Promise<string> {
  const rng = new Random(1);
  const n = 2000;
  const distance = new Float64Array(n), hour = new Float64Array(n);
  const origin: string[] = [], late: string[] = [];
  for (let i = 0; i < n; i++) {
    distance[i] = 200 + rng.next() * 2000;
    hour[i] = rng.int(24);
    origin.push(["SEA", "SFO", "ORD"][rng.int(3)]);
    late.push(
      hour[i] > 16 && rng.next() < 0.7 || origin[i] === "ORD" && rng.next() < 0.4 ? "yes" : "no",
    );
  }
  const file = `${dir}/flights.csv`;
  await writeTable(file, { distance, hour, origin, late });
  return file;
}

Deno.test({
  name: "train writes model.onnx and model.json, registers, and predict scores by dir and by alias",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const env = { DRIFTFLOW_HOME: `${dir}/home` };
    const data = await dataset(dir);
    const t = await run("train", [
      "--data",
      data,
      "--target",
      "late",
      "--seed",
      "3",
      "--register",
      "delays",
      "--out",
      `${dir}/m`,
    ], env);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /roc_auc\s+0\.\d+/);
    assert.match(t.stdout, /registered delays version 1/);
    assert.ok((await Deno.stat(`${dir}/m/model.onnx`)).size > 1000);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/m/model.json`));
    assert.deepEqual(meta.spec.target.classes, ["no", "yes"]);
    const p = await run("predict", [
      "--model",
      `${dir}/m`,
      "--data",
      data,
      "--out",
      `${dir}/scored.csv`,
    ], env);
    assert.equal(p.code, 0, p.stderr);
    const scored = (await readTable(`${dir}/scored.csv`)).table;
    assert.equal((scored.label as string[]).length, 2000);
    assert.ok(Array.from(scored.p_yes as Float64Array).every((v) => v >= 0 && v <= 1));
    const byName = await run("predict", [
      "--model",
      "delays@1",
      "--data",
      data,
      "--out",
      `${dir}/scored2.csv`,
    ], env);
    assert.equal(byName.code, 0, byName.stderr);
    assert.match(byName.stdout, /scored 2000 rows with delays@1/);
    assert.deepEqual((await readTable(`${dir}/scored2.csv`)).table.p_yes, scored.p_yes);
    const noAlias = await run("predict", [
      "--model",
      "delays@champion",
      "--data",
      data,
      "--out",
      `${dir}/x.csv`,
    ], env);
    assert.equal(noAlias.code, 2);
    assert.match(noAlias.stderr, /has no alias "champion"/);
  },
});

Deno.test("train exits 2 on a missing target, an empty file, a constant target and bad options", async () => {
  const dir = await Deno.makeTempDir();
  const env = { DRIFTFLOW_HOME: `${dir}/home` };
  const data = await dataset(dir);
  const missing = await run(
    "train",
    ["--data", data, "--target", "delay", "--out", `${dir}/m`],
    env,
  );
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /target column "delay" is not in the data \(columns: distance, hour, origin, late\)/,
  );
  await Deno.writeTextFile(`${dir}/empty.csv`, "distance,late\n");
  const empty = await run("train", [
    "--data",
    `${dir}/empty.csv`,
    "--target",
    "late",
    "--out",
    `${dir}/m`,
  ], env);
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /has no data rows/);
  await Deno.writeTextFile(`${dir}/constant.csv`, "distance,late\n1,no\n2,no\n3,no\n");
  const constant = await run("train", [
    "--data",
    `${dir}/constant.csv`,
    "--target",
    "late",
    "--out",
    `${dir}/m`,
  ], env);
  assert.equal(constant.code, 2);
  assert.match(constant.stderr, /constant/);
  const badAlgo = await run("train", [
    "--data",
    data,
    "--target",
    "late",
    "--algo",
    "svm",
    "--out",
    `${dir}/m`,
  ], env);
  assert.equal(badAlgo.code, 2);
  assert.match(badAlgo.stderr, /--algo must be gbdt or logistic/);
  const noFile = await run("train", [
    "--data",
    `${dir}/absent.parquet`,
    "--target",
    "late",
    "--out",
    `${dir}/m`,
  ], env);
  assert.equal(noFile.code, 2);
  assert.match(noFile.stderr, /cannot train: no such file/);
  const badFormat = await run("train", [
    "--data",
    `${dir}/flights.xlsx`,
    "--target",
    "late",
    "--out",
    `${dir}/m`,
  ], env);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /name it \.csv or \.parquet/);
  const noOut = await run("train", ["--data", data, "--target", "late"], env);
  assert.equal(noOut.code, 2);
  assert.match(noOut.stderr, /usage: deno task train/);
});
