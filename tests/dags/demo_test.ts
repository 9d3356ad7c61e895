// `deno task demo` as a user runs it on a fresh home and data directory: the real flights data, a
// first champion, monitored batches, the injected drift flagged at its batch, the table printed.
import assert from "node:assert/strict";

Deno.test({
  name:
    "demo: prepares the data, trains, monitors 7 batches and flags the injected drift at batch 6",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "driftflow-demo-" });
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "dags/_demo/main.ts", "--batches", "7", "--batch-size", "4000"],
      env: { DRIFTFLOW_HOME: `${dir}/home`, DRIFTFLOW_DATA: `${dir}/data` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr).slice(-2000));
    const rows = text.split("\n").filter((l) => /^\d+\*?\s+2001-/.test(l));
    assert.equal(rows.length, 7, text);
    assert.match(rows[6], /^6\*\s.*distance/, `the injected batch: ${rows[6]}`);
    // Reports are printed as .html paths a browser opens, and they exist.
    const report = /HTML reports \(open in a browser\):\n\s+batch 0: (\S+\.html)/.exec(text);
    assert.ok(report, text);
    assert.match(await Deno.readTextFile(report[1]), /<html/i);
    assert.ok((await Deno.stat(`${dir}/data/LICENSES.md`)).isFile);
    // the batches the runs generated are the home's; the prepared data dir holds inputs only
    assert.ok((await Deno.stat(`${dir}/home/batches/flights-batch-0006.parquet`)).isFile);
    assert.equal(await Deno.stat(`${dir}/data/batches`).then(() => true, () => false), false);
  },
});
