// Builds the SVG for a laid-out graph and updates its value texts in place.
// Nodes are cloned from two templates and appended in time-boxed chunks, so a 10k-node graph
// never holds the main thread for long; edges are merged into a few <path> elements.
import type { RoutedLayout } from "./edges";
import type { GraphNode, Snapshot, VariableNode } from "./protocol";
import { nodeSize, TEXT, variableText, type IndexedGraph, type VariableText } from "./graph";

export const SVG_NS = "http://www.w3.org/2000/svg";
/** Script time per chunk; each chunk is then styled and painted in its own frame. */
const CHUNK_BUDGET_MS = 30;

/** The live elements of one drawn node; data/grad only for variables. */
export interface DrawnNode {
  group: SVGGElement;
  shape: SVGElement;
  /** Centre, where the layout put the node; wrapped value lines start again at x. */
  x: number;
  y: number;
  label: SVGTextElement;
  data: SVGTSpanElement | null;
  grad: SVGTSpanElement | null;
}

export interface Drawing {
  nodes: Map<string, DrawnNode>;
}

function svg<K extends keyof SVGElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string> = {}): SVGElementTagNameMap[K] {
  const element = doc.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  return element;
}

function variableTemplate(doc: Document): SVGGElement {
  const group = svg(doc, "g", { class: "dzw-node dzw-var", "data-node-kind": "variable" });
  group.appendChild(svg(doc, "ellipse", { class: "dzw-shape" }));
  group.appendChild(svg(doc, "text", { class: "dzw-label" }));
  for (const role of ["data", "grad"] as const) {
    const line = svg(doc, "text", { class: "dzw-value" });
    const key = svg(doc, "tspan", { class: "dzw-key" });
    key.textContent = role === "data" ? TEXT.valuePrefix : "grad ";
    line.appendChild(key);
    line.appendChild(svg(doc, "tspan", { "data-role": role }));
    group.appendChild(line);
  }
  return group;
}

function functionTemplate(doc: Document): SVGGElement {
  const group = svg(doc, "g", { class: "dzw-node dzw-fn", "data-node-kind": "function" });
  group.appendChild(svg(doc, "rect", { class: "dzw-shape", rx: "3" }));
  group.appendChild(svg(doc, "text", { class: "dzw-label" }));
  return group;
}

function place(element: Element, xName: string, x: number, yName: string, y: number): void {
  element.setAttribute(xName, x.toFixed(1));
  element.setAttribute(yName, y.toFixed(1));
}

/**
 * Positions go on the shapes and texts themselves, not on a per-node transform: 10k transformed
 * groups made Chromium's paint-layer pass (Layerize) take ~100 ms per frame.
 */
function drawNode(templates: { variable: SVGGElement; fn: SVGGElement }, node: GraphNode, x: number, y: number, width: number, height: number): DrawnNode {
  const isVariable = node.kind === "variable";
  const group = (isVariable ? templates.variable : templates.fn).cloneNode(true) as SVGGElement;
  group.setAttribute("data-node-id", node.id);
  const shape = group.firstChild as SVGElement;
  const label = shape.nextSibling as SVGTextElement;
  let data: SVGTSpanElement | null = null;
  let grad: SVGTSpanElement | null = null;
  if (isVariable) {
    place(shape, "cx", x, "cy", y);
    shape.setAttribute("rx", String(width / 2));
    shape.setAttribute("ry", String(height / 2));
    const text = variableText(node);
    group.setAttribute("data-node-name", text.label);
    label.textContent = text.label;
    const dataLine = label.nextSibling as SVGTextElement;
    data = dataLine.lastChild as SVGTSpanElement;
    grad = (dataLine.nextSibling as SVGTextElement).lastChild as SVGTSpanElement;
    stackValues({ group, shape, x, y, label, data, grad }, text);
  } else {
    place(shape, "x", x - width / 2, "y", y - height / 2);
    shape.setAttribute("width", String(width));
    shape.setAttribute("height", String(height));
    group.setAttribute("data-op", node.op);
    place(label, "x", x, "y", y);
    label.textContent = node.op;
  }
  if (node.subgraph === "grad") {
    group.classList.add("dzw-sub-grad");
    const tag = group.ownerDocument.createElementNS(SVG_NS, "text");
    tag.setAttribute("class", "dzw-tag");
    place(tag, "x", x, "y", y - height / 2 - 4);
    tag.textContent = "grad graph";
    group.appendChild(tag);
  }
  return { group, shape, x, y, label, data, grad };
}

/** Label, data lines, then grad lines, centred on the node (grad rows reserved as sized). */
function stackValues(drawn: DrawnNode, text: VariableText): void {
  const { x, y, label, data, grad } = drawn;
  const top = y - ((text.data.length + text.gradRows) * TEXT.lineHeight) / 2;
  place(label, "x", x, "y", top);
  place(data!.parentNode as Element, "x", x, "y", top + TEXT.lineHeight);
  place(grad!.parentNode as Element, "x", x, "y", top + (1 + text.data.length) * TEXT.lineHeight);
  setLines(data!, text.data, x);
  setLines(grad!, text.grad, x);
}

/** Writes wrapped lines into a value span: one text node, or one tspan per line. */
function setLines(span: SVGTSpanElement, lines: string[], x: number): void {
  if (lines.length === 1) {
    span.textContent = lines[0];
    return;
  }
  const doc = span.ownerDocument;
  span.replaceChildren(
    ...lines.map((line, k) => {
      const row = doc.createElementNS(SVG_NS, "tspan");
      if (k > 0) {
        row.setAttribute("x", x.toFixed(1));
        row.setAttribute("dy", String(TEXT.lineHeight));
      }
      row.textContent = line;
      return row;
    }),
  );
}

export function drawEdges(layer: SVGGElement, layout: RoutedLayout): void {
  const doc = layer.ownerDocument;
  const fragment = doc.createDocumentFragment();
  layout.edgePaths.forEach((d, k) => {
    fragment.appendChild(svg(doc, "path", { class: "dzw-edge", d }));
    fragment.appendChild(svg(doc, "path", { class: "dzw-arrow", d: layout.arrowPaths[k] }));
  });
  layer.appendChild(fragment);
}

const nextTask = (): Promise<void> =>
  new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });

/**
 * Draws edges, then nodes in chunks of about CHUNK_BUDGET_MS each. Resolves to null when
 * `cancelled()` turns true between chunks (a newer snapshot arrived).
 */
export async function drawGraph(
  edgeLayer: SVGGElement,
  nodeLayer: SVGGElement,
  graph: IndexedGraph,
  layout: RoutedLayout,
  cancelled: () => boolean,
): Promise<Drawing | null> {
  const doc = nodeLayer.ownerDocument;
  const templates = { variable: variableTemplate(doc), fn: functionTemplate(doc) };
  drawEdges(edgeLayer, layout);
  const nodes = new Map<string, DrawnNode>();
  const count = graph.nodes.length;
  let index = 0;
  while (index < count) {
    const started = performance.now();
    const fragment = doc.createDocumentFragment();
    while (index < count && performance.now() - started < CHUNK_BUDGET_MS) {
      const stop = Math.min(count, index + 64);
      for (; index < stop; index++) {
        const size = graph.sizes[index];
        const drawn = drawNode(templates, graph.nodes[index], layout.x[index], layout.y[index], size.width, size.height);
        nodes.set(graph.nodes[index].id, drawn);
        fragment.appendChild(drawn.group);
      }
    }
    nodeLayer.appendChild(fragment);
    if (index < count) {
      await nextTask();
      if (cancelled()) return null;
    }
  }
  return { nodes };
}

/**
 * Sets changed texts only and returns how many nodes changed. Nodes keep their centres (no
 * re-layout when only values change); a value that now wraps to more lines is re-stacked and
 * its ellipse grows around the same centre, so texts never overlap.
 */
export function updateValues(drawing: Drawing, snapshot: Snapshot): number {
  let changed = 0;
  for (const node of snapshot.nodes) {
    if (node.kind !== "variable") continue;
    const drawn = drawing.nodes.get(node.id);
    if (!drawn) continue;
    const text = variableText(node as VariableNode);
    // A span's textContent is its wrapped lines joined, which is the preview itself.
    const sameValues = drawn.data?.textContent === text.data.join("") && drawn.grad?.textContent === text.grad.join("");
    if (drawn.label.textContent === text.label && sameValues) continue;
    changed++;
    drawn.group.setAttribute("data-node-name", text.label);
    drawn.label.textContent = text.label;
    if (sameValues) continue;
    stackValues(drawn, text);
    const needed = nodeSize(node);
    const rx = Number(drawn.shape.getAttribute("rx"));
    const ry = Number(drawn.shape.getAttribute("ry"));
    if (needed.width / 2 > rx) drawn.shape.setAttribute("rx", String(needed.width / 2));
    if (needed.height / 2 > ry) drawn.shape.setAttribute("ry", String(needed.height / 2));
  }
  return changed;
}
