import assert from "node:assert/strict";
import { ModelRegistry, type NewVersion } from "../../models/registry/registry.ts";
import { countingClient, storeTest } from "../runner/helpers.ts";

const base = (over: Partial<NewVersion> = {}): NewVersion => ({
  name: "delays",
  algo: "gbdt",
  task: "classification",
  params: { trees: 100 },
  metrics: { roc_auc: 0.71 },
  columns: [{ name: "distance", type: "numeric" }],
  fingerprint: { rows: 1000, sha256: "a".repeat(64) },
  artifacts: { onnx: `sha256:${"b".repeat(64)}` },
  lineage: { runId: 7, taskId: "register" },
  ...over,
});

storeTest(
  "registry: versions are numbered per model and keep lineage and fingerprint",
  async (store) => {
    const registry = await ModelRegistry.open(store.db);
    const v1 = await registry.register(base());
    const v2 = await registry.register(base({ metrics: { roc_auc: 0.73 }, lineage: null }));
    const other = await registry.register(base({ name: "spam" }));
    assert.deepEqual([v1.version, v2.version, other.version], [1, 2, 1]);
    assert.deepEqual(v1.lineage, { runId: 7, taskId: "register" });
    assert.equal(v2.lineage, null);
    assert.deepEqual((await registry.version("delays", 1))?.fingerprint, {
      rows: 1000,
      sha256: "a".repeat(64),
    });
    assert.deepEqual(
      (await registry.models()).map((m) => [m.name, m.versions.map((v) => v.version)]),
      [["delays", [2, 1]], ["spam", [1]]],
    );
    await assert.rejects(
      () => registry.register(base({ name: "bad name" })),
      /use letters, digits/,
    );
    assert.deepEqual(
      await ModelRegistry.open(store.db).then((r) => r.versions("delays")).then((v) => v.length),
      2,
      "re-opening migrates nothing twice",
    );
  },
);

storeTest(
  "registry: aliases resolve, move with a recorded reason, and bad references say what exists",
  async (store) => {
    const registry = await ModelRegistry.open(store.db);
    await registry.register(base());
    await registry.register(base());
    assert.equal(
      (await registry.resolve("delays")).version,
      2,
      "no champion yet: the latest version",
    );
    await registry.setAlias("delays", "champion", 1, { reason: "first model", runId: 3 });
    await registry.setAlias("delays", "challenger", 2, { reason: "trained on drifted batches" });
    assert.equal((await registry.resolve("delays")).version, 1);
    assert.equal((await registry.resolve("delays@challenger")).version, 2);
    assert.equal((await registry.resolve("delays@1")).version, 1);
    await registry.setAlias("delays", "champion", 2, {
      reason: "challenger won by 0.02 ROC AUC",
      runId: 4,
    });
    await registry.setAlias("delays", "challenger", null, { reason: "promoted" });
    const v2 = await registry.resolve("delays@champion");
    assert.deepEqual(v2.aliases, ["champion"]);
    const history = await registry.aliasHistory("delays");
    assert.deepEqual(history.map((h) => [h.alias, h.fromVersion, h.toVersion, h.reason, h.runId]), [
      ["challenger", 2, null, "promoted", null],
      ["champion", 1, 2, "challenger won by 0.02 ROC AUC", 4],
      ["challenger", null, 2, "trained on drifted batches", null],
      ["champion", null, 1, "first model", 3],
    ]);
    // who: the run that moved it, else "system" (a person's moves name them: models alias --by)
    assert.deepEqual(history.map((h) => h.actor), ["system", "run 4", "system", "run 3"]);
    await assert.rejects(
      () => registry.resolve("delays@staging"),
      /model "delays" has no alias "staging"; versions: 2 \(champion\), 1/,
    );
    await assert.rejects(() => registry.resolve("delays@9"), /has no version 9/);
    await assert.rejects(() => registry.resolve("nope"), /no model "nope" is registered/);
    await assert.rejects(() => registry.resolve("a b"), /invalid model reference/);
    await assert.rejects(
      () => registry.setAlias("delays", "champion", 9, { reason: "x" }),
      /has no version 9/,
    );
  },
);

Deno.test({
  name: "cli: deno task models lists versions with aliases, and a model's alias moves",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const home = await Deno.makeTempDir();
    const { openStore } = await import("../../runner/store/open.ts");
    const store = await openStore({ pgliteDir: `${home}/pgdata` });
    const registry = await ModelRegistry.open(store.db);
    await registry.register(base());
    await registry.setAlias("delays", "champion", 1, { reason: "first model", runId: 1 });
    await store.close();
    const run = async (args: string[]) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "tasks/cli/models.ts", ...args],
        env: { DRIFTFLOW_HOME: home },
        stdout: "piped",
      }).output();
      return { code: out.code, stdout: new TextDecoder().decode(out.stdout) };
    };
    const all = await run([]);
    assert.equal(all.code, 0);
    assert.match(
      all.stdout,
      /delays\s+1\s+champion\s+gbdt\s+roc_auc=0\.71\s+1000\s+run 7 register/,
    );
    const one = await run(["delays"]);
    assert.match(one.stdout, /champion\s+-\s+1\s+run 1\s+1\s+first model/);
    assert.equal((await run(["nope"])).code, 2);
  },
});

storeTest("registry: opening it twice on one client migrates once", async (store) => {
  const { client, statements } = countingClient(store.db);
  await ModelRegistry.open(client);
  assert.ok(statements.some((s) => s.includes("schema_migrations")), statements.join("\n"));
  const sent = statements.length;
  const registry = await ModelRegistry.open(client);
  assert.deepEqual(statements.slice(sent), [], "the second open sends nothing");
  const v = await registry.register(base());
  assert.deepEqual((await registry.version("delays", v.version))?.params, { trees: 100 });
});
