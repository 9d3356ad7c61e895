// The outbox's replay: a success a dead worker held is recorded with its outlets' asset events,
// in one transaction, and neither when the task instance moved on meanwhile.
import assert from "node:assert/strict";
import { join } from "node:path";
import { assetEvents } from "../../runner/assets.ts";
import { dag } from "../../runner/dag.ts";
import { type HeldOutcome, Outbox } from "../../runner/outbox.ts";
import { createDagRun } from "../../runner/runs.ts";
import { storeTest } from "./helpers.ts";

storeTest("outbox: a held success is replayed with its asset events, unless it moved on", async (
  store,
) => {
  const d = dag({ id: "held" })
    .task("a", { outlets: ["s3://bucket/a/"], run: () => 1 })
    .task("b", { outlets: ["s3://bucket/b/"], run: () => 2 })
    .command("c", { outlets: ["s3://bucket/c/"], cmd: ["true"] });
  const run = await createDagRun(store, d, { executor: "distributed" });
  const dir = await Deno.makeTempDir({ prefix: "driftflow-outbox-" });
  try {
    const at = new Date();
    for (const taskId of ["a", "b", "c"]) {
      await store.startTry({ runId: run.id, taskId, mapIndex: -1 }, 1, at, "dead-host");
    }
    // b's run timed out meanwhile: b was skipped while its worker still ran it
    await store.setTaskState({ runId: run.id, taskId: "b", mapIndex: -1 }, "skipped", { at });
    for (const taskId of ["a", "b"]) {
      const h: HeldOutcome = {
        key: { runId: run.id, taskId, mapIndex: -1 },
        tryNumber: 1,
        end: { state: "success", at: at.toISOString(), durationMs: 5, xcom: null },
        skips: [],
        events: [{
          uri: `s3://bucket/${taskId}/`,
          source: "task",
          sourceDagId: d.id,
          sourceRunId: run.id,
          sourceTaskId: taskId,
        }],
        owner: { pid: 2 ** 22 + 1, start: 1 }, // no such process
      };
      await Deno.writeTextFile(join(dir, `${taskId}.json`), JSON.stringify(h));
    }
    // c: a command whose worker died after it exited 0 (its supervisor wrote the status)
    const dead = { pid: 2 ** 22 + 1, start: 1 };
    const c = { runId: run.id, taskId: "c", mapIndex: -1 };
    const event = { uri: "s3://bucket/c/", source: "task", sourceDagId: d.id, sourceTaskId: "c" };
    await Deno.writeTextFile(
      join(dir, "c.cmd"),
      JSON.stringify({
        key: c,
        tryNumber: 1,
        startedAt: at.getTime(),
        events: [event],
        owner: dead,
      }),
    );
    await Deno.writeTextFile(join(dir, "c.exit"), "0\n");
    const lines: string[] = [];
    assert.equal(await new Outbox(dir).replay(store, (l) => lines.push(l)), 2, lines.join("\n"));
    const states = Object.fromEntries(
      (await store.taskInstances(run.id)).map((t) => [t.taskId, t.state]),
    );
    assert.deepEqual(states, { a: "success", b: "skipped", c: "success" });
    const events = await assetEvents(store.db);
    assert.deepEqual(events.map((e) => [e.uri, e.sourceTaskId]).sort(), [
      ["s3://bucket/a/", "a"],
      ["s3://bucket/c/", "c"],
    ]);
    assert.match(lines.join("\n"), /success of b\[-1\] .* was NOT recorded/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

storeTest("outbox: a held skip and a held sensor reschedule are replayed as they were", async (
  store,
) => {
  const d = dag({ id: "held_states" })
    .task("skips", { run: () => 1 })
    .task("pokes", { run: () => 2 });
  const run = await createDagRun(store, d, { executor: "distributed" });
  const dir = await Deno.makeTempDir({ prefix: "driftflow-outbox-" });
  try {
    const at = new Date();
    const next = new Date(at.getTime() + 60_000);
    const ends: Record<string, HeldOutcome["end"]> = {
      skips: { state: "skipped", at: at.toISOString(), durationMs: 3, error: "skipped: no data" },
      pokes: {
        state: "up_for_reschedule",
        at: at.toISOString(),
        durationMs: 4,
        nextRetryAt: next.toISOString(),
      },
    };
    for (const [taskId, end] of Object.entries(ends)) {
      const key = { runId: run.id, taskId, mapIndex: -1 };
      await store.startTry(key, 1, at, "dead-host");
      const h: HeldOutcome = {
        key,
        tryNumber: 1,
        end,
        skips: [],
        owner: { pid: 2 ** 22 + 1, start: 1 }, // no such process
      };
      await Deno.writeTextFile(join(dir, `${taskId}.json`), JSON.stringify(h));
    }
    const lines: string[] = [];
    assert.equal(await new Outbox(dir).replay(store, (l) => lines.push(l)), 2, lines.join("\n"));
    const tis = Object.fromEntries((await store.taskInstances(run.id)).map((t) => [t.taskId, t]));
    assert.equal(tis.skips.state, "skipped");
    assert.equal(tis.pokes.state, "up_for_reschedule");
    assert.equal(tis.pokes.nextRetryAt?.getTime(), next.getTime());
    assert.match(lines.join("\n"), /recorded the skipped of skips\[-1\]/);
    assert.match(lines.join("\n"), /recorded the up_for_reschedule of pokes\[-1\]/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
