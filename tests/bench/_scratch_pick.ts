import { loadDags } from "../../runner/loader.ts";
import { createDagRun } from "../../runner/runs.ts";
import { CHANNEL_SCHEDULER, TaskQueue } from "../../runner/store/queue.ts";
import { cluster, eventually } from "../runner/processes.ts";
const workers = Number(Deno.args[0] ?? 4);
const c = await cluster("tests/fixtures/dags_bench");
try {
  c.spawn("scheduler", ["scheduler", "--tick-ms", "200"], { BENCH_TASKS: "100" });
  const procs = Array.from({ length: workers }, (_, i) => c.spawn(`worker-${i}`, ["worker", "--concurrency", "16", "--poll-ms", "200", "--heartbeat-ms", "2000"], { BENCH_TASKS: "100" }));
  for (const p of procs) await eventually(`${p.name}`, async () => ((await p.output()).includes("started") ? true : undefined));
  Deno.env.set("BENCH_TASKS", "100");
  const { dags } = await loadDags("tests/fixtures/dags_bench");
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    const chain = await createDagRun(c.store, dags.get("bench_chain")!, { executor: "distributed" });
    await new TaskQueue(c.store.db).notify(CHANNEL_SCHEDULER, String(chain.id));
    await eventually("chain", async () => ((await c.store.getRun(chain.id))?.state === "success" ? true : undefined), 60000);
    const wall = performance.now() - t0;
    const [r] = await c.store.db.query<Record<string, unknown>>(
      `select percentile_cont(0.5) within group (order by extract(epoch from queued_at - scheduled_at) * 1000) as wake,
              percentile_cont(0.5) within group (order by extract(epoch from start_date - queued_at) * 1000) as claim,
              percentile_cont(0.5) within group (order by extract(epoch from start_date - scheduled_at) * 1000) as pickup,
              percentile_cont(0.5) within group (order by extract(epoch from scheduled_at - prev_end) * 1000) as gap
       from (select *, lag(end_date) over (order by substr(task_id, 2)::int) as prev_end from task_instances where run_id = $1) t`, [chain.id]);
    console.log(workers, "chain wall ms", Math.round(wall), JSON.stringify(r));
  }
} finally { await c.close(); }
