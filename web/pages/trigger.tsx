/**
 * The trigger form, generated from the DAG's params schema (as JSON Schema): one field per param
 * with its default, a JSON box for conf, and each field's validation error beside it.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { dag } from "../../runner/dag.ts";
 * import { paramsJsonSchema } from "../../runner/params.ts";
 * import { TriggerPage } from "./trigger.tsx";
 * const example = dag({ id: "example", params: z.object({ batchSize: z.number().default(1000) }) })
 *   .task("extract", { run: (ctx) => ctx.params.batchSize });
 * const schema = paramsJsonSchema(example);
 * const errors = { batchSize: "expected a number" }; // from a rejected submission
 * const html = String(
 *   <TriggerPage dagId="example" schema={schema} values={{}} conf="{}" errors={errors} />,
 * );
 * assert.match(html, /<label for="param-batchSize">batchSize<\/label>/);
 * assert.match(html, /value="1000"/); // the default
 * assert.match(html, /expected a number/);
 * ```
 */
import type { FC } from "hono/jsx";
import { Layout } from "./layout.tsx";

interface Prop {
  type?: string | string[];
  enum?: unknown[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
}

/** The properties of a params JSON Schema. */
export function schemaFields(schema: unknown): [string, Prop][] {
  const props = (schema as { properties?: Record<string, Prop> } | null)?.properties ?? {};
  return Object.entries(props);
}

/** Reads a submitted form into raw param values, by the schema's types. */
export function formParams(
  schema: unknown,
  form: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, prop] of schemaFields(schema)) {
    const raw = form[`param.${name}`];
    const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
    if (type === "boolean") out[name] = raw === "on" || raw === "true";
    else if (typeof raw !== "string" || raw === "") continue;
    else if (type === "number" || type === "integer") {
      out[name] = Number.isNaN(Number(raw)) ? raw : Number(raw);
    } else if (type === "object" || type === "array") {
      try {
        out[name] = JSON.parse(raw);
      } catch {
        out[name] = raw;
      }
    } else out[name] = raw;
  }
  return out;
}

export const TriggerPage: FC<{
  dagId: string;
  schema: unknown;
  values: Record<string, unknown>;
  conf: string;
  errors: Record<string, string>;
}> = (p) => (
  <Layout title={`trigger ${p.dagId}`}>
    <h1>Trigger {p.dagId}</h1>
    {p.errors[""] ? <p class="error">{p.errors[""]}</p> : null}
    <form method="post" action={`/dags/${encodeURIComponent(p.dagId)}/trigger`}>
      {schemaFields(p.schema).map(([name, prop]) => {
        const type = Array.isArray(prop.type) ? prop.type[0] : prop.type;
        const value = p.values[name] ?? prop.default;
        const id = `param-${name}`;
        return (
          <div class="field">
            <label for={id}>{name}</label>
            {prop.enum
              ? (
                <select id={id} name={`param.${name}`}>
                  {prop.enum.map((v) => (
                    <option value={String(v)} selected={v === value}>{String(v)}</option>
                  ))}
                </select>
              )
              : type === "boolean"
              ? <input id={id} type="checkbox" name={`param.${name}`} checked={value === true} />
              : (
                <input
                  id={id}
                  name={`param.${name}`}
                  type={type === "number" || type === "integer" ? "number" : "text"}
                  step={type === "integer" ? "1" : "any"}
                  value={value === undefined
                    ? ""
                    : typeof value === "object"
                    ? JSON.stringify(value)
                    : String(value)}
                />
              )}
            {prop.description ? <div class="muted">{prop.description}</div> : null}
            {p.errors[name] ? <div class="error">{p.errors[name]}</div> : null}
          </div>
        );
      })}
      <div class="field">
        <label for="conf">conf (JSON object)</label>
        <textarea id="conf" name="conf" rows={4} cols={60}>{p.conf}</textarea>
        {p.errors.conf ? <div class="error">{p.errors.conf}</div> : null}
      </div>
      <button type="submit">Trigger</button>
    </form>
  </Layout>
);

export const LoginPage: FC<{ next: string; error?: string }> = (p) => (
  <Layout title="sign in">
    <h1>Sign in</h1>
    <p class="muted">
      Changing anything needs the token the server was started with (DRIFTFLOW_TOKEN).
    </p>
    {p.error ? <p class="error">{p.error}</p> : null}
    <form method="post" action="/login">
      <input type="hidden" name="next" value={p.next} />
      <input type="password" name="token" placeholder="token" autocomplete="current-password" />
      {" "}
      <button type="submit">Sign in</button>
    </form>
  </Layout>
);
