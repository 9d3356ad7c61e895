import assert from "node:assert/strict";
import { readCsv, writeCsv } from "../../tasks/data/csv.ts";
import { list, readBytes } from "../../tasks/data/location.ts";
import { readParquet, writeParquet } from "../../tasks/data/parquet.ts";
import { readTable, writeTable } from "../../tasks/data/read_table.ts";
import { MissingColumnError, TableSchema } from "../../tasks/data/schema.ts";
import { startS3 } from "../runner/moto.ts";

const schema = TableSchema.parse({
  columns: {
    when: { type: "datetime" },
    delay: { type: "numeric", min: -100 },
    origin: { type: "categorical", nullable: false },
    cancelled: { type: "boolean" },
    note: { type: "text", required: false },
  },
});

Deno.test("csv: rows are read through the schema; bad rows are quarantined with their reasons", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(
    `${dir}/in.csv`,
    "when,delay,origin,cancelled,extra\n" +
      "2026-01-01T00:00:00Z,12,SEA,false,x\n" +
      "2026-01-01T01:00:00Z,,SFO,1,x\n" +
      "2026-01-01T02:00:00Z,soon,LAX,0,x\n" +
      "yesterday,3,,no,x\n" +
      "2026-01-01T03:00:00Z,-500,PDX,maybe,x\n",
  );
  const r = await readCsv(`${dir}/in.csv`, { schema, quarantine: `${dir}/bad.csv` });
  assert.equal(r.rows, 2);
  assert.deepEqual(Array.from(r.table.delay as Float64Array), [12, NaN]);
  assert.deepEqual(r.table.origin, ["SEA", "SFO"]);
  assert.deepEqual(Array.from(r.table.cancelled as Float64Array), [0, 1]);
  assert.equal((r.table.when as Float64Array)[0], Date.parse("2026-01-01T00:00:00Z"));
  assert.deepEqual(
    r.table.note,
    [null, null],
    "an optional column the file lacks reads as missing",
  );
  assert.deepEqual(r.quarantined.map((q) => [q.row, q.reason]), [
    [4, 'delay: not a number: "soon"'],
    [5, 'when: not a date: "yesterday"; origin: missing value'],
    [6, 'delay: -500 is below the minimum -100; cancelled: not a boolean: "maybe"'],
  ]);
  const bad = await Deno.readTextFile(`${dir}/bad.csv`);
  assert.match(bad.split("\n")[0], /^_line,_reason,when,delay,origin,cancelled,extra$/);
  assert.equal(bad.trim().split("\n").length, 4);
});

Deno.test("csv: a missing required column fails, naming it and what the file has", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/in.csv`, "when,delay\n2026-01-01,1\n");
  await assert.rejects(() => readCsv(`${dir}/in.csv`, { schema }), (e) => {
    assert.ok(e instanceof MissingColumnError);
    assert.match(
      e.message,
      /missing required columns "origin", "cancelled"; the file has: when, delay/,
    );
    return true;
  });
});

Deno.test("csv and parquet: round trips, with types inferred when no schema is given", async () => {
  const dir = await Deno.makeTempDir();
  const table = { x: Float64Array.of(1.5, NaN, -3), c: ["a", null, "c"] };
  for (const ext of ["csv", "parquet"]) {
    await writeTable(`${dir}/t.${ext}`, table);
    const back = await readTable(`${dir}/t.${ext}`);
    assert.deepEqual(Array.from(back.table.x as Float64Array), [1.5, NaN, -3], ext);
    assert.deepEqual(back.table.c, ["a", null, "c"], ext);
    assert.equal(back.schema.columns.x.type, "numeric");
    assert.equal(back.schema.columns.c.type, "categorical");
  }
  const part = await readParquet(`${dir}/t.parquet`, { columns: ["x"], rowStart: 1, rowEnd: 3 });
  assert.deepEqual(Object.keys(part.table), ["x"]);
  assert.deepEqual(Array.from(part.table.x as Float64Array), [NaN, -3]);
  await assert.rejects(() => readTable(`${dir}/t.json`), /name it \.csv or \.parquet/);
});

Deno.test({
  name: "s3: tables are written to and read from s3:// and listed by time",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s3 = await startS3("driftflow-data");
    const env = {
      DRIFTFLOW_S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
    };
    for (const [k, v] of Object.entries(env)) Deno.env.set(k, v);
    try {
      const before = new Date(Date.now() - 1000);
      await writeCsv("s3://driftflow-data/incoming/a.csv", {
        n: Float64Array.of(1, 2),
        s: ["x", "y"],
      });
      await writeParquet("s3://driftflow-data/processed/a.parquet", { n: Float64Array.of(3) });
      const listed = await list("s3://driftflow-data/incoming/", { since: before, suffix: ".csv" });
      assert.deepEqual(listed.map((l) => l.uri), ["s3://driftflow-data/incoming/a.csv"]);
      assert.deepEqual(
        await list("s3://driftflow-data/incoming/", { since: new Date(Date.now() + 60_000) }),
        [],
      );
      const csv = await readCsv("s3://driftflow-data/incoming/a.csv");
      assert.deepEqual(csv.table.s, ["x", "y"]);
      const pq = await readParquet("s3://driftflow-data/processed/a.parquet");
      assert.deepEqual(Array.from(pq.table.n as Float64Array), [3]);
      assert.ok((await readBytes("s3://driftflow-data/incoming/a.csv")).length > 0);
    } finally {
      for (const k of Object.keys(env)) Deno.env.delete(k);
      await s3.stop();
    }
  },
});

Deno.test("parquet: a row range of a multi-page file returns exactly those rows", async () => {
  const dir = await Deno.makeTempDir();
  const n = 5000;
  await writeParquet(`${dir}/big.parquet`, {
    i: Float64Array.from({ length: n }, (_, k) => k),
    s: Array.from({ length: n }, (_, k) => `r${k}`),
  });
  const part = await readParquet(`${dir}/big.parquet`, { rowStart: 1500, rowEnd: 1600 });
  assert.equal(part.rows, 100);
  assert.equal((part.table.i as Float64Array)[0], 1500);
  assert.equal((part.table.s as string[])[99], "r1599");
});
