/**
 * How a sensor waits: in "poke" mode one try pokes every interval until a value or the timeout;
 * in "reschedule" mode a try pokes once and, when the condition does not hold yet, ends as
 * `up_for_reschedule` (see try_runner.ts), so it holds no worker or pool slot between pokes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FakeClock } from "./clock.ts";
 * import { pokeUntil, SensorTimeout } from "./sensor_poke.ts";
 * const clock = new FakeClock(); // virtual time: the example does not wait
 * let pokes = 0;
 * const poke = () => Promise.resolve(++pokes >= 3 ? { files: 2 } : false); // true on the 3rd poke
 * const signal = new AbortController().signal;
 * const value = await pokeUntil({ poke, intervalMs: 1000, timeoutMs: 60_000, clock, signal });
 * assert.deepEqual(value, { files: 2 });
 * assert.deepEqual(clock.sleeps, [1000, 1000]);
 * const never = () => Promise.resolve(false);
 * await assert.rejects(
 *   pokeUntil({ poke: never, intervalMs: 1000, timeoutMs: 5000, clock, signal }),
 *   SensorTimeout,
 * );
 * ```
 */
import type { Clock } from "./clock.ts";

/** Thrown when a sensor's timeout passes: final, never retried (as Airflow's AirflowSensorTimeout). */
export class SensorTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SensorTimeout";
  }
}

/** Thrown by a reschedule-mode poke whose condition does not hold yet. */
export class Reschedule extends Error {
  constructor() {
    super("the condition does not hold yet; poking again later");
    this.name = "Reschedule";
  }
}

/** True for a poke result that ends the wait (anything but false, null and undefined). */
export function sensorDone(value: unknown): boolean {
  return value !== false && value != null;
}

/** The message of a sensor that waited too long. */
export function timeoutMessage(timeoutMs: number, pokes: number): string {
  return `sensor timed out: the condition did not hold within ${
    timeoutMs / 1000
  } s (${pokes} pokes)`;
}

/** Pokes every `intervalMs` until a value comes back; throws SensorTimeout after `timeoutMs`. */
export async function pokeUntil(o: {
  poke: () => Promise<unknown>;
  intervalMs: number;
  timeoutMs: number;
  clock: Clock;
  signal: AbortSignal;
}): Promise<unknown> {
  const start = o.clock.now();
  for (let pokes = 1;; pokes++) {
    const value = await o.poke();
    if (sensorDone(value)) return value;
    if (o.clock.now() - start + o.intervalMs > o.timeoutMs) {
      throw new SensorTimeout(timeoutMessage(o.timeoutMs, pokes));
    }
    await o.clock.sleep(o.intervalMs, o.signal);
  }
}
