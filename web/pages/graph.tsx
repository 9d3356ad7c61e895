/**
 * A run's graph as SVG, drawn from the structure recorded with the run: tasks in layers by their
 * longest path from a root, edges as curves, nodes coloured by state.
 *
 * @example
 * ```tsx
 * <RunGraph structure={structure} states={{ extract: "success" }} runId={3} />
 * ```
 */
import type { FC } from "hono/jsx";
import type { DagStructure } from "../../runner/structure.ts";
import { STATE_COLOUR } from "./layout.tsx";

const W = 150, H = 34, GX = 60, GY = 18;

/** Task positions: column by longest path from a root, row by order within the column. */
export function layout(structure: DagStructure): Map<string, { x: number; y: number }> {
  const layer = new Map<string, number>();
  const byId = new Map(structure.tasks.map((t) => [t.id, t]));
  const depth = (id: string, seen = new Set<string>()): number => {
    if (layer.has(id)) return layer.get(id)!;
    if (seen.has(id)) return 0;
    seen.add(id);
    const deps = byId.get(id)?.deps ?? [];
    const d = deps.length ? 1 + Math.max(...deps.map((x) => depth(x, seen))) : 0;
    layer.set(id, d);
    return d;
  };
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number }>();
  for (const t of structure.tasks) {
    const l = depth(t.id);
    const r = rows.get(l) ?? 0;
    rows.set(l, r + 1);
    pos.set(t.id, { x: 10 + l * (W + GX), y: 10 + r * (H + GY) });
  }
  return pos;
}

export const RunGraph: FC<
  { structure: DagStructure; states: Record<string, string | null>; runId: number }
> = (p) => {
  const pos = layout(p.structure);
  const width = Math.max(...[...pos.values()].map((v) => v.x)) + W + 20;
  const height = Math.max(...[...pos.values()].map((v) => v.y)) + H + 20;
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      width={width}
      height={height}
      role="img"
      aria-label="task graph"
    >
      {p.structure.tasks.flatMap((t) =>
        t.deps.map((d) => {
          const a = pos.get(d)!, b = pos.get(t.id)!;
          const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
          return (
            <path
              d={`M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`}
              fill="none"
              stroke="#8a96a3"
              stroke-width="1.5"
            />
          );
        })
      )}
      {p.structure.tasks.map((t) => {
        const { x, y } = pos.get(t.id)!;
        const state = p.states[t.id] ?? "none";
        return (
          <a href={`#task-${t.id}`}>
            <rect
              x={x}
              y={y}
              width={W}
              height={H}
              rx="5"
              fill="#fff"
              stroke={STATE_COLOUR[state] ?? "#999"}
              stroke-width="3"
            />
            <text x={x + 8} y={y + 15} font-size="12" font-family="sans-serif">
              {t.id.length > 20 ? t.id.slice(0, 19) + "…" : t.id}
            </text>
            <text x={x + 8} y={y + 28} font-size="10" fill="#6b7785" font-family="sans-serif">
              {state}
              {t.mapped ? " · mapped" : ""}
              {t.kind !== "function" ? ` · ${t.kind}` : ""}
            </text>
          </a>
        );
      })}
    </svg>
  );
};
