// ParamsError's structured issues: each names where (the param's path), what was wrong and what
// would be right; the CLI's lines and the message are built from them.
import assert from "node:assert/strict";
import { z } from "zod";
import { dag } from "../../runner/dag.ts";
import { paramField, ParamsError, parseParams, rejectUnknownParams } from "../../runner/params.ts";

const withParams = dag({
  id: "p",
  params: z.object({
    n: z.number().int().min(1),
    name: z.string().min(2),
    mode: z.enum(["fast", "slow"]).default("fast"),
    nested: z.object({ k: z.number().max(5) }).default({ k: 1 }),
    either: z.union([z.string(), z.number()]).optional(),
  }),
}).task("t", { run: () => 1 });

function issuesOf(run: () => unknown): ParamsError {
  try {
    run();
  } catch (e) {
    if (e instanceof ParamsError) return e;
    throw e;
  }
  throw new Error("expected a ParamsError");
}

Deno.test("a bad value is an issue with its path, message and what would be right", () => {
  const e = issuesOf(() =>
    parseParams(withParams, {
      n: 0,
      name: "a",
      mode: "medium",
      nested: { k: 9 },
      either: true,
    })
  );
  assert.equal(e.dagId, "p");
  const byField = Object.fromEntries(e.issues.map((i) => [paramField(i), i]));
  assert.deepEqual(Object.keys(byField).sort(), [
    "params.either",
    "params.mode",
    "params.n",
    "params.name",
    "params.nested.k",
  ]);
  assert.deepEqual(byField["params.nested.k"].path, ["nested", "k"]);
  assert.equal(byField["params.n"].expected, ">= 1");
  assert.match(byField["params.n"].message, />=1/);
  assert.equal(byField["params.name"].expected, ">= 2 characters");
  assert.equal(byField["params.mode"].expected, 'one of "fast", "slow"');
  assert.equal(byField["params.nested.k"].expected, "<= 5");
  assert.equal(byField["params.either"].expected, "string or number");
  // the lines and the message say the same, one line per issue
  assert.equal(e.lines.length, 5);
  for (const i of e.issues) {
    assert.ok(e.lines.includes(`${paramField(i)}: ${i.message}`));
    assert.ok(e.message.includes(`\n  ${paramField(i)}: ${i.message}`));
  }
  assert.match(e.message, /^invalid params for dag "p":\n/);
});

Deno.test("a wrong type names the expected type", () => {
  const e = issuesOf(() => parseParams(withParams, { n: "x", name: "ok" }));
  assert.deepEqual(e.issues, [{
    path: ["n"],
    message: "Invalid input: expected number, received string",
    expected: "number",
  }]);
});

Deno.test("a schema-wide problem is at the root", () => {
  const refined = dag({
    id: "r",
    params: z.object({ a: z.number(), b: z.number() }).refine((v) => v.a < v.b, "a must be < b"),
  }).task("t", { run: () => 1 });
  const e = issuesOf(() => parseParams(refined, { a: 2, b: 1 }));
  assert.deepEqual(e.issues, [{ path: [], message: "a must be < b" }]);
  assert.equal(paramField(e.issues[0]), "params.(root)");
  assert.deepEqual(parseParams(refined, { a: 1, b: 2 }), { a: 1, b: 2 });
});

Deno.test("unknown params name the DAG's params, or that it takes none", () => {
  const e = issuesOf(() => rejectUnknownParams(withParams, { n: 1, nmae: "x" }));
  assert.deepEqual(e.issues, [{
    path: ["nmae"],
    message: "unknown param; the DAG's params are: n, name, mode, nested, either",
    expected: "one of n, name, mode, nested, either",
  }]);
  const none = dag({ id: "none" }).task("t", { run: () => 1 });
  const e2 = issuesOf(() => rejectUnknownParams(none, { x: 1 }));
  assert.deepEqual(e2.issues, [{
    path: ["x"],
    message: "unknown param; the DAG takes no params",
    expected: "no params",
  }]);
  assert.equal(e2.lines[0], "params.x: unknown param; the DAG takes no params");
  rejectUnknownParams(withParams, { n: 1 }); // known params pass
});
