/**
 * What the flights demo monitors: the model's features, its label and the registered name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { flightFeatures } from "../data/flights.ts";
 * import { FLIGHT_FEATURES, FLIGHT_MODEL, FLIGHT_TARGET } from "./flights.ts";
 * // every name is a column flightFeatures makes from raw flights
 * const flights = {
 *   date: Float64Array.of(Date.UTC(2001, 0, 5, 17)),
 *   delay: Float64Array.of(25),
 *   distance: Float64Array.of(900),
 *   origin: ["SEA"],
 *   destination: ["SFO"],
 * };
 * const features = flightFeatures(flights);
 * for (const c of [...FLIGHT_FEATURES, FLIGHT_TARGET]) assert.ok(c in features, c);
 * assert.equal(features[FLIGHT_TARGET][0], "yes"); // 25 minutes late
 * assert.equal(FLIGHT_MODEL, "flights_delay"); // the registered model's name
 * ```
 */
export const FLIGHT_FEATURES = ["day_of_week", "hour", "distance", "origin", "destination"];
export const FLIGHT_TARGET = "late";
export const FLIGHT_MODEL = "flights_delay";
/** Rows of the flights stream in a week (≈ 3M flights / 181 days × 7): a default batch window. */
export const WEEK_OF_FLIGHTS = 116_000;
