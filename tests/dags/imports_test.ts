// A DAG file reads like its data flow: it imports the runner's entry ("driftflow"), zod and the
// libraries' public entries only (a folder's mod.ts), never a library's inner modules.
import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";

/** The entries a DAG file may import (repository paths; "driftflow" resolves to runner/mod.ts). */
const ENTRIES = new Set([
  "runner/mod.ts",
  "models/mod.ts",
  "tasks/data/mod.ts",
  "tasks/drift/mod.ts",
  "tasks/monitoring/mod.ts",
]);
const BARE = /\bfrom\s*["']([^"'./][^"']*)["']/g;
const SPECIFIER = /\b(?:from|import)\s*\(?\s*["']([^"']+)["']/g;

/** The repository files a DAG file imports: its relative specifiers, and "driftflow". */
function importsOf(file: string, source: string): string[] {
  const out: string[] = [];
  for (const [, spec] of source.matchAll(SPECIFIER)) {
    if (spec.startsWith(".")) out.push(normalize(join(dirname(file), spec)));
    else if (spec === "driftflow") out.push("runner/mod.ts");
  }
  return out;
}

async function dagFiles(): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir("dags")) {
    if (e.isFile && e.name.endsWith(".ts")) out.push(`dags/${e.name}`);
  }
  return out.sort();
}

Deno.test("DAG files import driftflow, zod and the public entries only", async () => {
  const files = await dagFiles();
  assert.ok(files.length >= 7, `read ${files.join(", ")}`);
  const wrong: string[] = [];
  const used = new Set<string>();
  for (const file of files) {
    const source = await Deno.readTextFile(file);
    for (const to of importsOf(file, source)) {
      used.add(to);
      if (!ENTRIES.has(to)) wrong.push(`${file} imports ${to}: import it from a public entry`);
    }
    for (const m of source.matchAll(BARE)) {
      if (!["driftflow", "zod"].includes(m[1])) wrong.push(`${file} imports the package ${m[1]}`);
    }
  }
  assert.deepEqual(wrong, []);
  // the drift library's entry is what the DAGs use, not a file nobody imports
  for (const entry of ENTRIES) assert.ok(used.has(entry), `no DAG imports ${entry}`);
});

Deno.test("the check sees an inner module and a package", () => {
  const src =
    `import { x } from "../tasks/monitoring/judge.ts";\nimport { y } from "node:path";\n` +
    `import { dag } from "driftflow";\nconst m = await import("../models/gate.ts");`;
  assert.deepEqual(importsOf("dags/a.ts", src), [
    "tasks/monitoring/judge.ts",
    "runner/mod.ts",
    "models/gate.ts",
  ]);
  assert.deepEqual([...src.matchAll(BARE)].map((m) => m[1]), ["node:path", "driftflow"]);
});
