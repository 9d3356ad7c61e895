import assert from "node:assert/strict";
import { readCsv, writeCsv } from "../../tasks/data/csv.ts";
import { list, readBytes } from "../../tasks/data/location.ts";
import { readParquet, writeParquet } from "../../tasks/data/parquet.ts";
import { readTable, writeTable } from "../../tasks/data/read_table.ts";
import {
  FileFormatError,
  MissingColumnError,
  TableBuilder,
  TableSchema,
  TypeTally,
} from "../../tasks/data/schema.ts";
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
  assert.equal(r.total, 5);
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
      // an S3 error is rethrown as it is, not called a corrupt file
      await assert.rejects(() => readParquet("s3://no-such-bucket/a.parquet"), (e) => {
        assert.ok(!(e instanceof FileFormatError), String(e));
        assert.doesNotMatch(String(e), /truncated or corrupt/);
        assert.match(String(e), /bucket/i);
        return true;
      });
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

Deno.test("csv: types come from all rows; bad cells, ragged rows and stray quotes are quarantined, every row counted", async () => {
  const dir = await Deno.makeTempDir();
  const lines = ["x,label,n"];
  for (let i = 0; i < 3000; i++) lines.push(`${i % 97},${i % 2 ? "a" : "b"},${i}`);
  lines[3] = "oops,a,2"; // early: inference on the first rows would call x categorical
  lines[2500] = "later,b,2499"; // after the first 1,000 rows
  lines[2600] = "1,a"; // ragged: too few
  lines[2700] = "1,a,2,3"; // ragged: too many
  lines[2800] = '1,say "hi",2799'; // a quote inside an unquoted field is kept
  lines[2900] = "NA,a,2899"; // an NA marker is a missing number
  await Deno.writeTextFile(`${dir}/in.csv`, lines.join("\n") + "\n");
  const r = await readCsv(`${dir}/in.csv`, { quarantine: `${dir}/bad.csv` });
  assert.equal(r.schema.columns.x.type, "numeric");
  assert.equal(r.schema.columns.n.type, "numeric");
  assert.equal(r.total, 3000);
  assert.equal(r.rows + r.quarantined.length, r.total);
  assert.deepEqual(r.quarantined.map((q) => [q.row, q.index, q.reason]), [
    [4, 2, 'x: not a number: "oops"'],
    [2501, 2499, 'x: not a number: "later"'],
    [2601, 2599, "has 2 fields, the header has 3"],
    [2701, 2699, "has 4 fields, the header has 3"],
  ]);
  assert.deepEqual(r.quarantined[3].values, { x: "1", label: "a", n: "2", _field4: "3" });
  assert.ok((r.table.label as string[]).includes('say "hi"'));
  assert.ok(Number.isNaN((r.table.x as Float64Array)[2899 - 4]), "NA is a missing value");
  assert.equal((await Deno.readTextFile(`${dir}/bad.csv`)).trim().split("\n").length, 5);
  // Mostly numbers but many words: categorical, nothing quarantined.
  await Deno.writeTextFile(`${dir}/codes.csv`, "code\n1\n2\nA\nB\n3\n");
  const codes = await readCsv(`${dir}/codes.csv`);
  assert.equal(codes.schema.columns.code.type, "categorical");
  assert.equal(codes.rows, 5);
  // With tolerance 0 (every value must be a number), one word makes the column categorical.
  const strict = await readCsv(`${dir}/in.csv`, { tolerance: 0 });
  assert.equal(strict.schema.columns.x.type, "categorical");
  assert.equal(strict.quarantined.length, 2, "only the ragged rows");
  // A declared type wins over inference.
  const declared = await readCsv(`${dir}/in.csv`, {
    declared: { n: { type: "categorical", required: true, nullable: true } },
  });
  assert.equal(declared.schema.columns.n.type, "categorical");
});

Deno.test("csv: a blank line is a row — missing in a one-column file, else quarantined, never dropped", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/one.csv`, "id\n1\n\n3\n\n5\n");
  const one = await readCsv(`${dir}/one.csv`);
  assert.equal(one.total, 5);
  assert.equal(one.rows, 5);
  assert.equal(one.schema.columns.id.type, "numeric");
  assert.deepEqual(Array.from(one.table.id as Float64Array), [1, NaN, 3, NaN, 5]);
  // text too: a blank is a missing category
  await Deno.writeTextFile(`${dir}/cat.csv`, "c\na\n\nb\n");
  const cat = await readCsv(`${dir}/cat.csv`);
  assert.deepEqual([cat.rows, cat.total], [3, 3]);
  assert.deepEqual(cat.table.c, ["a", null, "b"]);
  // more columns: a blank line is quarantined with its reason and counted
  await Deno.writeTextFile(`${dir}/two.csv`, "\na,b\n1,2\n\n3,4\n");
  const two = await readCsv(`${dir}/two.csv`);
  assert.deepEqual([two.rows, two.quarantined.length, two.total], [2, 1, 3]);
  assert.equal(two.quarantined[0].row, 4);
  assert.match(two.quarantined[0].reason, /is a blank line \(the header has 2 columns\)/);
});

Deno.test("csv and parquet: a file that cannot be read at all is a FileFormatError naming it", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/q.csv`, 'a,b\n1,2\n3,"open\n5,6\n');
  await assert.rejects(() => readCsv(`${dir}/q.csv`), (e) => {
    assert.ok(e instanceof FileFormatError);
    assert.match(e.message, /q\.csv: a quoted field that starts after line 2 is never closed/);
    return true;
  });
  await Deno.writeTextFile(`${dir}/dup.csv`, "a,a\n1,2\n");
  await assert.rejects(() => readCsv(`${dir}/dup.csv`), /names column "a" twice/);
  await writeParquet(`${dir}/t.parquet`, { x: Float64Array.from({ length: 100 }, (_, i) => i) });
  const bytes = await Deno.readFile(`${dir}/t.parquet`);
  await Deno.writeFile(`${dir}/cut.parquet`, bytes.slice(0, bytes.length - 20));
  await assert.rejects(() => readParquet(`${dir}/cut.parquet`), (e) => {
    assert.ok(e instanceof FileFormatError);
    assert.match(e.message, /cut\.parquet: not a readable Parquet file \(truncated or corrupt\?\)/);
    return true;
  });
  await Deno.writeTextFile(`${dir}/text.parquet`, "not parquet at all");
  await assert.rejects(() => readTable(`${dir}/text.parquet`), FileFormatError);
  // an I/O error (here a directory where the file should be) is not called a corrupt file
  await Deno.mkdir(`${dir}/folder.parquet`);
  await assert.rejects(() => readParquet(`${dir}/folder.parquet`), (e) => {
    assert.ok(!(e instanceof FileFormatError), String(e));
    assert.doesNotMatch(String(e), /truncated or corrupt/);
    return true;
  });
});

Deno.test("parquet: types from all rows, bad values quarantined, every row counted", async () => {
  const dir = await Deno.makeTempDir();
  const v = Array.from({ length: 3000 }, (_, i) => String(i));
  v[2500] = "n/a?";
  await writeParquet(`${dir}/s.parquet`, { v, w: Float64Array.from({ length: 3000 }, () => 1) });
  const r = await readParquet(`${dir}/s.parquet`, { quarantine: `${dir}/bad.csv` });
  assert.equal(r.schema.columns.v.type, "numeric");
  assert.equal(r.total, 3000);
  assert.equal(r.rows, 2999);
  assert.deepEqual(r.quarantined.map((q) => [q.row, q.index, q.reason]), [
    [2501, 2500, 'v: not a number: "n/a?"'],
  ]);
  const part = await readParquet(`${dir}/s.parquet`, { rowStart: 2400, rowEnd: 2600 });
  assert.equal(part.total, 200);
  assert.deepEqual(part.quarantined.map((q) => [q.row, q.index]), [[2501, 100]]);
});

Deno.test("TableBuilder.addColumns and TypeTally.observeColumn: what add and observe give row by row", () => {
  const columns: Record<string, unknown[]> = {
    when: ["2001-01-02", "", "not a date", new Date(0), "2001-01-03", null],
    delay: [3, "NA", -200, 7, "x", 12n],
    origin: ["SEA", "SFO", null, " ", "LAX", "PDX"],
    cancelled: [true, "no", "maybe", false, "yes", undefined],
  };
  const header = [...Object.keys(columns), "note"]; // note: in the schema, absent from the rows
  const n = 6;
  const row = (i: number) =>
    Object.fromEntries(Object.keys(columns).map((c) => [c, columns[c][i]]));
  const byRow = new TableBuilder(schema, header), byColumn = new TableBuilder(schema, header);
  for (let i = 0; i < n; i++) byRow.add(row(i), 10 + i);
  byColumn.addColumns(n, (c) => columns[c], row, 10);
  assert.deepEqual(byColumn.build(), byRow.build());
  assert.deepEqual(byColumn.quarantined, byRow.quarantined);
  assert.ok(byRow.quarantined.length > 0 && byRow.rows > 0);
  const tallyRows = new TypeTally(header), tallyColumns = new TypeTally(header);
  for (let i = 0; i < n; i++) tallyRows.observe(row(i));
  for (const c of header) tallyColumns.observeColumn(c, columns[c], n);
  assert.deepEqual(tallyColumns.schema(), tallyRows.schema());
});
