/**
 * What the flights demo monitors: the model's features, its label and the registered name.
 *
 * @example
 * ```ts
 * import { FLIGHT_FEATURES, FLIGHT_TARGET } from "./flights.ts";
 * ```
 */
export const FLIGHT_FEATURES = ["day_of_week", "hour", "distance", "origin", "destination"];
export const FLIGHT_TARGET = "late";
export const FLIGHT_MODEL = "flights_delay";
