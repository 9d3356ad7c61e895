/**
 * `deno task bench <name>`: runs one benchmark. Every benchmark prints a table with our figure and
 * the peer's side by side, then one JSON line per figure: {"metric", "value", "unit"}.
 *
 * @example
 * ```sh
 * deno task bench engine
 * ```
 */
const BENCHES: Record<string, string> = {
  engine: "./engine.ts",
  drift: "./drift.ts",
  estimation: "./estimation.ts",
  detection: "./detection.ts",
  models: "./models.ts",
  web: "./web.ts",
  "dag-build": "./dag_build.ts",
  chaos: "./chaos.ts",
};

const [name, ...rest] = Deno.args;
const path = name ? BENCHES[name] : undefined;
if (!path) {
  console.error(`usage: deno task bench <${Object.keys(BENCHES).join("|")}> [options]`);
  Deno.exit(2);
}
const mod = await import(path) as { main(args: string[]): Promise<void> };
await mod.main(rest);
