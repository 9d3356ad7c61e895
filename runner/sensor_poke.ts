/**
 * How a sensor waits: in "poke" mode one try pokes every interval until a value or the timeout;
 * in "reschedule" mode a try pokes once and, when the condition does not hold yet, ends as
 * `up_for_reschedule` (see try_runner.ts), so it holds no worker or pool slot between pokes.
 *
 * @example
 * ```ts
 * import { pokeUntil } from "./sensor_poke.ts";
 * const value = await pokeUntil({ poke: () => Deno.stat("x").then(() => true, () => false),
 *   intervalMs: 1000, timeoutMs: 60_000, clock, signal });
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
