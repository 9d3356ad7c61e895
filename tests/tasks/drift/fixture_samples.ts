/**
 * The samples of the scipy fixtures, generated exactly as make_fixtures.py does: a 32-bit LCG and
 * only IEEE-exact arithmetic after it, so both languages hold identical inputs.
 */
export type SampleSpec =
  | {
    kind: "normal" | "square";
    seed: number;
    n: number;
    scale: number;
    shift: number;
    floor?: number;
  }
  | { kind: "cat"; seed: number; n: number; cats: string[]; weights: number[] };

function* lcg(seed: number): Generator<number> {
  let state = seed >>> 0;
  while (true) {
    state = (Math.imul(1664525, state) + 1013904223) >>> 0;
    yield state;
  }
}

/** The numbers of a numeric spec. */
export function numericSample(spec: SampleSpec): Float64Array {
  if (spec.kind === "cat") throw new Error("categorical spec");
  const g = lcg(spec.seed);
  const next = () => g.next().value as number;
  const out = new Float64Array(spec.n);
  for (let i = 0; i < spec.n; i++) {
    let v: number;
    if (spec.kind === "normal") {
      const s = next() + next() + next() + next();
      v = (s / 4294967296 - 2) * spec.scale + spec.shift;
    } else {
      const u = next() / 4294967296;
      v = u * u * spec.scale + spec.shift;
    }
    if (spec.floor !== undefined) v = Math.floor(v * spec.floor) / spec.floor;
    out[i] = v;
  }
  return out;
}

/** The labels of a categorical spec. */
export function categoricalSample(spec: SampleSpec): string[] {
  if (spec.kind !== "cat") throw new Error("numeric spec");
  const g = lcg(spec.seed);
  const out: string[] = [];
  for (let i = 0; i < spec.n; i++) {
    const u = (g.next().value as number) / 4294967296;
    let acc = 0;
    let v = spec.cats[spec.cats.length - 1];
    for (let k = 0; k < spec.cats.length; k++) {
      acc += spec.weights[k];
      if (u < acc) {
        v = spec.cats[k];
        break;
      }
    }
    out.push(v);
  }
  return out;
}
