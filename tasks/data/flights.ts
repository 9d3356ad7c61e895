/**
 * The US flights data set shipped in npm `vega-datasets` (flights-3m.parquet: 3 million flights,
 * January–June 2001, with scheduled departure, arrival delay in minutes, distance, origin and
 * destination; BSD-3-Clause), and the features Driftflow's demos derive from it: month, day of
 * month, day of week, scheduled hour, distance, origin, destination, and `late` (arrival delay over
 * 15 minutes).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flightFeatures, loadFlights } from "./flights.ts";
 * // the first 1,000 of 3 million flights (the package is in Deno's npm cache, fetched when absent)
 * const flights = await loadFlights({ rowStart: 0, rowEnd: 1000 });
 * assert.deepEqual(Object.keys(flights), ["date", "delay", "distance", "origin", "destination"]);
 * const features = flightFeatures(flights);
 * assert.equal(features.late.length, 1000); // "yes" when the arrival delay is over 15 minutes
 * assert.equal(features.month[0], 1); // January 2001
 * ```
 */
import { join } from "node:path";
import { npmPackageDir } from "./npm_files.ts";
import { readParquet } from "./parquet.ts";
import { rowCount, type Table } from "../../models/core/table.ts";

/** Where flights-3m.parquet is (in Deno's npm cache; fetched when absent). */
export async function flightsFile(): Promise<string> {
  return join(await npmPackageDir("vega-datasets", "3.2.1"), "data", "flights-3m.parquet");
}

/** Reads the flights (rows [rowStart, rowEnd) when given; the file is in time order). */
export async function loadFlights(
  opts: { rowStart?: number; rowEnd?: number } = {},
): Promise<Table> {
  const { table } = await readParquet(await flightsFile(), opts);
  return table;
}

const DAY_MS = 86_400_000;

/** Model features and the `late` label from raw flights; `date` is kept for time splits. */
export function flightFeatures(flights: Table): Table {
  const date = flights.date as Float64Array, delay = flights.delay as Float64Array;
  const n = rowCount(flights);
  const month = new Float64Array(n),
    dom = new Float64Array(n),
    dow = new Float64Array(n),
    hour = new Float64Array(n);
  const late: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const d = new Date(date[i]);
    month[i] = d.getUTCMonth() + 1;
    dom[i] = d.getUTCDate();
    dow[i] = Math.floor(date[i] / DAY_MS + 4) % 7; // 1970-01-01 was a Thursday: 0 = Sunday
    hour[i] = d.getUTCHours();
    late[i] = delay[i] > 15 ? "yes" : "no";
  }
  return {
    date,
    month,
    day_of_month: dom,
    day_of_week: dow,
    hour,
    distance: flights.distance,
    origin: flights.origin,
    destination: flights.destination,
    late,
  };
}
