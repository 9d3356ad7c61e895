// The clear service: an unknown task is a refusal (422 on both surfaces); any other error is thrown.
import assert from "node:assert/strict";
import { dag } from "../../runner/dag.ts";
import { type DagStructure, dagStructure } from "../../runner/structure.ts";
import { clearTasks } from "../../web/services/runs.ts";
import type { WebDeps } from "../../web/services/deps.ts";

const pair = dagStructure(
  dag({ id: "pair" }).task("a", { run: () => 1 }).task("b", { deps: ["a"], run: () => 2 }),
);

Deno.test("clearTasks: an unknown task is a refusal; any other error is thrown, not called unknown", async () => {
  let cleared: string[] | null = null;
  const store = (broken: boolean) =>
    ({
      getRun: () => Promise.resolve({ id: 7, structureHash: "h" }),
      structure: () =>
        Promise.resolve(broken ? ({ tasks: null } as unknown as DagStructure) : pair),
      taskInstances: () => Promise.resolve([]),
      clear: (_: number, ids: string[]) => {
        cleared = ids;
        return Promise.resolve(ids.length);
      },
    }) as unknown as WebDeps["store"];
  const refused = await clearTasks({ store: store(false) }, 7, { taskIds: ["zz"] });
  assert.deepEqual(refused, {
    ok: false,
    reason: "unknown_task",
    message: 'the run has no task "zz"; its tasks: a, b',
  });
  assert.equal(cleared, null);
  assert.deepEqual(await clearTasks({ store: store(false) }, 7, { taskIds: ["b"] }), {
    ok: true,
    runId: 7,
    cleared: ["b"],
  });
  await assert.rejects(() => clearTasks({ store: store(true) }, 7, { taskIds: ["b"] }), TypeError);
});
