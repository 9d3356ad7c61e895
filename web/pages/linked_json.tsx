/**
 * A JSON value, formatted (two-space indent), with what really is a link made one: a run id under a
 * run-id key (`runId`…) that exists links to its run page, an artifact key the store has links to
 * its download. Everything else is text. The sets come from `runLinks` (web/services/runs.ts).
 *
 * @example
 * ```tsx
 * import { LinkedJson } from "./linked_json.tsx";
 *
 * const key = `sha256:${"a".repeat(64)}`;
 * <LinkedJson
 *   value={{ runId: 7, artifact: key, note: "text" }}
 *   links={{ runs: new Set([7]), artifacts: new Set([key]) }}
 * />; // 7 → /runs/7, the key → /artifacts/sha256:aaa…, "text" stays text
 * ```
 */
import type { Child, FC } from "hono/jsx";
import { isRunIdKey, type RunLinks } from "../services/runs.ts";

/** Where an artifact opens: an HTML report (by its property's name) in the sandbox, else bytes. */
export function artifactHref(key: string, property?: string): string {
  return `/artifacts/${key}${property && /html/i.test(property) ? "?type=html" : ""}`;
}

function parts(value: unknown, links: RunLinks, indent: number, property?: string): Child[] {
  const pad = "  ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return ["[]"];
    return [
      "[\n",
      ...value.flatMap((v, i) => [
        `${pad}  `,
        ...parts(v, links, indent + 1, property),
        i < value.length - 1 ? ",\n" : "\n",
      ]),
      `${pad}]`,
    ];
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return ["{}"];
    return [
      "{\n",
      ...entries.flatMap(([k, v], i) => [
        `${pad}  ${JSON.stringify(k)}: `,
        ...parts(v, links, indent + 1, k),
        i < entries.length - 1 ? ",\n" : "\n",
      ]),
      `${pad}}`,
    ];
  }
  if (typeof value === "string" && links.artifacts.has(value)) {
    const link = (
      <a class="artifact-link" href={artifactHref(value, property)} title="download the artifact">
        {JSON.stringify(value)}
      </a>
    );
    return [link];
  }
  if (
    typeof value === "number" && property !== undefined && isRunIdKey(property) &&
    links.runs.has(value)
  ) {
    const link = <a class="run-link" href={`/runs/${value}`}>{String(value)}</a>;
    return [link];
  }
  return [JSON.stringify(value) ?? "null"];
}

export const LinkedJson: FC<{ value: unknown; links: RunLinks }> = (p) => (
  <pre class="json">{parts(p.value, p.links, 0)}</pre>
);
