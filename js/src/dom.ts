// Small DOM helpers shared by the parts of the view: HTML and SVG elements with attributes set.
import { ATTR } from "./protocol";

export const SVG_NS = "http://www.w3.org/2000/svg";

/** An HTML element with `attrs` set and, when given, `text` as its text (never parsed as HTML). */
export function html<K extends keyof HTMLElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string>,
  text?: string,
): HTMLElementTagNameMap[K] {
  const element = doc.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** A toolbar toggle: a button with its `data-action`, off (aria-pressed="false"), and a tooltip. */
export function toggleButton(doc: Document, action: string, title: string, text: string): HTMLButtonElement {
  return html(doc, "button", { type: "button", [ATTR.action]: action, "aria-pressed": "false", title }, text);
}

/** An SVG element with `attrs` set. */
export function svg<K extends keyof SVGElementTagNameMap>(
  doc: Document,
  tag: K,
  attrs: Record<string, string> = {},
): SVGElementTagNameMap[K] {
  const element = doc.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
}
