/**
 * A tour of the authoring API: branching, a mapped task, a command and a trigger rule that joins
 * the branches. Run it with `deno task run example --param batchSize=10`.
 */
import { dag, z } from "driftflow";

export default dag({
  id: "example",
  description: "A tour of the authoring API",
  schedule: null,
  params: z.object({ batchSize: z.number().int().positive().default(1000) }),
  defaults: {
    retries: 2,
    retryDelay: "1s",
    retryBackoff: "exponential",
    maxRetryDelay: "10s",
    timeout: "1m",
  },
})
  .task("extract", {
    run: (ctx) => {
      ctx.log(`extracting ${ctx.params.batchSize} rows`);
      return { rows: ctx.params.batchSize };
    },
  })
  .branch("check", {
    deps: ["extract"],
    run: (ctx) => (ctx.xcom("extract").rows > 0 ? "transform" : "nothing"),
  })
  .task("transform", { deps: ["check"], run: (ctx) => ({ doubled: ctx.xcom("extract").rows * 2 }) })
  .task("nothing", { deps: ["check"], run: (ctx) => ctx.log("no rows") })
  .task("each", {
    deps: ["extract"],
    expand: (ctx) => Array.from({ length: Math.min(ctx.xcom("extract").rows, 3) }, (_, i) => i + 1),
    run: (_ctx, item) => item * 2,
  })
  .command("shell", { deps: ["extract"], cmd: ["bash", "-c", "echo hello from bash"] })
  .task("report", {
    deps: ["transform", "nothing", "each", "shell"],
    triggerRule: "none_failed_min_one_success",
    run: (ctx) => {
      const summary = {
        doubled: ctx.maybeXcom("transform")?.doubled ?? 0,
        mapped: ctx.xcom("each"),
      };
      ctx.log("summary", summary, ctx.xcom("shell").lastLine);
      return summary;
    },
  });
