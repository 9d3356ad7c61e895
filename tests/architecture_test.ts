// The layering, enforced: every import in the five top-level folders is read, and the test fails on
// an import that points up a layer, on `web/` and `dags/` reaching into each other, and on any
// folder-level cycle (folders at every depth: `tasks/drift` → `models/linear` → `tasks/drift` is a
// cycle even when no file imports itself back).
//
//   dags/  web/          application surfaces (peers: neither imports the other)
//   tasks/               data IO, drift statistics, injection, severity, alerts, monitoring glue, CLIs
//   models/              the columnar Table and Random (models/core), training, ONNX, registry, serving
//   runner/              the engine: DAGs, executor, scheduler, workers, store, CLI — knows no ML
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

/** A top-level folder's layer: an import may point to the same layer or below, never above. */
export const LAYERS: Record<string, number> = { runner: 0, models: 1, tasks: 2, web: 3, dags: 3 };
/** Pairs of top-level folders that share a layer yet must not import each other. */
const APART: [string, string][] = [["web", "dags"]];
/** Bare specifiers that name a folder of this repository (the import map in deno.json). */
const ALIASES: Record<string, string> = { driftflow: "runner/mod.ts" };

/** One import: the importing file and the file it names, both relative to the repository. */
export interface Edge {
  from: string;
  to: string;
}

const SPECIFIER = new RegExp(
  [
    String.raw`\bfrom\s*["']([^"']+)["']`, // import … from "x", export … from "x"
    String.raw`\bimport\s*["']([^"']+)["']`, // import "x"
    String.raw`\bimport\(\s*["']([^"']+)["']\s*\)`, // import("x")
    String.raw`new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url`, // workers, assets
  ].join("|"),
  "g",
);

/** The repository files a source file imports (relative specifiers and the import map's aliases). */
export function importsOf(file: string, source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (spec.startsWith(".")) out.push(normalize(join(dirname(file), spec)));
    else if (spec in ALIASES) out.push(ALIASES[spec]);
  }
  return out;
}

const top = (path: string) => path.split("/")[0];

/** Imports that point up a layer or between folders kept apart, each said as a sentence. */
export function forbidden(edges: Edge[]): string[] {
  const out: string[] = [];
  for (const { from, to } of edges) {
    const [a, b] = [top(from), top(to)];
    if (a === b) continue;
    if (!(b in LAYERS)) {
      out.push(`${from} imports ${to}, outside the five source folders`);
    } else if (LAYERS[b] > LAYERS[a]) {
      out.push(
        `${from} imports ${to}: ${a}/ (layer ${LAYERS[a]}) may not import ${b}/ (layer ${
          LAYERS[b]
        }); move the shared code down to ${a}/ or below`,
      );
    } else if (APART.some(([x, y]) => (x === a && y === b) || (x === b && y === a))) {
      out.push(`${from} imports ${to}: ${a}/ and ${b}/ are kept apart`);
    }
  }
  return out;
}

/**
 * The node a file belongs to in the folder graph: its folder, except a folder's `mod.ts`, the public
 * entry that re-exports the folder and its subfolders (Deno's convention): it stands above them.
 */
const node = (file: string) => file.endsWith("/mod.ts") ? file : dirname(file);

/** Folder-level cycles: strongly connected sets of two or more folders (Tarjan's algorithm). */
export function folderCycles(edges: Edge[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const [a, b] = [node(from), node(to)];
    if (!graph.has(a)) graph.set(a, new Set());
    if (!graph.has(b)) graph.set(b, new Set());
    if (a !== b) graph.get(a)!.add(b);
  }
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) cycles.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return cycles;
}

/** Every import edge of the repository's source folders. */
async function repositoryEdges(root: string): Promise<{ files: number; edges: Edge[] }> {
  const edges: Edge[] = [];
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(join(root, dir))) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (/\.tsx?$/.test(e.name)) {
        files++;
        const source = await Deno.readTextFile(join(root, path));
        for (const to of importsOf(path, source)) edges.push({ from: path, to });
      }
    }
  };
  for (const dir of Object.keys(LAYERS)) await walk(dir);
  return { files, edges };
}

const ROOT = relative(Deno.cwd(), new URL("..", import.meta.url).pathname) || ".";

Deno.test("architecture: the checks find what they look for (a cycle, an upward import)", () => {
  const src = `import { a } from "../models/x.ts";\nexport { b } from "./b.ts";\n` +
    `const w = new Worker(new URL("./worker.ts", import.meta.url));\nimport "driftflow";\n` +
    `const m = await import("../../web/app.tsx");`;
  assert.deepEqual(importsOf("tasks/drift/a.ts", src), [
    "tasks/models/x.ts",
    "tasks/drift/b.ts",
    "tasks/drift/worker.ts",
    "runner/mod.ts",
    "web/app.tsx",
  ]);
  const edges = [
    { from: "runner/a.ts", to: "tasks/b.ts" }, // up
    { from: "web/a.ts", to: "dags/b.ts" }, // apart
    { from: "tasks/x/a.ts", to: "models/y/b.ts" }, // down: allowed
    { from: "models/y/b.ts", to: "models/z/c.ts" },
    { from: "models/z/c.ts", to: "models/y/d.ts" }, // y ↔ z: a cycle
    { from: "runner/mod.ts", to: "runner/s/a.ts" }, // an entry re-exports a subfolder …
    { from: "runner/s/a.ts", to: "runner/dag.ts" }, // … that imports the folder: no cycle
  ];
  assert.equal(forbidden(edges).length, 2);
  assert.deepEqual(folderCycles(edges), [["models/y", "models/z"]]);
});

Deno.test("architecture: no import points up a layer, and no folder-level cycle", async () => {
  const { files, edges } = await repositoryEdges(ROOT);
  // the walker reads the tree, not an empty list: hundreds of files, the known downward imports
  assert.ok(files > 150, `read ${files} files`);
  assert.ok(edges.some((e) => e.from.startsWith("tasks/") && e.to.startsWith("models/")));
  assert.ok(edges.some((e) => e.from.startsWith("web/") && e.to.startsWith("runner/")));
  const missing: string[] = [];
  for (const { from, to } of edges) {
    if (!await Deno.stat(join(ROOT, to)).then(() => true, () => false)) {
      missing.push(`${from} imports ${to}, which does not exist`);
    }
  }
  assert.deepEqual(missing, []);
  assert.deepEqual(forbidden(edges), []);
  assert.deepEqual(folderCycles(edges), []);
});
