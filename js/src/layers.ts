// Layer boxes in the drawing (snapshot.layers): a collapsed layer is one node (its title, then a row
// per parameter with its grad, kept live); an open one is a titled frame around its members, whose
// elements move inside the frame's group. A click on either toggles it; LayerState remembers the
// user's choices by box id (stable while the layer lives), so a training loop's refreshes keep them.
import { svg } from "./dom";
import type { Drawing, DrawnNode } from "./drawn";
import {
  defaultCollapsed,
  type IndexedGraph,
  LAYER_GLYPH,
  type LayerNode,
  layerLines,
  layerNodeSize,
  layerRowChars,
  layerRows,
  NONE_COLLAPSED,
  nodeBox,
  TEXT,
} from "./graph";
import { BOX_HEADER, type LayoutResult } from "./layout";
import { ATTR, type GraphNode, LAYER_KIND, type Snapshot } from "./protocol";

/** Classes of the layer elements (styles: LAYER_CSS). */
const CLASS = {
  node: "dzw-layer",
  box: "dzw-layer-box",
  frame: "dzw-layer-frame",
  title: "dzw-layer-title",
  row: "dzw-layer-row",
} as const;
/** data-role of a collapsed layer's parameter rows. */
export const LAYER_ROW_ROLE = "layer-param";
/** Where a title starts, from the left edge of its node or frame (px). */
const TITLE_INSET = 8;

/** Which layer boxes are collapsed: the user's clicks, else graph.ts's default for the snapshot. */
export class LayerState {
  private readonly chosen = new Map<string, boolean>();

  collapsedIn(snapshot: Snapshot): ReadonlySet<string> {
    const boxes = snapshot.layers;
    if (!boxes || boxes.length === 0) return NONE_COLLAPSED;
    const collapsed = defaultCollapsed(snapshot);
    for (const box of boxes) {
      const choice = this.chosen.get(box.id);
      if (choice === true) collapsed.add(box.id);
      else if (choice === false) collapsed.delete(box.id);
    }
    return collapsed;
  }

  /** The user clicked box `id`, drawn collapsed or not. */
  toggle(id: string, collapsedNow: boolean): void {
    this.chosen.set(id, !collapsedNow);
  }
}

/** The layer element a click landed on (a collapsed node or an open box's frame or title), if any. */
export function clickedLayer(event: Event): { id: string; collapsed: boolean } | null {
  const target = event.target as Element | null;
  const element = target?.closest?.(`[${ATTR.nodeId}]`);
  if (!element || element.getAttribute(ATTR.nodeKind) !== LAYER_KIND) return null;
  const id = element.getAttribute(ATTR.nodeId);
  return id ? { id, collapsed: element.getAttribute(ATTR.collapsed) === "true" } : null;
}

/** The live parts of a drawn collapsed layer. */
interface DrawnLayer {
  node: LayerNode;
  title: SVGTextElement;
  rows: SVGTextElement[];
  texts: string[];
  rowChars: number;
}
const drawnLayers = new WeakMap<DrawnNode, DrawnLayer>();

function setText(element: Element, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function tooltip(doc: Document, parent: Element, text: string): void {
  const title = svg(doc, "title");
  title.textContent = text;
  parent.appendChild(title);
}

const memberCount = (count: number) => `${count} node${count === 1 ? "" : "s"}`;

/** A collapsed layer: a box with its title and a row per parameter (its grad). */
export function drawLayerNode(
  doc: Document,
  node: LayerNode,
  centre: { x: number; y: number; width: number; height: number },
  far: boolean,
): DrawnNode {
  const group = svg(doc, "g", {
    class: `dzw-node ${CLASS.node}`,
    [ATTR.nodeKind]: LAYER_KIND,
    [ATTR.nodeId]: node.id,
    [ATTR.layer]: node.layer,
    [ATTR.collapsed]: "true",
  });
  if (far) group.classList.add("dzw-far");
  tooltip(doc, group, `${node.title}: ${memberCount(node.hidden)} inside. Click to open it.`);
  const shape = svg(doc, "rect", { class: "dzw-shape", rx: "6" });
  const title = svg(doc, "text", { class: CLASS.title });
  title.textContent = `${LAYER_GLYPH.collapsed} ${node.title}`;
  group.append(shape, title);
  const rows = node.rows.map((text) => {
    const row = svg(doc, "text", { class: CLASS.row, [ATTR.role]: LAYER_ROW_ROLE });
    row.textContent = text;
    group.appendChild(row);
    return row;
  });
  const drawn: DrawnNode = { group, shape, x: centre.x, y: centre.y, far, variable: null };
  const parts: DrawnLayer = { node, title, rows, texts: [...node.rows], rowChars: layerRowChars(node.rows) };
  drawnLayers.set(drawn, parts);
  placeLayerNode(drawn, parts, centre.width, centre.height);
  return drawn;
}

function placeLayerNode(drawn: DrawnNode, parts: DrawnLayer, width: number, height: number): void {
  const left = drawn.x - width / 2;
  drawn.shape.setAttribute("x", left.toFixed(1));
  drawn.shape.setAttribute("y", (drawn.y - height / 2).toFixed(1));
  drawn.shape.setAttribute("width", String(width));
  drawn.shape.setAttribute("height", String(height));
  const lines = layerLines(height, parts.rows.length);
  [parts.title, ...parts.rows].forEach((text, k) => {
    text.setAttribute("x", (left + TITLE_INSET).toFixed(1));
    text.setAttribute("y", (drawn.y + lines[k]).toFixed(1));
  });
}

/**
 * Sets the rows of every drawn collapsed layer from `snapshot`'s values (its parameters' grads);
 * a row longer than its node had room for widens the node about its centre. Returns how many changed.
 */
export function updateLayerNodes(drawing: Drawing, snapshot: Snapshot): number {
  let byId: Map<string, GraphNode> | null = null;
  let changed = 0;
  for (const drawn of drawing.list) {
    const parts = drawnLayers.get(drawn);
    if (!parts) continue;
    byId ??= new Map(snapshot.nodes.map((node) => [node.id, node]));
    const texts = layerRows(parts.node, byId);
    if (texts.every((text, k) => text === parts.texts[k])) continue;
    changed++;
    texts.forEach((text, k) => {
      if (parts.rows[k]) setText(parts.rows[k], text);
    });
    parts.texts = texts;
    const rowChars = layerRowChars(texts);
    if (rowChars > parts.rowChars) {
      parts.rowChars = rowChars;
      const size = layerNodeSize(parts.node, rowChars);
      placeLayerNode(drawn, parts, size.width, Number(drawn.shape.getAttribute("height")));
    }
  }
  return changed;
}

/**
 * Draws the open boxes of `graph` (outer first) at the layout's rectangles, each a group with its
 * frame and title, and moves every member's element into its innermost box's group (a box's nodes
 * are inside its element, as a nested box is inside its enclosing one).
 */
export function drawOpenBoxes(nodeLayer: SVGGElement, graph: IndexedGraph, layout: LayoutResult, drawing: Drawing) {
  const rects = layout.boxes;
  if (!rects || graph.openBoxes.length === 0 || rects.length !== 4 * graph.openBoxes.length) return;
  const doc = nodeLayer.ownerDocument;
  const groups: SVGGElement[] = [];
  const counts = new Int32Array(graph.openBoxes.length);
  for (let i = 0; i < graph.boxOf.length; i++) if (graph.boxOf[i] >= 0) counts[graph.boxOf[i]]++;
  graph.openBoxes.forEach((open, b) => {
    const [left, top, width, height] = rects.subarray(4 * b, 4 * b + 4);
    const group = svg(doc, "g", {
      class: CLASS.box,
      [ATTR.nodeKind]: LAYER_KIND,
      [ATTR.nodeId]: open.box.id,
      [ATTR.layer]: open.box.layer,
      [ATTR.collapsed]: "false",
    });
    tooltip(doc, group, `${open.title}. Click its frame or title to collapse it to one node.`);
    const frame = svg(doc, "rect", {
      class: CLASS.frame,
      x: left.toFixed(1),
      y: top.toFixed(1),
      width: width.toFixed(1),
      height: height.toFixed(1),
      rx: "8",
    });
    const title = svg(doc, "text", {
      class: CLASS.title,
      x: (left + TITLE_INSET).toFixed(1),
      y: (top + BOX_HEADER / 2 + 1).toFixed(1),
    });
    title.textContent = `${LAYER_GLYPH.open} ${open.title}`;
    group.append(frame, title);
    // Top-level boxes go under the nodes outside every box; nested ones inside their box's group.
    if (open.parent >= 0) groups[open.parent].appendChild(group);
    else nodeLayer.insertBefore(group, nodeLayer.firstChild);
    groups.push(group);
  });
  graph.nodes.forEach((node, i) => {
    const b = graph.boxOf[i];
    const element = b >= 0 ? drawing.nodes.get(node.id)?.group : undefined;
    if (element) groups[b].appendChild(element);
  });
}

/** Where box `id` is drawn (its node, or its open frame): the top-left corner, in layout coordinates. */
export function layerCorner(graph: IndexedGraph, layout: LayoutResult, id: string): { x: number; y: number } | null {
  const index = graph.indexOf.get(id);
  if (index !== undefined) {
    const box = nodeBox(graph, layout, index);
    return { x: box.x0, y: box.y0 };
  }
  const b = graph.openBoxes.findIndex((open) => open.box.id === id);
  if (b < 0 || !layout.boxes || layout.boxes.length < 4 * (b + 1)) return null;
  return { x: layout.boxes[4 * b], y: layout.boxes[4 * b + 1] };
}

/** The layer styles (styles.ts includes them): colours per theme, then the parts. */
export const LAYER_CSS = `
.dzw-root { --dzw-layer-fill: #e4efdc; --dzw-layer-stroke: #5f8f4e; --dzw-layer-ink: #2f5223; }
body[data-jp-theme-light="false"] .dzw-root {
  --dzw-layer-fill: var(--jp-layout-color2, #2e3b2a);
  --dzw-layer-stroke: var(--jp-success-color1, #66bb6a);
  --dzw-layer-ink: var(--jp-ui-font-color1, #e0e0e0);
}
.${CLASS.node} .dzw-shape { fill: var(--dzw-layer-fill); stroke: var(--dzw-layer-stroke); stroke-width: 1.6; }
.${CLASS.title} { font-family: var(--dzw-font); font-size: ${TEXT.labelSize}px; font-weight: 600;
  fill: var(--dzw-layer-ink); dominant-baseline: central; white-space: pre; }
.${CLASS.row} { font-family: var(--dzw-mono); font-size: ${TEXT.valueSize}px; fill: var(--dzw-fg);
  dominant-baseline: central; white-space: pre; }
.${CLASS.box} { cursor: pointer; }
.${CLASS.box} > .dzw-node { cursor: pointer; }
.${CLASS.frame} { fill: var(--dzw-layer-fill); fill-opacity: 0.35; stroke: var(--dzw-layer-stroke);
  stroke-width: 1.2; stroke-dasharray: 6 3; }
.${CLASS.box}:hover > .${CLASS.frame} { stroke-width: 2; }
`;
