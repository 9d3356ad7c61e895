/**
 * Helpers for DAG tests: small flights-like data with a stable relation between features and the
 * label (so clean batches are clean), a local webhook receiver, and a runner that executes a DAG
 * in-process with the other DAGs resolvable for triggers.
 */
import type { DagDefinition } from "../../runner/dag.ts";
import { LocalArtifactStore } from "../../runner/artifacts/local.ts";
import { Executor } from "../../runner/executor.ts";
import { createDagRun } from "../../runner/runs.ts";
import type { Store } from "../../runner/store/store.ts";
import { writeParquet } from "../../tasks/data/parquet.ts";
import type { Table } from "../../models/core/table.ts";
import { Random } from "../../models/core/random.ts";

const AIRPORTS = ["SEA", "SFO", "LAX", "ORD", "ATL", "DEN", "JFK", "BOS"];

/** Flights-like rows: late depends on hour, distance and origin, the same way in every row. */
export function fakeFlights(n: number, seed: number, startMs = Date.UTC(2001, 0, 1)): Table {
  const rng = new Random(seed);
  const date = new Float64Array(n),
    dow = new Float64Array(n),
    hour = new Float64Array(n),
    distance = new Float64Array(n);
  const origin: string[] = [], destination: string[] = [], late: string[] = [];
  for (let i = 0; i < n; i++) {
    date[i] = startMs + i * 60_000;
    dow[i] = rng.int(7);
    hour[i] = 5 + rng.int(18);
    distance[i] = 200 + rng.next() * 2200;
    origin.push(AIRPORTS[rng.int(AIRPORTS.length)]);
    destination.push(AIRPORTS[rng.int(AIRPORTS.length)]);
    const z = -1.6 + 0.12 * (hour[i] - 12) + (origin[i] === "ORD" ? 0.8 : 0) + distance[i] / 4000 +
      rng.normal() * 0.8;
    late.push(z > 0 ? "yes" : "no");
  }
  return { date, day_of_week: dow, hour, distance, origin, destination, late };
}

/** Writes reference.parquet and stream.parquet under `dir`. */
export async function writeFakeFlights(dir: string, refRows: number, streamRows: number, seed = 1) {
  await Deno.mkdir(dir, { recursive: true });
  const reference = `${dir}/reference.parquet`, stream = `${dir}/stream.parquet`;
  await writeParquet(reference, fakeFlights(refRows, seed));
  await writeParquet(stream, fakeFlights(streamRows, seed + 100));
  return { reference, stream };
}

/** A webhook receiver on a free port that keeps what it is sent. */
export function webhookReceiver() {
  const received: { level: string; title: string; key: string }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    received.push(await req.json());
    return new Response("ok");
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/hook`,
    received,
    close: () => server.shutdown(),
  };
}

/** Runs a DAG to the end in-process; `dags` are resolvable by triggers. */
export async function runDag(
  store: Store,
  dag: DagDefinition,
  params: Record<string, unknown>,
  opts: { dags?: DagDefinition[]; artifactsDir: string; logicalDate?: Date },
) {
  const byId = new Map((opts.dags ?? []).map((d) => [d.id, d]));
  const ex = new Executor({
    store,
    artifacts: new LocalArtifactStore(opts.artifactsDir),
    resolveDag: (id) => byId.get(id),
  });
  const run = await createDagRun(store, dag, { params, logicalDate: opts.logicalDate });
  const result = await ex.runToEnd(dag, run.id);
  await ex.drain();
  const state = (id: string) =>
    result.taskInstances.find((t) => t.taskId === id && t.mapIndex < 0)?.state;
  return { ...result, stateOf: state };
}
