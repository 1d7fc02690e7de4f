// Drawing: the SVG elements of a laid-out graph, and its value texts updated in place.
// Nodes are cloned from two templates and appended in time-boxed chunks, so a 10k-node graph
// never holds the main thread for long; edges are merged into a few <path> elements.
import { svg } from "./dom";
import type { RoutedLayout } from "./edges";
import { type IndexedGraph, nodeSize, TEXT, type VariableText, variableText } from "./graph";
import { ATTR, GRAD_SUBGRAPH, type GraphNode, NODE_KIND, ROLE, type Snapshot } from "./protocol";

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

function variableTemplate(doc: Document): SVGGElement {
  const group = svg(doc, "g", { class: "dzw-node dzw-var", [ATTR.nodeKind]: NODE_KIND.variable });
  group.appendChild(svg(doc, "ellipse", { class: "dzw-shape" }));
  group.appendChild(svg(doc, "text", { class: "dzw-label" }));
  for (const role of [ROLE.data, ROLE.grad]) {
    const line = svg(doc, "text", { class: "dzw-value" });
    const key = svg(doc, "tspan", { class: "dzw-key" });
    key.textContent = role === ROLE.data ? TEXT.valuePrefix : TEXT.gradPrefix;
    line.appendChild(key);
    line.appendChild(svg(doc, "tspan", { [ATTR.role]: role }));
    group.appendChild(line);
  }
  return group;
}

function functionTemplate(doc: Document): SVGGElement {
  const group = svg(doc, "g", { class: "dzw-node dzw-fn", [ATTR.nodeKind]: NODE_KIND.function });
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
function drawNode(
  templates: { variable: SVGGElement; fn: SVGGElement },
  node: GraphNode,
  x: number,
  y: number,
  width: number,
  height: number,
): DrawnNode {
  const isVariable = node.kind === NODE_KIND.variable;
  const group = (isVariable ? templates.variable : templates.fn).cloneNode(true) as SVGGElement;
  group.setAttribute(ATTR.nodeId, node.id);
  const shape = group.firstChild as SVGElement;
  const label = shape.nextSibling as SVGTextElement;
  let data: SVGTSpanElement | null = null;
  let grad: SVGTSpanElement | null = null;
  if (isVariable) {
    place(shape, "cx", x, "cy", y);
    shape.setAttribute("rx", String(width / 2));
    shape.setAttribute("ry", String(height / 2));
    const text = variableText(node);
    group.setAttribute(ATTR.nodeName, text.label);
    label.textContent = text.label;
    const dataLine = label.nextSibling as SVGTextElement;
    data = dataLine.lastChild as SVGTSpanElement;
    grad = (dataLine.nextSibling as SVGTextElement).lastChild as SVGTSpanElement;
    stackValues({ x, y, label }, data, grad, text);
  } else {
    place(shape, "x", x - width / 2, "y", y - height / 2);
    shape.setAttribute("width", String(width));
    shape.setAttribute("height", String(height));
    group.setAttribute(ATTR.op, node.op);
    place(label, "x", x, "y", y);
    label.textContent = node.op;
  }
  if (node.subgraph === GRAD_SUBGRAPH) {
    group.classList.add("dzw-sub-grad");
    const tag = svg(group.ownerDocument, "text", { class: "dzw-tag" });
    place(tag, "x", x, "y", y - height / 2 - 4);
    tag.textContent = "grad graph";
    group.appendChild(tag);
  }
  return { group, shape, x, y, label, data, grad };
}

/** Label, data lines, then grad lines, centred on the node (grad rows reserved as sized). */
function stackValues(
  { x, y, label }: Pick<DrawnNode, "x" | "y" | "label">,
  data: SVGTSpanElement,
  grad: SVGTSpanElement,
  text: VariableText,
): void {
  const top = y - ((text.data.length + text.gradRows) * TEXT.lineHeight) / 2;
  place(label, "x", x, "y", top);
  place(data.parentNode as Element, "x", x, "y", top + TEXT.lineHeight);
  place(grad.parentNode as Element, "x", x, "y", top + (1 + text.data.length) * TEXT.lineHeight);
  setLines(data, text.data, x);
  setLines(grad, text.grad, x);
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
      const row = svg(doc, "tspan");
      if (k > 0) {
        row.setAttribute("x", x.toFixed(1));
        row.setAttribute("dy", String(TEXT.lineHeight));
      }
      row.textContent = line;
      return row;
    }),
  );
}

function drawEdges(layer: SVGGElement, layout: RoutedLayout): void {
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
        const drawn = drawNode(
          templates,
          graph.nodes[index],
          layout.x[index],
          layout.y[index],
          size.width,
          size.height,
        );
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
    if (node.kind !== NODE_KIND.variable) continue;
    const drawn = drawing.nodes.get(node.id);
    const data = drawn?.data;
    const grad = drawn?.grad;
    if (!drawn || !data || !grad) continue; // a drawn variable always has both
    const text = variableText(node);
    // A span's textContent is its wrapped lines joined, which is the preview itself.
    const sameValues = data.textContent === text.data.join("") && grad.textContent === text.grad.join("");
    if (drawn.label.textContent === text.label && sameValues) continue;
    changed++;
    drawn.group.setAttribute(ATTR.nodeName, text.label);
    drawn.label.textContent = text.label;
    if (sameValues) continue;
    stackValues(drawn, data, grad, text);
    const needed = nodeSize(node);
    const rx = Number(drawn.shape.getAttribute("rx"));
    const ry = Number(drawn.shape.getAttribute("ry"));
    if (needed.width / 2 > rx) drawn.shape.setAttribute("rx", String(needed.width / 2));
    if (needed.height / 2 > ry) drawn.shape.setAttribute("ry", String(needed.height / 2));
  }
  return changed;
}
