/**
 * A run's graph as SVG, drawn from the structure recorded with the run and laid out by dagre
 * (`@dagrejs/dagre`, the layered layout Airflow's own graph view uses): tasks left to right by rank,
 * long edges routed through the gaps between boxes (dagre gives every edge a point in each rank it
 * crosses, and boxes of one width leave those points clear), arrowheads on every edge, nodes
 * coloured by state. The SVG sits in its own scroll area with zoom buttons.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { dag } from "../../runner/dag.ts";
 * import { dagStructure } from "../../runner/structure.ts";
 * import { RunGraph } from "./graph.tsx";
 * const etl = dag({ id: "etl" })
 *   .task("extract", { run: () => 1 })
 *   .task("load", { deps: ["extract"], run: () => 2 });
 * const states = { extract: "success", load: null };
 * const html = String(<RunGraph structure={dagStructure(etl)} states={states} runId={3} />);
 * assert.match(html, /<svg[^>]*aria-label="task graph"/);
 * assert.match(html, /extract/);
 * ```
 */
import dagre from "@dagrejs/dagre";
import type { FC } from "hono/jsx";
import type { DagStructure } from "../../runner/structure.ts";
import { STATE_COLOUR } from "./layout.tsx";

const W = 170, H = 38, MARGIN = 12;

/** Where dagre put everything: box corners, edge polylines, and the drawing's size. */
export interface GraphLayout {
  nodes: Map<string, { x: number; y: number }>;
  edges: { from: string; to: string; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

/** Lays the tasks out left to right; `x`, `y` are each box's top-left corner. */
export function layout(structure: DagStructure): GraphLayout {
  const g = new dagre.graphlib.Graph();
  g.setGraph({
    rankdir: "LR",
    nodesep: 18,
    ranksep: 56,
    edgesep: 12,
    marginx: MARGIN,
    marginy: MARGIN,
  });
  g.setDefaultEdgeLabel(() => ({}));
  for (const t of structure.tasks) g.setNode(t.id, { width: W, height: H });
  for (const t of structure.tasks) {
    for (const d of t.deps) if (g.hasNode(d)) g.setEdge(d, t.id);
  }
  dagre.layout(g);
  const nodes = new Map<string, { x: number; y: number }>();
  for (const id of g.nodes()) {
    const n = g.node(id);
    nodes.set(id, { x: n.x - W / 2, y: n.y - H / 2 });
  }
  const edges = g.edges().map((e) => ({
    from: e.v,
    to: e.w,
    points: (g.edge(e).points ?? []).map((p: { x: number; y: number }) => ({ x: p.x, y: p.y })),
  }));
  const graph = g.graph();
  return {
    nodes,
    edges,
    width: Math.ceil(graph.width ?? W + 2 * MARGIN),
    height: Math.ceil(graph.height ?? H + 2 * MARGIN),
  };
}

const r1 = (v: number) => Math.round(v * 10) / 10;

/** Zoom: scales the SVG (its viewBox is fixed) inside its scroll area. */
const ZOOM = `(() => {
  const box = document.currentScript.parentElement;
  const svg = box.querySelector("svg");
  const w = Number(svg.getAttribute("width")), h = Number(svg.getAttribute("height"));
  let k = 1;
  const set = (z) => {
    k = Math.min(3, Math.max(0.25, z));
    svg.setAttribute("width", String(w * k));
    svg.setAttribute("height", String(h * k));
    box.querySelector(".zoom-level").textContent = Math.round(k * 100) + " %";
  };
  box.querySelector(".zoom-in").onclick = () => set(k * 1.25);
  box.querySelector(".zoom-out").onclick = () => set(k / 1.25);
  box.querySelector(".zoom-fit").onclick = () => {
    const area = box.querySelector(".graph-area");
    set(Math.min(1, (area.clientWidth - 8) / w, 440 / h));
  };
})();`;

export const RunGraph: FC<
  { structure: DagStructure; states: Record<string, string | null>; runId: number }
> = (p) => {
  const g = layout(p.structure);
  return (
    <div class="graph">
      <div class="graph-tools" style="margin:4px 0">
        <button type="button" class="secondary zoom-out" aria-label="zoom out">−</button>{" "}
        <button type="button" class="secondary zoom-in" aria-label="zoom in">+</button>{" "}
        <button type="button" class="secondary zoom-fit">fit</button>{" "}
        <span class="zoom-level muted">100 %</span>
      </div>
      <div
        class="graph-area"
        style="overflow:auto;max-height:480px;max-width:100%;background:#fff;border:1px solid #e5e8ec"
      >
        <svg
          xmlns="http://www.w3.org/2000/svg"
          width={g.width}
          height={g.height}
          viewBox={`0 0 ${g.width} ${g.height}`}
          role="img"
          aria-label="task graph"
        >
          <defs>
            <marker
              id="graph-arrow"
              viewBox="0 0 10 10"
              refX="10"
              refY="5"
              markerWidth="8"
              markerHeight="8"
              orient="auto-start-reverse"
            >
              <path d="M0,0 L10,5 L0,10 z" fill="#66727f" />
            </marker>
          </defs>
          {g.edges.map((e) => (
            <path
              class="edge"
              data-from={e.from}
              data-to={e.to}
              d={e.points.map((pt, i) => `${i ? "L" : "M"}${r1(pt.x)},${r1(pt.y)}`).join(" ")}
              fill="none"
              stroke="#8a96a3"
              stroke-width="1.5"
              marker-end="url(#graph-arrow)"
            />
          ))}
          {p.structure.tasks.map((t) => {
            const { x, y } = g.nodes.get(t.id)!;
            const state = p.states[t.id] ?? "none";
            return (
              <a href={`#task-${t.id}`}>
                <title>{`${t.id}: ${state}`}</title>
                <rect
                  class="task-box"
                  data-task={t.id}
                  x={r1(x)}
                  y={r1(y)}
                  width={W}
                  height={H}
                  rx="5"
                  fill="#fff"
                  stroke={STATE_COLOUR[state] ?? "#999"}
                  stroke-width="3"
                />
                <text x={r1(x + 8)} y={r1(y + 16)} font-size="12" font-family="sans-serif">
                  {t.id.length > 23 ? t.id.slice(0, 22) + "…" : t.id}
                </text>
                <text
                  x={r1(x + 8)}
                  y={r1(y + 30)}
                  font-size="10"
                  fill="#6b7785"
                  font-family="sans-serif"
                >
                  {state}
                  {t.mapped ? " · mapped" : ""}
                  {t.kind !== "function" ? ` · ${t.kind}` : ""}
                </text>
              </a>
            );
          })}
        </svg>
      </div>
      <script dangerouslySetInnerHTML={{ __html: ZOOM }} />
    </div>
  );
};
