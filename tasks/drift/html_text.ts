/**
 * A hono/jsx element as the text of an HTML or SVG file. The reports are built with JSX (which
 * escapes every interpolated value) and written to files or stored as artifacts, so they need the
 * rendered text at once; an element with an async component has none, and is an error.
 *
 * @example
 * ```tsx
 * import { htmlText } from "./html_text.ts";
 * const column = "<script>";
 * htmlText(<p>{column}</p>); // "<p>&lt;script&gt;</p>"
 * ```
 */
import type { HtmlEscapedString } from "hono/utils/html";

/** The rendered text of `element`. */
export function htmlText(element: HtmlEscapedString | Promise<HtmlEscapedString>): string {
  if (element instanceof Promise) {
    throw new Error(
      "htmlText: the element renders asynchronously (an async component); reports render synchronously",
    );
  }
  return element.toString();
}
