/**
 * The frames every report shares: a self-contained HTML page (inline style, a title as heading)
 * and an inline SVG chart (its own namespace, a view box, an accessible label), so the drift
 * report, the AUC history and the detection benchmark's page are built the same way.
 *
 * @example
 * ```tsx
 * import assert from "node:assert/strict";
 * import { ReportPage, SvgFrame } from "./report_frame.tsx";
 * import { htmlText } from "./html_text.ts";
 * const page = htmlText(
 *   <ReportPage title="Batch <12>" style="body { margin: 1em }">
 *     <SvgFrame width={200} height={100} label="nothing drawn" />
 *   </ReportPage>,
 * );
 * assert.match(page, /<title>Batch &lt;12&gt;<\/title>/);
 * assert.match(page, /<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="200"/);
 * ```
 */
import type { Child } from "hono/jsx";

/** A whole HTML document: `<title>` and `<h1>` from `title`, `style` inline, then the children. */
export function ReportPage(
  { title, style, children }: { title: string; style: string; children?: Child },
) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>{title}</title>
        <style dangerouslySetInnerHTML={{ __html: style }} />
      </head>
      <body>
        <h1>{title}</h1>
        {children}
      </body>
    </html>
  );
}

/** An inline SVG chart of `width` × `height` pixels, read out as `label`. */
export function SvgFrame(
  { width, height, label, fontSize = 10, children }: {
    width: number;
    height: number;
    label: string;
    fontSize?: number;
    children?: Child;
  },
) {
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
      font-size={fontSize}
      font-family="sans-serif"
    >
      {children}
    </svg>
  );
}
