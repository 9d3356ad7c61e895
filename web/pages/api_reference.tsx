/**
 * The API reference page at /api: rendered on the server from the OpenAPI document itself (no CDN,
 * no client-side framework), so it can never disagree with /api/v1/openapi.json. Per tag and path:
 * the method, path, summary, whether a token is needed, the parameters, the request body's fields
 * and the responses; the named schemas at the end.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
 * import { ApiDocument, ApiReferencePage } from "./api_reference.tsx";
 * // an API with one route; the web app renders its /api/v1 app (web/api/routes.ts) the same way
 * const api = new OpenAPIHono();
 * const Dags = z.object({ dags: z.array(z.string()) });
 * api.openapi(
 *   createRoute({
 *     method: "get",
 *     path: "/dags",
 *     summary: "List the DAGs",
 *     tags: ["DAGs"],
 *     responses: {
 *       200: { description: "The DAGs", content: { "application/json": { schema: Dags } } },
 *     },
 *   }),
 *   (c) => c.json({ dags: ["example"] }, 200),
 * );
 * const info = { title: "Driftflow API", version: "1" };
 * const doc = ApiDocument.parse( // the document /api/v1/openapi.json serves, checked
 *   JSON.parse(JSON.stringify(api.getOpenAPI31Document({ openapi: "3.1.0", info }))),
 * );
 * const html = String(<ApiReferencePage doc={doc} docUrl="/api/v1/openapi.json" />);
 * assert.match(html, /Driftflow API/);
 * assert.match(html, /List the DAGs/);
 * ```
 */
import type { FC } from "hono/jsx";
import { z } from "zod";
import { Layout } from "./layout.tsx";

/** A JSON Schema as the document holds it (only the parts the page shows are named). */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  additionalProperties?: boolean | JsonSchema;
  description?: string;
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
}
const Schema: z.ZodType<JsonSchema> = z.lazy(() =>
  z.object({
    $ref: z.string().optional(),
    type: z.union([z.string(), z.array(z.string())]).optional(),
    properties: z.record(z.string(), Schema).optional(),
    required: z.array(z.string()).optional(),
    items: Schema.optional(),
    anyOf: z.array(Schema).optional(),
    oneOf: z.array(Schema).optional(),
    allOf: z.array(Schema).optional(),
    enum: z.array(z.unknown()).optional(),
    additionalProperties: z.union([z.boolean(), Schema]).optional(),
    description: z.string().optional(),
    default: z.unknown().optional(),
    format: z.string().optional(),
    pattern: z.string().optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
  })
);
const Content = z.record(z.string(), z.object({ schema: Schema.optional() })).optional();
const Operation = z.object({
  summary: z.string().optional(),
  description: z.string().optional(),
  tags: z.array(z.string()).optional(),
  security: z.array(z.record(z.string(), z.array(z.string()))).optional(),
  parameters: z.array(z.object({
    name: z.string(),
    in: z.string(),
    required: z.boolean().optional(),
    description: z.string().optional(),
    schema: Schema.optional(),
  })).optional(),
  requestBody: z.object({ content: Content, description: z.string().optional() }).optional(),
  responses: z.record(z.string(), z.object({ description: z.string(), content: Content })),
});
const METHODS = ["get", "post", "put", "patch", "delete"] as const;
/** The parts of an OpenAPI 3.1 document the page renders. */
export const ApiDocument = z.object({
  openapi: z.string(),
  info: z.object({ title: z.string(), version: z.string(), description: z.string().optional() }),
  paths: z.record(z.string(), z.partialRecord(z.enum(METHODS), Operation)),
  components: z.object({
    schemas: z.record(z.string(), Schema).optional(),
    securitySchemes: z.record(z.string(), z.object({ description: z.string().optional() }))
      .optional(),
  }).optional(),
});
export type ApiDocument = z.infer<typeof ApiDocument>;
type Op = z.infer<typeof Operation>;

const refName = (ref: string) => ref.split("/").pop() ?? ref;

/** A schema as one line of TypeScript-like text: `{ rows: object[], model?: string }`. */
export function typeText(s: JsonSchema | undefined, depth = 0): string {
  if (!s) return "any";
  if (s.$ref) return refName(s.$ref);
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return alt.map((a) => typeText(a, depth)).join(" | ");
  if (s.allOf) return s.allOf.map((a) => typeText(a, depth)).join(" & ");
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.length > 1) return types.map((t) => typeText({ ...s, type: t }, depth)).join(" | ");
  const t = types[0];
  if (t === "array") return `${typeText(s.items, depth)}[]`;
  if (t === "object" || s.properties) {
    if (!s.properties || Object.keys(s.properties).length === 0) {
      const extra = s.additionalProperties;
      return typeof extra === "object" ? `{ [key: string]: ${typeText(extra, depth)} }` : "object";
    }
    if (depth >= 2) return "object";
    const req = new Set(s.required ?? []);
    return `{ ${
      Object.entries(s.properties).map(([k, v]) =>
        `${k}${req.has(k) ? "" : "?"}: ${typeText(v, depth + 1)}`
      ).join(", ")
    } }`;
  }
  return t ?? "any";
}

/** The schema a body or response names: its component when it is a `$ref`. */
function resolve(doc: ApiDocument, s: JsonSchema | undefined): JsonSchema | undefined {
  return s?.$ref ? doc.components?.schemas?.[refName(s.$ref)] : s;
}

const anchor = (method: string, path: string) =>
  `${method}-${path.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "")}`;

const SchemaRef: FC<{ schema?: JsonSchema }> = ({ schema }) =>
  schema?.$ref
    ? <a href={`#schema-${refName(schema.$ref)}`}>{refName(schema.$ref)}</a>
    : <code>{typeText(schema)}</code>;

/** A table of an object schema's fields: name, type, required, description. */
const Fields: FC<{ schema?: JsonSchema }> = ({ schema }) => {
  if (!schema?.properties) {
    return (
      <p>
        <code>{typeText(schema)}</code>
      </p>
    );
  }
  const req = new Set(schema.required ?? []);
  return (
    <table>
      <tr>
        <th>field</th>
        <th>type</th>
        <th>required</th>
        <th>description</th>
      </tr>
      {Object.entries(schema.properties).map(([name, s]) => (
        <tr>
          <td>
            <code>{name}</code>
          </td>
          <td>
            <SchemaRef schema={s} />
          </td>
          <td>{req.has(name) ? "yes" : "no"}</td>
          <td>
            {s.description ?? ""}
            {s.default !== undefined ? ` (default ${JSON.stringify(s.default)})` : ""}
          </td>
        </tr>
      ))}
    </table>
  );
};

const OperationView: FC<{ doc: ApiDocument; method: string; path: string; op: Op }> = (p) => {
  const { doc, method, path, op } = p;
  const body = op.requestBody?.content?.["application/json"]?.schema;
  return (
    <section class="op" id={anchor(method, path)}>
      <h3>
        <span class={`method m-${method}`}>{method.toUpperCase()}</span> <code>/api/v1{path}</code>
        {" "}
        <span class="summary">{op.summary ?? ""}</span>
      </h3>
      {op.description ? <p>{op.description}</p> : null}
      <p class="muted">
        {op.security && op.security.length > 0
          ? `Needs ${
            op.security.flatMap((s) => Object.keys(s)).join(", ")
          } authentication (Authorization: Bearer DRIFTFLOW_TOKEN or the session cookie).`
          : "No token needed."}
      </p>
      {op.parameters && op.parameters.length > 0
        ? (
          <>
            <h4>Parameters</h4>
            <table>
              <tr>
                <th>name</th>
                <th>in</th>
                <th>type</th>
                <th>required</th>
              </tr>
              {op.parameters.map((prm) => (
                <tr>
                  <td>
                    <code>{prm.name}</code>
                  </td>
                  <td>{prm.in}</td>
                  <td>
                    <code>{typeText(prm.schema)}</code>
                    {prm.schema?.default !== undefined
                      ? ` (default ${JSON.stringify(prm.schema.default)})`
                      : ""}
                  </td>
                  <td>{prm.required ? "yes" : "no"}</td>
                </tr>
              ))}
            </table>
          </>
        )
        : null}
      {body
        ? (
          <>
            <h4>
              Request body (application/json) <SchemaRef schema={body} />
            </h4>
            <Fields schema={resolve(doc, body)} />
          </>
        )
        : null}
      <h4>Responses</h4>
      <table>
        <tr>
          <th>status</th>
          <th>description</th>
          <th>body</th>
        </tr>
        {Object.entries(op.responses).map(([status, r]) => (
          <tr>
            <td>{status}</td>
            <td>{r.description}</td>
            <td>
              <SchemaRef schema={r.content?.["application/json"]?.schema} />
            </td>
          </tr>
        ))}
      </table>
    </section>
  );
};

const CSS = `
.op{background:#fff;padding:8px 14px;margin:10px 0;box-shadow:0 1px 2px #0001}.op h3{font-size:15px;margin:4px 0}
.op h4{font-size:13px;margin:10px 0 4px}.method{display:inline-block;min-width:58px;text-align:center;color:#fff;border-radius:4px;padding:1px 6px;font-size:12px}
.m-get{background:#0b61a4}.m-post{background:#2e7d32}.m-patch{background:#ef6c00}.m-put{background:#6a1b9a}.m-delete{background:#c62828}
.summary{font-weight:400}.toc li{margin:2px 0}
`;

/** The page: a contents list, the operations grouped by tag, then the named schemas. */
export const ApiReferencePage: FC<{ doc: ApiDocument; docUrl: string }> = ({ doc, docUrl }) => {
  const ops = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((m) => (item[m] ? [{ method: m, path, op: item[m] }] : []))
  );
  const tags = [...new Set(ops.map((o) => o.op.tags?.[0] ?? "Other"))];
  const schemes = Object.entries(doc.components?.securitySchemes ?? {});
  return (
    <Layout title="API">
      <style>{CSS}</style>
      <h1>
        {doc.info.title} <span class="muted">v{doc.info.version}</span>
      </h1>
      {doc.info.description ? <p>{doc.info.description}.</p> : null}
      <p>
        Base path <code>/api/v1</code>. The machine-readable OpenAPI {doc.openapi} document:{" "}
        <a href={docUrl}>{docUrl}</a>.
      </p>
      {schemes.map(([name, s]) => (
        <p>
          <b>Authentication ({name}):</b> {s.description ?? ""}
        </p>
      ))}
      <ul class="toc">
        {tags.map((tag) => (
          <li>
            <a href={`#tag-${tag}`}>{tag}</a>:{" "}
            {ops.filter((o) => (o.op.tags?.[0] ?? "Other") === tag).map((o, i) => (
              <>
                {i > 0 ? ", " : ""}
                <a href={`#${anchor(o.method, o.path)}`}>{o.method.toUpperCase()} {o.path}</a>
              </>
            ))}
          </li>
        ))}
      </ul>
      {tags.map((tag) => (
        <>
          <h2 id={`tag-${tag}`}>{tag}</h2>
          {ops.filter((o) => (o.op.tags?.[0] ?? "Other") === tag).map((o) => (
            <OperationView doc={doc} method={o.method} path={o.path} op={o.op} />
          ))}
        </>
      ))}
      <h2>Schemas</h2>
      {Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => (
        <section class="op" id={`schema-${name}`}>
          <h3>
            <code>{name}</code>
          </h3>
          <Fields schema={s} />
        </section>
      ))}
    </Layout>
  );
};
