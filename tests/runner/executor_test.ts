import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { FakeClock } from "../../runner/clock.ts";
import { dag, type DagDefinition } from "../../runner/dag.ts";
import { Executor, type ExecutorOptions } from "../../runner/executor.ts";
import { ParamsError } from "../../runner/params.ts";
import { createDagRun } from "../../runner/runs.ts";
import { openStore } from "../../runner/store/open.ts";
import type { Store } from "../../runner/store/store.ts";
import { z } from "zod";
import { storeSuite } from "./helpers.ts";

const artifactsDir = await Deno.makeTempDir({ prefix: "driftflow-artifacts-" });

async function runDag(
  store: Store,
  d: DagDefinition,
  opts: Partial<ExecutorOptions> & { conf?: Record<string, unknown> } = {},
) {
  const ex = new Executor({ store, artifacts: new LocalArtifactStore(artifactsDir), ...opts });
  const run = await createDagRun(store, d, { conf: opts.conf });
  const result = await ex.runToEnd(d, run.id);
  await ex.drain();
  const states = Object.fromEntries(
    result.taskInstances.map((
      t,
    ) => [t.mapIndex >= 0 ? `${t.taskId}[${t.mapIndex}]` : t.taskId, t.state]),
  );
  return { ...result, states, ex };
}

let seq = 0;
const id = (name: string) => `${name}_${++seq}`;

storeSuite("executor", {
  "branching skips the other path and a join rule runs after it": async (store) => {
    const d = dag({ id: id("branch") })
      .task("extract", { run: () => ({ rows: 0 }) })
      .branch("check", {
        deps: ["extract"],
        run: (ctx) => (ctx.xcom("extract").rows > 0 ? "transform" : "nothing"),
      })
      .task("transform", { deps: ["check"], run: () => 1 })
      .task("after_transform", { deps: ["transform"], run: () => 1 })
      .task("nothing", { deps: ["check"], run: () => "n" })
      .task("report", {
        deps: ["after_transform", "nothing"],
        triggerRule: "none_failed_min_one_success",
        run: (ctx) => ctx.xcom("nothing"),
      });
    const r = await runDag(store, d);
    assert.equal(r.state, "success");
    assert.deepEqual(r.states, {
      after_transform: "skipped",
      check: "success",
      extract: "success",
      nothing: "success",
      report: "success",
      transform: "skipped",
    });
    const xcoms = await store.xcoms(r.run.id);
    assert.deepEqual(xcoms.find((x) => x.taskId === "check")?.value, ["nothing"]);
  },

  "a branch naming a task that is not downstream fails with a clear error": async (store) => {
    const d = dag({ id: id("badbranch") })
      .branch("check", { run: () => "elsewhere" })
      .task("a", { deps: ["check"], run: () => 1 });
    const r = await runDag(store, d);
    assert.equal(r.state, "failed");
    assert.match(
      r.taskInstances.find((t) => t.taskId === "check")!.error!,
      /returned "elsewhere", which is not one of its direct downstream tasks: a/,
    );
    assert.equal(r.states.a, "upstream_failed");
  },

  "failure propagates as upstream_failed and all_done/one_failed rules still run": async (
    store,
  ) => {
    let cleanupRan = false;
    const d = dag({ id: id("fail") })
      .task("boom", {
        run: () => {
          throw new Error("kaput");
        },
      })
      .task("next", { deps: ["boom"], run: () => 1 })
      .task("cleanup", {
        deps: ["next"],
        triggerRule: "all_done",
        run: () => {
          cleanupRan = true;
        },
      })
      .task("alert", { deps: ["boom"], triggerRule: "one_failed", run: () => "alerted" });
    const r = await runDag(store, d);
    assert.equal(
      r.state,
      "success",
      "the leaves cleanup and alert succeeded, so the run succeeds as in Airflow",
    );
    assert.deepEqual(r.states, {
      alert: "success",
      boom: "failed",
      cleanup: "success",
      next: "upstream_failed",
    });
    assert.ok(cleanupRan);
    assert.match(r.taskInstances.find((t) => t.taskId === "boom")!.error!, /kaput/);
  },

  "a failed leaf fails the run": async (store) => {
    const d = dag({ id: id("leaf") }).task("a", { run: () => 1 }).task("b", {
      deps: ["a"],
      run: () => {
        throw new Error("x");
      },
    });
    assert.equal((await runDag(store, d)).state, "failed");
  },

  "retries back off exponentially up to the maximum, each try recorded with its log": async (
    store,
  ) => {
    const clock = new FakeClock();
    const retried: number[] = [];
    const d = dag({
      id: id("retry"),
      defaults: { retries: 3, retryDelay: "30s", retryBackoff: "exponential", maxRetryDelay: "1m" },
    })
      .task("flaky", {
        onRetry: (e) => void retried.push(e.tryNumber),
        run: (ctx) => {
          ctx.log(`attempt ${ctx.tryNumber}`);
          if (ctx.tryNumber < 4) throw new Error(`fail ${ctx.tryNumber}`);
          return ctx.tryNumber;
        },
      });
    const r = await runDag(store, d, { clock });
    assert.equal(r.state, "success");
    const tries = await store.tries(r.run.id, "flaky");
    assert.deepEqual(tries.map((t) => t.state), [
      "up_for_retry",
      "up_for_retry",
      "up_for_retry",
      "success",
    ]);
    const gaps = tries.slice(1).map((t, i) => t.startDate.getTime() - tries[i].endDate!.getTime());
    // Airflow's jitter: the first delay d = 30 s becomes a value in [d, 2d); later ones hit the cap.
    assert.ok(gaps[0] >= 30_000 && gaps[0] < 60_000, `first gap ${gaps[0]}`);
    assert.deepEqual(gaps.slice(1), [60_000, 60_000]);
    assert.deepEqual(retried, [1, 2, 3]);
    assert.deepEqual((await store.logs(r.run.id, "flaky", 2)).map((l) => l.line).slice(0, 1), [
      "attempt 2",
    ]);
    assert.match(tries[0].error!, /fail 1/);
  },

  "fixed retry delay and exhausting the retries fails with onFailure called once": async (
    store,
  ) => {
    const clock = new FakeClock();
    const failures: string[] = [];
    const d = dag({ id: id("exhaust") }).task("never", {
      retries: 2,
      retryDelay: "5s",
      onFailure: (e) => void failures.push(e.error ?? ""),
      run: () => {
        throw new Error("always");
      },
    });
    const r = await runDag(store, d, { clock });
    assert.equal(r.state, "failed");
    const tries = await store.tries(r.run.id);
    assert.deepEqual(tries.map((t) => t.state), ["up_for_retry", "up_for_retry", "failed"]);
    assert.deepEqual(clock.sleeps, [5000, 5000]);
    assert.equal(failures.length, 1);
    assert.match(failures[0], /always/);
  },

  "a function that runs past its timeout is aborted through its signal": async (store) => {
    const clock = new FakeClock();
    let sawAbort = false;
    const d = dag({ id: id("timeout") }).task("slow", {
      timeout: "10m",
      run: (ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            sawAbort = true;
            resolve("late");
          });
          queueMicrotask(() => clock.advance(10 * 60_000));
        }),
    });
    const r = await runDag(store, d, { clock });
    assert.equal(r.state, "failed");
    assert.ok(sawAbort);
    assert.equal(r.taskInstances[0].error, "timed out after 10m");
  },

  "a command past its timeout is killed, its output logged": async (store) => {
    const d = dag({ id: id("cmdtimeout") }).command("sleepy", {
      timeout: "300ms",
      cmd: ["bash", "-c", "echo before; sleep 30; echo after"],
    });
    const r = await runDag(store, d);
    assert.equal(r.state, "failed");
    assert.equal(r.taskInstances[0].error, "timed out after 300ms");
    assert.ok(r.taskInstances[0].durationMs! < 10_000, "the command was killed, not waited for");
    assert.deepEqual(
      (await store.logs(r.run.id, "sleepy")).filter((l) => l.stream === "stdout").map((l) =>
        l.line
      ),
      ["before"],
    );
  },

  "command tasks: argv, env, cwd; stdout and stderr captured; exit code decides": async (store) => {
    const dir = await Deno.makeTempDir();
    const d = dag({ id: id("cmd") })
      .command("ok", {
        cmd: ["bash", "-c", 'echo "$GREETING from $(pwd)"; echo oops >&2'],
        env: { GREETING: "hi" },
        cwd: dir,
      })
      .command("bad", { cmd: ["bash", "-c", "exit 3"] })
      .command("missing", { cmd: ["/no/such/program"] });
    const r = await runDag(store, d);
    assert.deepEqual(r.states, { bad: "failed", missing: "failed", ok: "success" });
    const x = (await store.xcoms(r.run.id)).find((x) => x.taskId === "ok")!.value as {
      exitCode: number;
      lastLine: string;
    };
    assert.equal(x.exitCode, 0);
    assert.equal(x.lastLine, `hi from ${await Deno.realPath(dir)}`);
    const logs = await store.logs(r.run.id, "ok");
    // stdout and stderr are two pipes read at once: lines keep their order within a stream only.
    assert.deepEqual(logs.map((l) => [l.stream, l.line]).sort(), [
      ["stderr", "oops"],
      ["stdout", x.lastLine],
    ]);
    assert.match(r.taskInstances.find((t) => t.taskId === "bad")!.error!, /exited with code 3/);
    assert.match(
      r.taskInstances.find((t) => t.taskId === "missing")!.error!,
      /cannot start command/,
    );
  },

  "dynamic task mapping: one instance per item, results in map order, empty list skips": async (
    store,
  ) => {
    const d = dag({ id: id("map") })
      .task("list", { run: () => [3, 1, 2] })
      .task("double", {
        deps: ["list"],
        expand: (ctx) => ctx.xcom("list"),
        run: (_ctx, n) => n * 2,
      })
      .task("none", { deps: ["list"], expand: () => [] as number[], run: (_ctx, n) => n })
      .task("sum", {
        deps: ["double"],
        run: (ctx) => ctx.xcom("double").reduce((a, b) => a + b, 0),
      })
      .task("after_none", { deps: ["none"], run: () => 1 });
    const r = await runDag(store, d);
    assert.equal(r.state, "success");
    assert.equal(r.states["double[2]"], "success");
    assert.equal(r.states.none, "skipped");
    assert.equal(r.states.after_none, "skipped");
    const xcoms = await store.xcoms(r.run.id);
    assert.equal(xcoms.find((x) => x.taskId === "sum")!.value, 12);
    assert.deepEqual(xcoms.filter((x) => x.taskId === "double").map((x) => [x.mapIndex, x.value]), [
      [0, 6],
      [1, 2],
      [2, 4],
    ]);
  },

  "a failed mapped item fails the mapped task": async (store) => {
    const d = dag({ id: id("mapfail") })
      .task("each", {
        expand: () => [1, 2, 3],
        run: (_ctx, n) => {
          if (n === 2) throw new Error("two");
          return n;
        },
      })
      .task("after", { deps: ["each"], run: () => 1 });
    const r = await runDag(store, d);
    assert.deepEqual([r.states.each, r.states["each[1]"], r.states["each[0]"], r.states.after], [
      "failed",
      "failed",
      "success",
      "upstream_failed",
    ]);
  },

  "an XCom over 1 MB goes to the artifact store and comes back whole": async (store) => {
    const big = "x".repeat(1_200_000);
    const d = dag({ id: id("bigxcom") })
      .task("make", { run: () => ({ big }) })
      .task("use", { deps: ["make"], run: (ctx) => ctx.xcom("make").big.length });
    const r = await runDag(store, d);
    const xcoms = await store.xcoms(r.run.id);
    const made = xcoms.find((x) => x.taskId === "make")!;
    assert.match(made.artifact!, /^sha256:[0-9a-f]{64}$/);
    assert.equal(made.value, null);
    assert.ok(made.sizeBytes > 1_000_000);
    assert.equal(xcoms.find((x) => x.taskId === "use")!.value, 1_200_000);
  },

  "a value that is not JSON fails the task": async (store) => {
    const d = dag({ id: id("badxcom") }).task("a", { run: () => ({ n: 1n }) });
    const r = await runDag(store, d);
    assert.equal(r.state, "failed");
    assert.match(r.taskInstances[0].error!, /not JSON-serialisable/);
  },

  "params are validated when the run is created, one line per bad field": async (store) => {
    const d = dag({
      id: id("params"),
      params: z.object({ n: z.number().int(), name: z.string().min(2), k: z.number().default(3) }),
    })
      .task("show", { run: (ctx) => ctx.params.k + ctx.params.n });
    await assert.rejects(() => createDagRun(store, d, { params: { n: "x", name: "a" } }), (e) => {
      assert.ok(e instanceof ParamsError);
      assert.deepEqual(e.lines.length, 2);
      assert.match(e.lines[0], /^params\.n: /);
      assert.match(e.lines[1], /^params\.name: /);
      return true;
    });
    const r = await runDag(store, d, { conf: { n: 4, name: "ok", extra: true } });
    assert.deepEqual(r.run.params, { n: 4, name: "ok", k: 3 });
    assert.equal((await store.xcoms(r.run.id))[0].value, 7);
  },

  "triggerDag starts another DAG with conf and waits for its result": async (store) => {
    const child = dag({ id: id("child"), params: z.object({ factor: z.number().default(1) }) })
      .task("work", { run: (ctx) => ctx.params.factor * 10 });
    const failing = dag({ id: id("failing_child") }).task("x", {
      run: () => {
        throw new Error("no");
      },
    });
    const parent = dag({ id: id("parent") })
      .triggerDag("go", { dagId: child.id, conf: () => ({ factor: 4 }), wait: true })
      .triggerDag("fire", { dagId: child.id, wait: false })
      .triggerDag("bad", { dagId: failing.id, wait: true })
      .task("after", { deps: ["go"], run: (ctx) => ctx.xcom("go").runId });
    const dags = new Map([child, failing, parent].map((d) => [d.id, d] as const));
    const r = await runDag(store, parent, { resolveDag: (x) => dags.get(x) });
    assert.deepEqual([r.states.go, r.states.fire, r.states.bad, r.states.after], [
      "success",
      "success",
      "failed",
      "success",
    ]);
    const childRuns = await store.listRuns(child.id);
    assert.equal(childRuns.length, 2);
    const waited = childRuns.find((c) => c.conf.factor === 4)!;
    assert.equal(waited.state, "success");
    assert.deepEqual(waited.triggeredBy, { runId: r.run.id, taskId: "go" });
    assert.equal((await store.xcoms(waited.id))[0].value, 40);
    assert.ok(
      childRuns.every((c) => c.state === "success"),
      "the not-waited run also ran to the end",
    );
    assert.match(
      r.taskInstances.find((t) => t.taskId === "bad")!.error!,
      /triggered run \d+ of dag "failing_child_\d+" failed/,
    );
  },

  "task and DAG callbacks are called": async (store) => {
    const calls: string[] = [];
    const d = dag({ id: id("callbacks"), onSuccess: (e) => void calls.push(`dag ${e.state}`) })
      .task("a", { onSuccess: (e) => void calls.push(`task ${e.taskId} ok`), run: () => 1 });
    await runDag(store, d);
    const f = dag({
      id: id("callbacks_f"),
      onFailure: (e) => void calls.push(`dag ${e.state} ${e.failedTasks}`),
    })
      .task("b", {
        run: () => {
          throw new Error("x");
        },
      });
    await runDag(store, f);
    assert.deepEqual(calls, ["task a ok", "dag success", "dag failed b"]);
  },

  "pools, the per-run limit and the process limit cap concurrent tries": async (store) => {
    await store.setPool("tiny", 2);
    let now = 0, peak = 0, peakRun = 0, nowRun = 0;
    // The first tries wait at a gate until `cap` of them run at once, so the cap is reached
    // whatever the machine's load; a cap that is not enforced shows as a peak above it. The gate
    // opens anyway after 60 s so a broken executor fails the assertion instead of hanging.
    let cap = 0, open = () => {}, gate = Promise.resolve();
    const arm = (n: number) => {
      cap = n, peak = peakRun = 0;
      gate = new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 60_000);
        open = () => (clearTimeout(timer), resolve());
      });
    };
    const track = async () => {
      now++, nowRun++;
      peak = Math.max(peak, now);
      peakRun = Math.max(peakRun, nowRun);
      if (now >= cap) open();
      await gate;
      await new Promise((r) => setTimeout(r, 5));
      now--, nowRun--;
    };
    const pooled = dag({ id: id("pooled") }).task("each", {
      pool: "tiny",
      expand: () => [...Array(8).keys()],
      run: track,
    });
    arm(2);
    await runDag(store, pooled);
    assert.equal(peak, 2, "pool tiny has 2 slots");
    const limited = dag({ id: id("limited"), maxActiveTasks: 3 }).task("each", {
      expand: () => [...Array(9).keys()],
      run: track,
    });
    arm(3);
    await runDag(store, limited);
    assert.equal(peakRun, 3, "maxActiveTasks 3");
    arm(1);
    await runDag(store, limited, { concurrency: 1 });
    assert.equal(peak, 1, "process concurrency 1");
    const tooBig = dag({ id: id("toobig") }).task("a", {
      pool: "tiny",
      poolSlots: 3,
      run: () => 1,
    });
    await assert.rejects(
      () => runDag(store, tooBig),
      /needs 3 slots of pool "tiny", which has only 2/,
    );
  },

  "a cleared task runs again on resume, with the next try number": async (store) => {
    let calls = 0;
    const d = dag({ id: id("resume") })
      .task("a", { run: () => ++calls })
      .task("b", { deps: ["a"], run: (ctx) => ctx.xcom("a") * 10 });
    const r = await runDag(store, d);
    assert.equal(r.state, "success");
    await store.clear(r.run.id, ["b"]);
    const ex = new Executor({ store, artifacts: new LocalArtifactStore(artifactsDir) });
    const again = await ex.runToEnd(d, r.run.id);
    assert.equal(again.state, "success");
    assert.equal(calls, 1, "a was not cleared and did not run again");
    const bTries = await store.tries(r.run.id, "b");
    assert.deepEqual(bTries.map((t) => [t.tryNumber, t.state]), [[1, "success"], [2, "success"]]);
  },

  "a try left running by a dead process counts as failed and is retried on resume": async (
    store,
  ) => {
    const d = dag({ id: id("orphan") }).task("a", {
      retries: 1,
      retryDelay: "1ms",
      run: () => "done",
    });
    const run = await createDagRun(store, d);
    await store.startTry({ runId: run.id, taskId: "a", mapIndex: -1 }, 1, new Date(), "dead-host");
    const r = await new Executor({ store, artifacts: new LocalArtifactStore(artifactsDir) })
      .runToEnd(d, run.id);
    assert.equal(r.state, "success");
    const tries = await store.tries(run.id);
    assert.deepEqual(tries.map((t) => [t.tryNumber, t.state, t.hostname]), [[
      1,
      "up_for_retry",
      "dead-host",
    ], [2, "success", Deno.hostname()]]);
    assert.match(tries[0].error!, /process running this try ended/);
  },

  "each run records its DAG's structure and hash": async (store) => {
    const d = dag({ id: id("structure") }).task("a", { run: () => 1 }).task("b", {
      deps: ["a"],
      triggerRule: "all_done",
      run: () => 2,
    });
    const r = await runDag(store, d);
    assert.match(r.run.structureHash, /^[0-9a-f]{64}$/);
    const s = await store.structure(r.run.structureHash);
    assert.deepEqual(s?.tasks.map((t) => [t.id, t.deps, t.triggerRule]), [
      ["a", [], "all_success"],
      ["b", ["a"], "all_done"],
    ]);
  },
});

storeSuite("executor context", {
  "priorXcom reads the latest earlier run's value; putArtifact stores bytes": async (store) => {
    const d = dag({ id: `prior_${crypto.randomUUID().slice(0, 8)}` })
      .task("state", {
        run: async (ctx) => {
          const previous = await ctx.priorXcom<{ batch: number }>("state");
          return { batch: (previous?.batch ?? -1) + 1 };
        },
      })
      .task("save", {
        deps: ["state"],
        run: (ctx) => ctx.putArtifact(`batch ${ctx.xcom("state").batch}`),
      });
    const artifacts = new LocalArtifactStore(artifactsDir);
    const ex = new Executor({ store, artifacts });
    const batches: number[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await createDagRun(store, d, { logicalDate: new Date(Date.UTC(2026, 0, 1 + i)) });
      await ex.runToEnd(d, run.id);
      const xs = await store.xcoms(run.id);
      batches.push((xs.find((x) => x.taskId === "state")!.value as { batch: number }).batch);
      const key = xs.find((x) => x.taskId === "save")!.value as string;
      assert.equal(new TextDecoder().decode(await artifacts.get(key)), `batch ${i}`);
    }
    assert.deepEqual(batches, [0, 1, 2]);
  },
});

Deno.test("without an artifact store given, the executor keeps artifacts under DRIFTFLOW_HOME, as the CLI does", async () => {
  const home = await Deno.makeTempDir({ prefix: "driftflow-home-" });
  const saved = {
    DRIFTFLOW_HOME: Deno.env.get("DRIFTFLOW_HOME"),
    DRIFTFLOW_S3_BUCKET: Deno.env.get("DRIFTFLOW_S3_BUCKET"),
  };
  Deno.env.set("DRIFTFLOW_HOME", home);
  Deno.env.delete("DRIFTFLOW_S3_BUCKET");
  const store = await openStore({ memory: true });
  try {
    const d = dag({ id: id("home_artifacts") })
      .task("save", { run: (ctx) => ctx.putArtifact("kept in the data home") });
    const run = await createDagRun(store, d);
    const result = await new Executor({ store }).runToEnd(d, run.id);
    assert.equal(result.state, "success");
    const key = (await store.xcoms(run.id)).find((x) => x.taskId === "save")!.value as string;
    const atHome = new LocalArtifactStore(join(home, "artifacts"));
    assert.equal(new TextDecoder().decode(await atHome.get(key)), "kept in the data home");
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) Deno.env.delete(name);
      else Deno.env.set(name, value);
    }
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
});
