// `deno task train` and `deno task predict` as a user runs them: files in, files out, exit codes.
import assert from "node:assert/strict";
import { lockPgliteFolder } from "../../../runner/store/pglite_lock.ts";
import { readTable, writeTable } from "../../../tasks/data/read_table.ts";
import { Random } from "../../../models/core/random.ts";

async function run(task: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `tasks/cli/${task}.ts`, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(180_000), // every process a test starts is bounded
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
    assert.match(byName.stdout, /scored 2000 of 2000 rows with delays@1/);
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
    assert.match(t.stdout, /features \(3\): distance \(numeric\), hour \(numeric\), origin/);
    // the alias the README's predict example needs, set by hand and recorded with who and why
    const alias = await run("models", [
      "alias",
      "delays",
      "champion",
      "1",
      "--reason",
      "first model",
      "--by",
      "tester",
    ], env);
    assert.equal(alias.code, 0, alias.stderr);
    assert.match(alias.stdout, /delays@champion → v1 by tester: first model/);
    const byAlias = await run("predict", [
      "--model",
      "delays@champion",
      "--data",
      data,
      "--out",
      `${dir}/scored3.csv`,
    ], env);
    assert.equal(byAlias.code, 0, byAlias.stderr);
    const listed = await run("models", ["delays"], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /champion\s+-\s+1\s+tester\s+first model/);
    for (
      const [args, re] of [
        [["alias", "delays", "champion", "7"], /has no version 7; versions: 1/],
        [["alias", "nope", "champion", "1"], /no model "nope" is registered/],
        [["alias", "delays", "champion"], /give a VERSION .* or --remove/],
        [["alias", "delays", "staging", "--remove"], /has no alias "staging" to remove/],
        [["alias", "delays", "9lives", "1"], /alias "9lives" is not valid/],
      ] as [string[], RegExp][]
    ) {
      const r = await run("models", args, env);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
    }
  },
});

Deno.test("train says which columns became features; --features and --drop choose them", async () => {
  const dir = await Deno.makeTempDir();
  const env = { DRIFTFLOW_HOME: `${dir}/home` };
  const data = await dataset(dir);
  const args = ["--data", data, "--target", "late", "--out", `${dir}/m`];
  const dropped = await run("train", [...args, "--drop", "hour"], env);
  assert.equal(dropped.code, 0, dropped.stderr);
  assert.match(dropped.stdout, /features \(2\): distance \(numeric\), origin \(categorical\)/);
  assert.match(dropped.stdout, /left out: hour/);
  let meta = JSON.parse(await Deno.readTextFile(`${dir}/m/model.json`));
  assert.deepEqual(meta.spec.features.map((f: { name: string }) => f.name), ["distance", "origin"]);
  const picked = await run("train", [...args, "--features", "hour"], env);
  assert.equal(picked.code, 0, picked.stderr);
  assert.match(picked.stdout, /features \(1\): hour \(numeric\)/);
  meta = JSON.parse(await Deno.readTextFile(`${dir}/m/model.json`));
  assert.deepEqual(meta.spec.features.map((f: { name: string }) => f.name), ["hour"]);
  for (
    const [extra, re] of [
      [["--features", "hour,date"], /--features: no column "date"; the columns are distance, hour/],
      [["--drop", "late"], /--drop: "late" is the target/],
      [["--features", "hour", "--drop", "origin"], /give --features .* or --drop .* not both/],
    ] as [string[], RegExp][]
  ) {
    const r = await run("train", [...args, ...extra], env);
    assert.equal(r.code, 2, extra.join(" "));
    assert.match(r.stderr, re, extra.join(" "));
  }
});

Deno.test("train, predict and models print their usage with --help and exit 0", async () => {
  const env = { DRIFTFLOW_HOME: await Deno.makeTempDir() };
  for (
    const [task, re] of [["train", /--features/], ["predict", /--model/], ["models", /alias/]] as [
      string,
      RegExp,
    ][]
  ) {
    const r = await run(task, ["--help"], env);
    assert.equal(r.code, 0, `${task}: ${r.stderr}`);
    assert.match(r.stdout, /usage: deno task/);
    assert.match(r.stdout, re);
  }
  const alias = await run("models", ["alias", "--help"], env);
  assert.equal(alias.code, 0, alias.stderr);
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

/**
 * The clean dataset with faults a real file has: a bad cell in the first rows (it must not flip
 * `distance` to categorical), bad values after row 1,000 (where inference used to stop), a ragged
 * row with one field too many and one with one too few. Returns the file and the faulty lines.
 */
async function dirtyDataset(dir: string): Promise<{ file: string; bad: Map<number, RegExp> }> {
  const lines = (await Deno.readTextFile(await dataset(dir))).trimEnd().split("\n");
  const bad = new Map<number, RegExp>(); // data row index (from 0) → reason
  const set = (i: number, text: string, reason: RegExp) => {
    lines[i + 1] = text;
    bad.set(i, reason);
  };
  const fields = (i: number) => lines[i + 1].split(",");
  const [, hour3, origin3, late3] = fields(3);
  set(3, `unknown,${hour3},${origin3},${late3}`, /distance: not a number: "unknown"/);
  for (const i of [1200, 1400, 1600, 1999]) {
    const [, h, o, l] = fields(i);
    set(i, `12km,${h},${o},${l}`, /distance: not a number: "12km"/);
  }
  set(1700, `${lines[1701]},extra`, /has 5 fields, the header has 4/);
  set(1800, fields(1800).slice(0, 3).join(","), /has 3 fields, the header has 4/);
  set(1900, "", /is a blank line \(the header has 4 columns\)/); // counted, never dropped
  const file = `${dir}/dirty.csv`;
  await Deno.writeTextFile(file, lines.join("\n") + "\n");
  return { file, bad: new Map([...bad].sort(([a], [b]) => a - b)) };
}

Deno.test({
  name:
    "train and predict account for every row: quarantine with reasons, types from all rows, one output row per input row",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const env = { DRIFTFLOW_HOME: `${dir}/home` };
    const { file, bad } = await dirtyDataset(dir);
    const t = await run("train", ["--data", file, "--target", "late", "--out", `${dir}/m`], env);
    assert.equal(t.code, 0, t.stderr);
    assert.match(
      t.stderr,
      new RegExp(`read 1992 of 2000 rows from ${file}; 8 quarantined → ${dir}/m/quarantine\\.csv`),
    );
    assert.match(t.stdout, /on 1992 of 2000 rows/);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/m/model.json`));
    const distance = meta.spec.features.find((f: { name: string }) => f.name === "distance");
    assert.equal(distance.type, "numeric", "one bad cell does not turn distance categorical");
    const q = (await readTable(`${dir}/m/quarantine.csv`)).table;
    assert.deepEqual(
      Array.from(q._line as Float64Array),
      [...bad.keys()].map((i) => i + 2),
      "each quarantined row with its line in the file",
    );
    [...bad.values()].forEach((re, k) => assert.match((q._reason as string[])[k], re));

    const p = await run("predict", [
      "--model",
      `${dir}/m`,
      "--data",
      file,
      "--out",
      `${dir}/scored.csv`,
    ], env);
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /scored 1992 of 2000 rows .* \(8 rows could not be scored/);
    assert.match(p.stderr, /8 quarantined → .*scored\.quarantine\.csv/);
    const scored = (await readTable(`${dir}/scored.csv`, { tolerance: 0 })).table;
    const input = (await readTable(await dataset(dir))).table;
    assert.equal((scored.error as string[]).length, 2000, "one output row per input row");
    for (let i = 0; i < 2000; i++) {
      const error = (scored.error as (string | null)[])[i];
      const p = (scored.p_yes as Float64Array)[i];
      if (bad.has(i)) {
        assert.match(error ?? "", bad.get(i)!, `row ${i}`);
        assert.ok(Number.isNaN(p), `row ${i} has no score`);
      } else {
        assert.equal(error, null, `row ${i}`);
        assert.ok(p >= 0 && p <= 1, `row ${i}`);
        assert.equal(
          Number((scored.distance as string[])[i]),
          (input.distance as Float64Array)[i],
          `row ${i} stays in its place`,
        );
      }
    }
  },
});

Deno.test({
  name:
    "train and predict: unreadable input, bad --params and a --register that cannot work give one line, exit 2, before training",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const env = { DRIFTFLOW_HOME: `${dir}/home` };
    const data = await dataset(dir);
    const full = (await readTable(data)).table;
    await writeTable(`${dir}/flights.parquet`, full);
    const bytes = await Deno.readFile(`${dir}/flights.parquet`);
    await Deno.writeFile(`${dir}/cut.parquet`, bytes.slice(0, Math.floor(bytes.length / 2)));
    await Deno.writeTextFile(
      `${dir}/quote.csv`,
      'distance,hour,origin,late\n1,2,SEA,no\n3,4,"SFO,yes\n5,6,ORD,no\n',
    );
    const train = (extra: string[], data = `${dir}/flights.parquet`) =>
      run("train", ["--data", data, "--target", "late", "--out", `${dir}/m`, ...extra], env);
    const oneLine = (r: { code: number; stderr: string }, re: RegExp, what: string) => {
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.match(r.stderr, re, what);
      assert.equal(r.stderr.trim().split("\n").length, 1, `${what}: one line: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: no stack trace`);
    };
    oneLine(
      await train([], `${dir}/cut.parquet`),
      /^cannot train: .*cut\.parquet: not a readable Parquet file \(truncated or corrupt\?\)/,
      "truncated parquet",
    );
    oneLine(
      await train([], `${dir}/quote.csv`),
      /^cannot train: .*quote\.csv: a quoted field that starts after line 2 is never closed/,
      "unclosed quote",
    );
    oneLine(
      await train(["--params", "{nEstimators: 5"]),
      /^cannot train: --params is not valid JSON/,
      "bad JSON",
    );
    oneLine(
      await train(["--params", "[5]"]),
      /^cannot train: --params must be a JSON object/,
      "not an object",
    );
    oneLine(
      await train(["--params", '{"nEstimators":"many"}']),
      /^cannot train: --params: nEstimators: .*expected number.*\(gbdt takes nEstimators, /,
      "wrong type",
    );
    oneLine(
      await train(["--params", '{"trees":5}']),
      /^cannot train: --params: .*trees/,
      "unknown key",
    );
    oneLine(
      await train(["--register", "no spaces please"]),
      /^cannot train: --register "no spaces please" is not a model name/,
      "bad name",
    );
    await Deno.writeTextFile(`${dir}/bad_schema.json`, '{"columns": {"hour": {"type": "int"}}}');
    oneLine(
      await train(["--schema", `${dir}/bad_schema.json`]),
      /^cannot train: .*bad_schema\.json: not a table schema: columns\.hour\.type: /,
      "bad schema",
    );
    // The store is taken (by this test process): train must refuse before it trains anything.
    const lock = await lockPgliteFolder(`${dir}/home/pgdata`);
    try {
      const held = await train(["--register", "delays"]);
      oneLine(held, /^cannot train: the PGlite database .* is in use by process \d+/, "store busy");
    } finally {
      lock.release();
    }
    await assert.rejects(() => Deno.stat(`${dir}/m/model.onnx`), Deno.errors.NotFound);
    await Deno.writeTextFile(
      `${dir}/schema.json`,
      JSON.stringify({
        columns: {
          distance: { type: "numeric", min: 0 },
          hour: { type: "categorical" }, // declared: hours as labels, not numbers
          origin: { type: "categorical", values: ["SEA", "SFO", "ORD"] },
          late: { type: "categorical" },
        },
      }),
    );
    const ok = await train([
      "--register",
      "delays",
      "--params",
      '{"nEstimators":5}',
      "--schema",
      `${dir}/schema.json`,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /registered delays version 1/);
    const meta = JSON.parse(await Deno.readTextFile(`${dir}/m/model.json`));
    assert.equal(
      meta.spec.features.find((f: { name: string }) => f.name === "hour").type,
      "categorical",
    );

    const predict = (data: string) =>
      run("predict", ["--model", `${dir}/m`, "--data", data, "--out", `${dir}/s.csv`], env);
    oneLine(
      await predict(`${dir}/cut.parquet`),
      /^cannot predict: .*not a readable Parquet file/,
      "predict truncated",
    );
    oneLine(
      await predict(`${dir}/quote.csv`),
      /^cannot predict: .*is never closed/,
      "predict quote",
    );
  },
});
