// Drawing: the SVG elements of a laid-out graph, and its values updated in place.
// Nodes are cloned from two templates and appended in time-boxed chunks, so a 10k-node graph
// never holds the main thread for long; edges are merged into a few <path> elements. Nodes far
// from the view are marked "far": their texts are not laid out and their thumbnails not made
// until the view comes near (the elements and their texts stay in the DOM, with every hook).
import { svg } from "./dom";
import type { Drawing, DrawnNode, DrawnVariable, Of } from "./drawn";
import type { RoutedLayout } from "./edges";
import { opText } from "./format";
import {
  hasHead,
  type IndexedGraph,
  mergeReservations,
  reservationOf,
  type ShownNode,
  type Slot,
  TEXT,
  type VariableText,
  variableGeometry,
  variableTextIn,
} from "./graph";
import { drawLayerNode } from "./layers";
import {
  ATTR,
  GRAD_SUBGRAPH,
  type GraphNode,
  LAYER_KIND,
  NODE_KIND,
  ROLE,
  type Snapshot,
  type Thumbnail,
} from "./protocol";
import { thumbnailSize, thumbnailUrl } from "./thumbnail";

/** Script time per chunk; each chunk is then styled and painted in its own frame. */
const CHUNK_BUDGET_MS = 30;
const DERIVED_CLASS = "dzw-derived";
/** On a grad text that reads "None": no grad, drawn unlike a zero grad (styles.ts). */
export const NONE_CLASS = "dzw-none";
/** On a node far from the view: its texts and thumbnails are not displayed (styles.ts). */
export const FAR_CLASS = "dzw-far";

const SUMMARIES: readonly Of[] = [ROLE.data, ROLE.grad];

function variableTemplate(doc: Document): SVGGElement {
  const group = svg(doc, "g", { class: "dzw-node dzw-var", [ATTR.nodeKind]: NODE_KIND.variable });
  group.appendChild(svg(doc, "ellipse", { class: "dzw-shape" }));
  const head = svg(doc, "text", { class: "dzw-head" });
  head.append(
    svg(doc, "tspan", { class: "dzw-label", [ATTR.role]: ROLE.label }),
    svg(doc, "tspan", { class: "dzw-detail" }),
  );
  group.appendChild(head);
  for (const role of SUMMARIES) {
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
  node: ShownNode,
  text: VariableText | null,
  centre: { x: number; y: number; width: number; height: number },
  far: boolean,
): DrawnNode {
  if (node.kind === LAYER_KIND) return drawLayerNode(templates.fn.ownerDocument, node, centre, far);
  const { x, y, width, height } = centre;
  const isVariable = node.kind === NODE_KIND.variable;
  const group = (isVariable ? templates.variable : templates.fn).cloneNode(true) as SVGGElement;
  group.setAttribute(ATTR.nodeId, node.id);
  if (far) group.classList.add(FAR_CLASS);
  const shape = group.firstChild as SVGElement;
  const drawn: DrawnNode = { group, shape, x, y, far, variable: null };
  if (isVariable && text) {
    const head = shape.nextSibling as SVGTextElement;
    const dataLine = head.nextSibling as SVGTextElement;
    const room = reservationOf(text);
    const headShown = hasHead(text);
    const parts: DrawnVariable = {
      head,
      label: head.firstChild as SVGTSpanElement,
      detail: head.lastChild as SVGTSpanElement,
      data: dataLine.lastChild as SVGTSpanElement,
      grad: (dataLine.nextSibling as SVGTextElement).lastChild as SVGTSpanElement,
      images: { data: null, grad: null },
      imaged: { data: null, grad: null },
      room,
      headShown,
      geometry: variableGeometry(room, headShown),
      text,
    };
    drawn.variable = parts;
    place(shape, "cx", x, "cy", y);
    shape.setAttribute("rx", String(width / 2));
    shape.setAttribute("ry", String(height / 2));
    showTexts(drawn, parts, text, null);
    arrange(drawn, parts);
    syncThumbnails(drawn, parts);
    markGradSubgraph(group, node, x, y - height / 2);
    return drawn;
  }
  if (node.kind === NODE_KIND.function) {
    const label = shape.nextSibling as SVGTextElement;
    place(shape, "x", x - width / 2, "y", y - height / 2);
    shape.setAttribute("width", String(width));
    shape.setAttribute("height", String(height));
    const op = opText(node);
    group.setAttribute(ATTR.op, op);
    place(label, "x", x, "y", y);
    label.textContent = op;
  }
  markGradSubgraph(group, node, x, y - height / 2);
  return drawn;
}

/** A node of the graph backward(create_graph=True) built: set apart, and tagged above its top (x, top). */
function markGradSubgraph(group: SVGGElement, node: GraphNode, x: number, top: number): void {
  if (node.subgraph !== GRAD_SUBGRAPH) return;
  group.classList.add("dzw-sub-grad");
  const tag = svg(group.ownerDocument, "text", { class: "dzw-tag" });
  place(tag, "x", x, "y", top - 4);
  tag.textContent = "grad graph";
  group.appendChild(tag);
}

const sameThumbnail = (a: Thumbnail | null, b: Thumbnail | null) =>
  a === b || (a !== null && b !== null && a.cells === b.cells && a.rows === b.rows && a.cols === b.cols);

const thumbnailOf = (text: VariableText, of: Of) => (of === ROLE.data ? text.dataThumbnail : text.gradThumbnail);

/** Sets the texts that differ from `before` (every text when it is null). */
function showTexts(drawn: DrawnNode, parts: DrawnVariable, text: VariableText, before: VariableText | null): void {
  if (before?.label !== text.label) {
    parts.label.textContent = text.label;
    drawn.group.setAttribute(ATTR.nodeName, text.label);
  }
  if (before?.derived !== text.derived) parts.label.classList.toggle(DERIVED_CLASS, text.derived);
  if (before?.detail !== text.detail || before?.label !== text.label) {
    parts.detail.textContent = text.label && text.detail ? ` ${text.detail}` : text.detail;
  }
  if (before?.data !== text.data) parts.data.textContent = text.data;
  if (before?.grad !== text.grad) {
    parts.grad.textContent = text.grad;
    parts.grad.classList.toggle(NONE_CLASS, text.grad === "None");
  }
  parts.text = text;
}

/**
 * Makes the thumbnail images show the node's summaries (made, changed or removed as needed).
 * Left for later while the node is far from the view: making thousands of images costs.
 */
function syncThumbnails(drawn: DrawnNode, parts: DrawnVariable): void {
  if (drawn.far) return;
  for (const of of SUMMARIES) {
    const wanted = thumbnailOf(parts.text, of);
    if (sameThumbnail(parts.imaged[of], wanted)) continue;
    parts.imaged[of] = wanted;
    let image = parts.images[of];
    if (!wanted) {
      image?.remove();
      parts.images[of] = null;
      continue;
    }
    if (!image) {
      image = svg(drawn.group.ownerDocument, "image", {
        class: "dzw-thumb",
        [ATTR.role]: ROLE.thumbnail,
        [ATTR.of]: of,
        preserveAspectRatio: "none",
      });
      drawn.group.appendChild(image);
      parts.images[of] = image;
    }
    image.setAttribute("href", thumbnailUrl(wanted, of === ROLE.grad ? "diverging" : "sequential"));
    const size = thumbnailSize(wanted);
    image.setAttribute("width", String(size.width));
    image.setAttribute("height", String(size.height));
    placeThumbnail(image, drawn, parts, of, size.height);
  }
}

/** A thumbnail at the left of its slot, centred on the node's middle line. */
function placeThumbnail(image: SVGImageElement, drawn: DrawnNode, parts: DrawnVariable, of: Of, height: number) {
  // The room always holds a slot for a thumbnail shown (reservationOf keeps one for each).
  const slot: Slot | null = of === ROLE.data ? parts.geometry.dataSlot : parts.geometry.gradSlot;
  if (slot) place(image, "x", drawn.x + slot.x, "y", drawn.y - height / 2);
}

/** Places the head, the value rows and the thumbnails where the node's geometry says. */
function arrange(drawn: DrawnNode, parts: DrawnVariable): void {
  const { x, y } = drawn;
  const geometry = parts.geometry;
  const textX = x + geometry.textX;
  place(parts.head, "x", textX, "y", y + (geometry.headY ?? 0));
  place(parts.data.parentNode as Element, "x", textX, "y", y + geometry.dataY);
  place(parts.grad.parentNode as Element, "x", textX, "y", y + geometry.gradY);
  for (const of of SUMMARIES) {
    const image = parts.images[of];
    const thumbnail = parts.imaged[of];
    if (image && thumbnail) placeThumbnail(image, drawn, parts, of, thumbnailSize(thumbnail).height);
  }
}

/** Marks a node near the view (texts shown, thumbnails made) or far from it. */
export function setFar(drawn: DrawnNode, far: boolean): void {
  if (drawn.far === far) return;
  drawn.far = far;
  drawn.group.classList.toggle(FAR_CLASS, far);
  if (!far && drawn.variable) syncThumbnails(drawn, drawn.variable);
}

/** Makes every thumbnail, near or far (an export shows the whole drawing). */
export function makeAllThumbnails(drawing: Drawing): void {
  for (const drawn of drawing.nodes.values()) {
    if (!drawn.variable || !drawn.far) continue;
    drawn.far = false;
    syncThumbnails(drawn, drawn.variable);
    drawn.far = true;
  }
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
 * Draws edges, then nodes in chunks of about CHUNK_BUDGET_MS each; `isFar(i)` tells which nodes
 * start far from the view. Resolves to null when `cancelled()` turns true between chunks (a newer
 * snapshot arrived).
 */
export async function drawGraph(
  edgeLayer: SVGGElement,
  nodeLayer: SVGGElement,
  graph: IndexedGraph,
  layout: RoutedLayout,
  isFar: (index: number) => boolean,
  cancelled: () => boolean,
): Promise<Drawing | null> {
  const doc = nodeLayer.ownerDocument;
  const templates = { variable: variableTemplate(doc), fn: functionTemplate(doc) };
  drawEdges(edgeLayer, layout);
  const nodes = new Map<string, DrawnNode>();
  const list: DrawnNode[] = [];
  const count = graph.nodes.length;
  let index = 0;
  while (index < count) {
    const started = performance.now();
    const fragment = doc.createDocumentFragment();
    while (index < count && performance.now() - started < CHUNK_BUDGET_MS) {
      const stop = Math.min(count, index + 64);
      for (; index < stop; index++) {
        const size = graph.sizes[index];
        const centre = { x: layout.x[index], y: layout.y[index], width: size.width, height: size.height };
        const drawn = drawNode(templates, graph.nodes[index], graph.texts[index], centre, isFar(index));
        nodes.set(graph.nodes[index].id, drawn);
        list.push(drawn);
        fragment.appendChild(drawn.group);
      }
    }
    nodeLayer.appendChild(fragment);
    if (index < count) {
      await nextTask();
      if (cancelled()) return null;
    }
  }
  return { graph, nodes, list };
}

/**
 * Sets changed texts and thumbnails only and returns how many nodes changed. Nodes keep their
 * centres (no re-layout when only values change); a value that needs more room than its node kept
 * re-arranges the node, whose ellipse grows around the same centre, so parts never overlap.
 */
export function updateValues(drawing: Drawing, snapshot: Snapshot): number {
  let changed = 0;
  for (const node of snapshot.nodes) {
    if (node.kind !== NODE_KIND.variable) continue;
    const drawn = drawing.nodes.get(node.id);
    const parts = drawn?.variable;
    if (!drawn || !parts) continue;
    const text = variableTextIn(drawing.graph, node);
    const before = parts.text;
    if (
      before.label === text.label &&
      before.detail === text.detail &&
      before.data === text.data &&
      before.grad === text.grad &&
      sameThumbnail(before.dataThumbnail, text.dataThumbnail) &&
      sameThumbnail(before.gradThumbnail, text.gradThumbnail)
    ) {
      continue;
    }
    changed++;
    const room = mergeReservations(parts.room, reservationOf(text));
    const headShown = parts.headShown || hasHead(text);
    const rearrange = room !== parts.room || headShown !== parts.headShown;
    if (rearrange) {
      parts.room = room;
      parts.headShown = headShown;
      parts.geometry = variableGeometry(room, headShown);
    }
    showTexts(drawn, parts, text, before);
    if (rearrange) {
      arrange(drawn, parts);
      const rx = Number(drawn.shape.getAttribute("rx"));
      const ry = Number(drawn.shape.getAttribute("ry"));
      if (parts.geometry.width / 2 > rx) drawn.shape.setAttribute("rx", String(parts.geometry.width / 2));
      if (parts.geometry.height / 2 > ry) drawn.shape.setAttribute("ry", String(parts.geometry.height / 2));
    }
    syncThumbnails(drawn, parts);
  }
  return changed;
}
