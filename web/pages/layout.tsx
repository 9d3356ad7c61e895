/**
 * The page frame: navigation, styles (inline: no CDN), and the colours of states.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { Layout } from "./layout.tsx";
 * const html = String(<Layout title="<DAGs>"><h1>DAGs</h1></Layout>);
 * assert.match(html, /<title>&lt;DAGs&gt; · Driftflow<\/title>/); // text is escaped
 * assert.match(html, /<main><h1>DAGs<\/h1><\/main>/);
 * ```
 */
import type { Child, FC } from "hono/jsx";

/** A state's colour (Airflow's palette, kept distinguishable), with text always beside it. */
export const STATE_COLOUR: Record<string, string> = {
  success: "#2e7d32",
  failed: "#c62828",
  running: "#00acc1",
  queued: "#9e9e9e",
  scheduled: "#bcaaa4",
  up_for_retry: "#f9a825",
  up_for_reschedule: "#4dd0e1",
  upstream_failed: "#ef6c00",
  skipped: "#f48fb1",
  none: "#e0e0e0",
};

const CSS = `
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1f2933;background:#f7f8fa}
nav{background:#17324d;color:#fff;padding:10px 24px;display:flex;gap:20px;align-items:center}
nav a{color:#cfe3f7;text-decoration:none}nav a:hover{color:#fff}nav b{color:#fff;font-size:16px;margin-right:12px}
main{padding:20px 24px;max-width:1400px}h1{font-size:20px;margin:0 0 12px}h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 2px #0001}th,td{padding:6px 10px;border-bottom:1px solid #e5e8ec;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}a{color:#0b61a4}.muted{color:#6b7785}.sq{display:inline-block;width:14px;height:14px;border-radius:3px;margin-right:2px;vertical-align:middle}
.state{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px}
pre{background:#0f1720;color:#e6edf3;padding:12px;overflow:auto;max-height:70vh;font-size:12px}
form.inline{display:inline}button{cursor:pointer;background:#0b61a4;color:#fff;border:0;border-radius:4px;padding:4px 10px}
button.secondary{background:#6b7785}input,select,textarea{font:inherit;padding:4px 6px}
.notice{color:#1b5e20;background:#e8f5e9;padding:6px 10px}.error{color:#c62828}.field{margin:10px 0}.field label{display:block;font-weight:600}.pager{margin:10px 0}
.grid td{padding:2px 3px;border:0}.grid th{writing-mode:vertical-rl;transform:rotate(180deg);font-weight:400;font-size:11px;padding:4px 2px}
`;

export const Layout: FC<{ title: string; children?: Child; refreshWhile?: string }> = (props) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{props.title} · Driftflow</title>
      <style>{CSS}</style>
    </head>
    <body>
      <nav>
        <b>Driftflow</b>
        <a href="/">DAGs</a>
        <a href="/drift">Drift</a>
        <a href="/models">Models</a>
        <a href="/experiments">Experiments</a>
        <a href="/api">API</a>
      </nav>
      <main>{props.children}</main>
    </body>
  </html>
);

/** A coloured state badge with its name. */
export const StateBadge: FC<{ state: string | null }> = ({ state }) => (
  <span class="state" style={`background:${STATE_COLOUR[state ?? "none"] ?? "#999"}`}>
    {state ?? "none"}
  </span>
);

/** A small coloured square linking somewhere, titled with its state. */
export const Square: FC<{ state: string | null; href: string; title: string }> = (p) => (
  <a href={p.href} title={`${p.title}: ${p.state ?? "none"}`}>
    <span class="sq" style={`background:${STATE_COLOUR[p.state ?? "none"] ?? "#999"}`} />
  </a>
);
