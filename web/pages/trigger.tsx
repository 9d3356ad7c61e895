/**
 * The trigger form, generated from the DAG's params schema (as JSON Schema): an input per scalar
 * param and a multi-line JSON editor per nested one (objects, arrays) with its description and
 * schema, each pre-filled with its default; a JSON box for conf; each field's error beneath it. And
 * the sign-in pages that keep a form sent without a session.
 *
 * @example
 * ```tsx
 * import { TriggerPage } from "./trigger.tsx";
 *
 * const schema = { type: "object", properties: { batchSize: { type: "integer", default: 1000 } } };
 * <TriggerPage dagId="example" schema={schema} values={{}} conf="{}" errors={{}} />;
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
  properties?: Record<string, Prop>;
  required?: string[];
  items?: Prop;
  additionalProperties?: Prop | boolean;
}

/** The properties of a params JSON Schema. */
export function schemaFields(schema: unknown): [string, Prop][] {
  const props = (schema as { properties?: Record<string, Prop> } | null)?.properties ?? {};
  return Object.entries(props);
}

const SCALARS = ["string", "number", "integer", "boolean"];

/** A param's single JSON type (the first of several), or undefined when the schema has none. */
function typeOf(prop: Prop): string | undefined {
  return Array.isArray(prop.type) ? prop.type[0] : prop.type;
}

/**
 * True when a param is edited as JSON (a multi-line editor): objects, arrays, and anything the
 * schema does not pin to one scalar type (a union, `unknown`). Enums and scalars are inputs.
 */
export function isJsonField(prop: Prop): boolean {
  return !prop.enum && !SCALARS.includes(typeOf(prop) ?? "");
}

/** An object schema's fields, each optional one marked `?`: `atBatch, drift?`. */
function fieldList(prop: Prop): string {
  return Object.keys(prop.properties ?? {})
    .map((k) => (prop.required ?? []).includes(k) ? k : `${k}?`).join(", ");
}

/** A nested value's shape in a few words: `{atBatch, drift}`, `string`. */
function shape(prop: Prop): string {
  if (prop.properties) return `{${fieldList(prop)}}`;
  if (typeOf(prop) === "array" && prop.items) return `[${shape(prop.items)}]`;
  return typeOf(prop) ?? "any JSON value";
}

/**
 * A nested param's shape in one line, from its schema (so a param without a description still
 * says what to write): `a list of {atBatch, drift}`, `an object with preset?, alpha?`.
 */
export function schemaOutline(prop: Prop): string | null {
  const type = typeOf(prop);
  if (type === "array" && prop.items) return `a list of ${shape(prop.items)}`;
  if (type === "object" && prop.properties && Object.keys(prop.properties).length) {
    return `an object with ${fieldList(prop)}`;
  }
  if (type === "object" && typeof prop.additionalProperties === "object") {
    return `an object from names to ${shape(prop.additionalProperties)}`;
  }
  return null;
}

/** What a submitted form holds: the params read by type, and each JSON field that did not parse. */
export interface FormParams {
  /** The values to validate, by param name (an empty field is left out: its default applies). */
  params: Record<string, unknown>;
  /** The text of each field as typed (a checkbox as "true" or "false"), to show it again. */
  typed: Record<string, string>;
  /** A JSON field whose text is not JSON, by param name: what was wrong and what would be right. */
  errors: Record<string, string>;
}

/** Reads a submitted form into param values, by the schema's types. */
export function formParams(schema: unknown, form: Record<string, unknown>): FormParams {
  const out: FormParams = { params: {}, typed: {}, errors: {} };
  for (const [name, prop] of schemaFields(schema)) {
    const raw = form[`param.${name}`];
    const type = typeOf(prop);
    if (type === "boolean" && !prop.enum) {
      out.params[name] = raw === "on" || raw === "true";
      out.typed[name] = String(out.params[name]);
      continue;
    }
    if (typeof raw !== "string") continue;
    out.typed[name] = raw;
    if (raw.trim() === "") continue;
    if (isJsonField(prop)) {
      try {
        out.params[name] = JSON.parse(raw);
      } catch (e) {
        const like = type === "array" ? "[…]" : type === "object" ? "{…}" : "a JSON value";
        out.errors[name] = `not valid JSON (${(e as Error).message}); write ${like}, such as ${
          JSON.stringify(prop.default ?? (type === "array" ? [] : {}))
        }`;
      }
    } else if (type === "number" || type === "integer") {
      out.params[name] = Number.isNaN(Number(raw)) ? raw : Number(raw);
    } else out.params[name] = raw;
  }
  return out;
}

/** A param's value as the form shows it: as typed when given, else its default. */
function shown(prop: Prop, value: unknown): string {
  if (value === undefined) return "";
  if (typeof value === "string") return value;
  return isJsonField(prop) ? JSON.stringify(value, null, 2) : String(value);
}

/** The field's schema without what the form already shows (the default and the description). */
function schemaText(prop: Prop): string {
  const { default: _d, description: _x, ...rest } = prop;
  return JSON.stringify(rest, null, 2);
}

export const TriggerPage: FC<{
  dagId: string;
  schema: unknown;
  /** Each param as typed (a string) or as a value (the default when absent). */
  values: Record<string, unknown>;
  conf: string;
  errors: Record<string, string>;
}> = (p) => (
  <Layout title={`trigger ${p.dagId}`}>
    <h1>Trigger {p.dagId}</h1>
    {p.errors[""] ? <p class="error">{p.errors[""]}</p> : null}
    <form method="post" action={`/dags/${encodeURIComponent(p.dagId)}/trigger`}>
      {schemaFields(p.schema).map(([name, prop]) => {
        const type = typeOf(prop);
        const value = p.values[name] ?? prop.default;
        const id = `param-${name}`;
        const error = p.errors[name]
          ? <div class="error" id={`${id}-error`}>{p.errors[name]}</div>
          : null;
        if (isJsonField(prop)) {
          const text = shown(prop, value);
          const rows = Math.min(24, Math.max(3, text.split("\n").length + 1));
          return (
            <div class="field json-field">
              <label for={id}>
                {name} <span class="muted">({type ?? "JSON"}, as JSON)</span>
              </label>
              <div style="display:flex;gap:16px;align-items:flex-start">
                <textarea
                  id={id}
                  name={`param.${name}`}
                  rows={rows}
                  cols={60}
                  style="font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px"
                  aria-invalid={p.errors[name] ? "true" : undefined}
                  aria-describedby={p.errors[name] ? `${id}-error` : undefined}
                >
                  {
                    // a textarea drops one leading newline: this one, so the text stays as typed
                    "\n" + text
                  }
                </textarea>
                <div style="max-width:480px">
                  {prop.description ? <div class="description">{prop.description}</div> : null}
                  {schemaOutline(prop)
                    ? <div class="muted outline">{schemaOutline(prop)}</div>
                    : null}
                  <details>
                    <summary class="muted">schema</summary>
                    <pre class="json" style="max-height:320px">{schemaText(prop)}</pre>
                  </details>
                </div>
              </div>
              {error}
            </div>
          );
        }
        return (
          <div class="field">
            <label for={id}>{name}</label>
            {prop.enum
              ? (
                <select id={id} name={`param.${name}`}>
                  {prop.enum.map((v) => (
                    <option value={String(v)} selected={String(v) === String(value)}>
                      {String(v)}
                    </option>
                  ))}
                </select>
              )
              : type === "boolean"
              ? (
                <input
                  id={id}
                  type="checkbox"
                  name={`param.${name}`}
                  checked={value === true || value === "true"}
                />
              )
              : (
                <input
                  id={id}
                  name={`param.${name}`}
                  type={type === "number" || type === "integer" ? "number" : "text"}
                  step={type === "integer" ? "1" : "any"}
                  value={shown(prop, value)}
                />
              )}
            {prop.description ? <div class="muted description">{prop.description}</div> : null}
            {error}
          </div>
        );
      })}
      <div class="field">
        <label for="conf">conf (JSON object)</label>
        <textarea id="conf" name="conf" rows={4} cols={60}>{"\n" + p.conf}</textarea>
        {p.errors.conf ? <div class="error">{p.errors.conf}</div> : null}
      </div>
      <button type="submit">Trigger</button>
    </form>
  </Layout>
);

/** A form field kept through signing in: its name and the text that was submitted. */
export type CarriedField = readonly [name: string, value: string];

export const LoginPage: FC<{ next: string; error?: string; carry?: readonly CarriedField[] }> = (
  p,
) => (
  <Layout title="sign in">
    <h1>Sign in</h1>
    <p class="muted">
      Changing anything needs the token the server was started with (DRIFTFLOW_TOKEN).
    </p>
    {p.error ? <p class="error">{p.error}</p> : null}
    {p.carry?.length
      ? (
        <p class="notice">
          What you submitted to <code>{p.next}</code>{" "}
          is kept: after signing in you can send it as it is.
        </p>
      )
      : null}
    <form method="post" action="/login">
      <input type="hidden" name="next" value={p.next} />
      {p.carry?.length
        ? <input type="hidden" name="carried" value={JSON.stringify(p.carry)} />
        : null}
      <input type="password" name="token" placeholder="token" autocomplete="current-password" />
      {" "}
      <button type="submit">Sign in</button>
    </form>
  </Layout>
);

/**
 * After signing in with a form kept: what was submitted, shown, and a button that sends it as it
 * is to where it was going (a same-site path).
 */
export const ResubmitPage: FC<{ action: string; fields: readonly CarriedField[] }> = (p) => (
  <Layout title="signed in">
    <h1>Signed in</h1>
    <p>
      What you submitted to <code>{p.action}</code> was kept. Check it and send it:
    </p>
    <form method="post" action={p.action}>
      <table>
        <tbody>
          {p.fields.map(([name, value]) => (
            <tr>
              <th>{name}</th>
              <td>
                <pre class="json" style="margin:0;max-height:240px">{value}</pre>
                <input type="hidden" name={name} value={value} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p>
        <button type="submit">Send it</button>
      </p>
    </form>
  </Layout>
);
