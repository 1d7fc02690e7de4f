// Graph index: snapshot -> node sizes, index maps, the incident-edge index and the structure key.
// The structure key tells a values-only refresh (texts in place) from a structural one (lay out again).
// Layer boxes are a transform before layout: a collapsed box's nodes become one layer node (edges
// rerouted to it, deduplicated); an open box is drawn around its members' positions.
import { boundedText, dataLine, formatShape, gradLine, opText, shapeDetail, variableLabel } from "./format";
import { type Adjacency, adjacency, type LayoutInput, type LayoutResult } from "./layout";
import {
  type Direction,
  type GraphNode,
  LAYER_KIND,
  type LayerBox,
  MAX_LABEL_CHARS,
  NODE_KIND,
  type Snapshot,
  type Thumbnail,
  type VariableNode,
} from "./protocol";
import { thumbnailSize } from "./thumbnail";

/**
 * Text metrics of the drawing; node sizes are estimated from them, so no DOM measuring is needed.
 * styles.ts takes the font sizes from here, draw.ts the line height.
 */
export const TEXT = {
  labelSize: 12,
  detailSize: 10,
  valueSize: 11,
  lineHeight: 15,
  labelCharWidth: 7.4,
  detailCharWidth: 6.2,
  valueCharWidth: 6.7,
  valuePrefix: "data ",
  gradPrefix: "grad ",
} as const;

/** On-screen size (px) of label text at the default view: the initial zoom never makes it smaller. */
export const LEGIBLE_TEXT_PX = 10;
/** The smallest initial zoom: label text at LEGIBLE_TEXT_PX (rounded up, so never a hair below). */
export const LEGIBLE_SCALE = Math.ceil((100 * LEGIBLE_TEXT_PX) / TEXT.labelSize) / 100;

const FUNCTION_HEIGHT = 28;
const FUNCTION_PADDING = 24;
/** Between the text block and the thumbnails, and between two thumbnails (px). */
const TEXT_THUMB_GAP = 8;
const THUMB_GAP = 4;
/** Value texts are reserved in steps of this many characters, so small changes move nothing. */
const VALUE_CHAR_STEP = 4;
/** The ellipse's height over the content's, and the room left at its rim (px). */
const ELLIPSE_HEIGHT_FACTOR = 1.3;
const ELLIPSE_PADDING = 5;
const GLYPH_HALF_HEIGHT = 5;

export interface NodeSize {
  width: number;
  height: number;
}

/** What a variable node shows, each part one line. */
export interface VariableText {
  /** Its name, else what made it ("out of Add"), else "". */
  label: string;
  /** True when the label is what made it, not a name. */
  derived: boolean;
  /** Shape (unless a scalar's) and dtype (unless float64), after the label or alone. */
  detail: string;
  data: string;
  grad: string;
  dataThumbnail: Thumbnail | null;
  gradThumbnail: Thumbnail | null;
}

export function variableText(node: VariableNode, op?: string): VariableText {
  const label = variableLabel(node, op);
  return {
    label,
    derived: !node.label && label !== "",
    detail: shapeDetail(node),
    data: dataLine(node.data),
    grad: gradLine(node.grad),
    dataThumbnail: node.data?.thumbnail ?? null,
    gradThumbnail: node.grad?.thumbnail ?? null,
  };
}

/**
 * The room a variable node keeps for its parts. A node keeps its room across value refreshes and
 * only grows (around the same centre), so values that come and go never move anything.
 */
export interface Reservation {
  headWidth: number;
  valueChars: number;
  dataThumbnail: NodeSize | null;
  gradThumbnail: NodeSize | null;
}

export function reservationOf(text: VariableText): Reservation {
  const label = text.label.length * TEXT.labelCharWidth;
  const detail = text.detail ? (text.detail.length + (text.label ? 1 : 0)) * TEXT.detailCharWidth : 0;
  const longest = Math.max(text.data.length, text.grad.length, 4);
  const data = text.dataThumbnail ? thumbnailSize(text.dataThumbnail) : null;
  // A grad usually comes with the data's shape: keep its room from the start.
  const grad = text.gradThumbnail ? thumbnailSize(text.gradThumbnail) : data;
  return {
    headWidth: Math.ceil(label + detail),
    valueChars: Math.ceil(longest / VALUE_CHAR_STEP) * VALUE_CHAR_STEP,
    dataThumbnail: data,
    gradThumbnail: grad,
  };
}

const maxSize = (a: NodeSize | null, b: NodeSize | null): NodeSize | null =>
  a && b ? { width: Math.max(a.width, b.width), height: Math.max(a.height, b.height) } : (a ?? b);

/** Room for both; `a` itself when it already holds `b` (so callers can compare by identity). */
export function mergeReservations(a: Reservation, b: Reservation): Reservation {
  const merged: Reservation = {
    headWidth: Math.max(a.headWidth, b.headWidth),
    valueChars: Math.max(a.valueChars, b.valueChars),
    dataThumbnail: maxSize(a.dataThumbnail, b.dataThumbnail),
    gradThumbnail: maxSize(a.gradThumbnail, b.gradThumbnail),
  };
  const same = (x: NodeSize | null, y: NodeSize | null) =>
    x === y || (x !== null && y !== null && x.width === y.width && x.height === y.height);
  return merged.headWidth === a.headWidth &&
    merged.valueChars === a.valueChars &&
    same(merged.dataThumbnail, a.dataThumbnail) &&
    same(merged.gradThumbnail, a.gradThumbnail)
    ? a
    : merged;
}

/** A thumbnail's box, relative to the node's centre. */
export interface Slot {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where a variable node's parts go, relative to its centre: a text block (head row with label and
 * shape, then the data and grad rows) with the thumbnails to its right, inside an ellipse.
 */
export interface VariableGeometry {
  width: number;
  height: number;
  /** Centre of the text block's rows. */
  textX: number;
  /** Centre line of the head row (null when it has nothing to show), the data row and the grad row. */
  headY: number | null;
  dataY: number;
  gradY: number;
  dataSlot: Slot | null;
  gradSlot: Slot | null;
}

export function variableGeometry(room: Reservation, hasHead: boolean): VariableGeometry {
  const valueWidth = (TEXT.valuePrefix.length + room.valueChars) * TEXT.valueCharWidth;
  const textWidth = Math.max(room.headWidth, valueWidth);
  const rows = hasHead ? 3 : 2;
  const textHeight = rows * TEXT.lineHeight;
  const thumbs = [room.dataThumbnail, room.gradThumbnail].filter((size): size is NodeSize => size !== null);
  const thumbsWidth = thumbs.reduce((sum, size) => sum + size.width, 0) + THUMB_GAP * Math.max(0, thumbs.length - 1);
  const thumbsHeight = thumbs.reduce((tallest, size) => Math.max(tallest, size.height), 0);
  const contentWidth = textWidth + (thumbs.length ? TEXT_THUMB_GAP + thumbsWidth : 0);
  const contentHeight = Math.max(textHeight, thumbsHeight);
  const left = -contentWidth / 2;
  const textX = left + textWidth / 2;
  const top = -textHeight / 2;
  const rowY = (k: number) => top + (k + 0.5) * TEXT.lineHeight;
  let cursor = left + textWidth + TEXT_THUMB_GAP;
  const slot = (size: NodeSize | null): Slot | null => {
    if (!size) return null;
    const placed = { x: cursor, y: -size.height / 2, width: size.width, height: size.height };
    cursor += size.width + THUMB_GAP;
    return placed;
  };
  const dataSlot = slot(room.dataThumbnail);
  const gradSlot = slot(room.gradThumbnail);

  // The smallest ellipse of this height around every part's box: a box's far corner (x, y) needs
  // a semi-axis of x / sqrt(1 - (y/b)^2).
  const b = (contentHeight / 2) * ELLIPSE_HEIGHT_FACTOR + ELLIPSE_PADDING;
  let a = 0;
  const hold = (x0: number, x1: number, y: number) => {
    const x = Math.max(Math.abs(x0), Math.abs(x1));
    a = Math.max(a, x / Math.sqrt(Math.max(0.05, 1 - (y / b) ** 2)));
  };
  // A row's glyphs reach about GLYPH_HALF_HEIGHT above and below its centre line.
  const rowReach = (k: number) => Math.abs(rowY(k)) + GLYPH_HALF_HEIGHT;
  if (hasHead) hold(textX - room.headWidth / 2, textX + room.headWidth / 2, rowReach(0));
  hold(textX - valueWidth / 2, textX + valueWidth / 2, Math.max(rowReach(rows - 2), rowReach(rows - 1)));
  for (const placed of [dataSlot, gradSlot]) {
    if (placed) hold(placed.x, placed.x + placed.width, placed.height / 2);
  }
  return {
    width: Math.round(2 * (a + ELLIPSE_PADDING)),
    height: Math.round(2 * b),
    textX,
    headY: hasHead ? rowY(0) : null,
    dataY: rowY(hasHead ? 1 : 0),
    gradY: rowY(hasHead ? 2 : 1),
    dataSlot,
    gradSlot,
  };
}

/** Whether the head row shows anything: a label, or a shape or dtype. */
export function hasHead(text: VariableText): boolean {
  return text.label !== "" || text.detail !== "";
}

/** A function is a box around its op name; a variable an ellipse around its parts; a collapsed layer a box. */
export function nodeSize(node: ShownNode, text?: VariableText | null): NodeSize {
  if (node.kind === LAYER_KIND) return layerNodeSize(node);
  if (node.kind === NODE_KIND.function) {
    return { width: opText(node).length * TEXT.labelCharWidth + FUNCTION_PADDING, height: FUNCTION_HEIGHT };
  }
  const shown = text ?? variableText(node);
  const { width, height } = variableGeometry(reservationOf(shown), hasHead(shown));
  return { width, height };
}

/**
 * Everything a re-layout depends on. Values are left out: when only they change, positions stay.
 * `collapsed`: the ids of the layer boxes drawn as one node.
 */
export function structureKey(
  snapshot: Snapshot,
  direction: Direction,
  collapsed: ReadonlySet<string> = NONE_COLLAPSED,
): string {
  const parts: string[] = [direction];
  for (const box of snapshot.layers ?? []) {
    parts.push(`[${box.id}:${collapsed.has(box.id) ? "c" : "o"}:${box.parent ?? ""}:${box.members.join(" ")}]`);
  }
  for (const node of snapshot.nodes) {
    parts.push(
      node.kind === NODE_KIND.function
        ? `${node.id}:${node.op}:${node.subgraph ?? ""}`
        : `${node.id}:${node.subgraph ?? ""}`,
    );
  }
  parts.push("|");
  for (const edge of snapshot.edges) parts.push(`${edge.source}>${edge.target}#${edge.index}`);
  return parts.join(",");
}

export interface IndexedGraph {
  /** The snapshot's nodes, with the members of collapsed layer boxes replaced by layer nodes. */
  nodes: ShownNode[];
  indexOf: Map<string, number>;
  /** The ops of the function nodes hidden in collapsed layers (what their outputs' labels name). */
  hiddenOps: ReadonlyMap<string, string>;
  /**
   * A node hidden in a collapsed layer -> the id of the layer node drawn in its place (so a mark
   * meant for a hidden node, such as the stepper's active function, can go on its layer).
   */
  standIn: ReadonlyMap<string, string>;
  /** Per node, what a variable shows (null for a function). */
  texts: Array<VariableText | null>;
  /** Edges whose two ends are both in the snapshot (a truncated one may name missing nodes). */
  edgeSource: Int32Array;
  edgeTarget: Int32Array;
  sizes: NodeSize[];
  /** Layer boxes drawn open around their members, outer first (empty without layers). */
  openBoxes: OpenBox[];
  /** Per node, the index in openBoxes of the innermost open box around it, -1 for none. */
  boxOf: Int32Array;
}

/**
 * The snapshot as drawn: with `collapsed` layer boxes (ids) each replaced by one layer node, where
 * its first member was, and their edges rerouted to it (one edge per pair of drawn nodes).
 */
export function indexGraph(snapshot: Snapshot, collapsed: ReadonlySet<string> = NONE_COLLAPSED): IndexedGraph {
  const shown = collapseLayers(snapshot, collapsed);
  const nodes = shown.nodes;
  const indexOf = new Map<string, number>();
  nodes.forEach((node, i) => {
    indexOf.set(node.id, i);
  });
  const from: number[] = [];
  const to: number[] = [];
  const joined = shown.standIn.size > 0 ? new Set<string>() : null;
  for (const edge of snapshot.edges) {
    const source = shown.standIn.get(edge.source) ?? edge.source;
    const target = shown.standIn.get(edge.target) ?? edge.target;
    const s = indexOf.get(source);
    const t = indexOf.get(target);
    if (s === undefined || t === undefined || s === t) continue;
    if (joined) {
      const pair = `${s}>${t}`;
      if (joined.has(pair)) continue;
      joined.add(pair);
    }
    from.push(s);
    to.push(t);
  }
  const texts = nodes.map((node) =>
    node.kind === NODE_KIND.variable ? variableText(node, opOf(nodes, indexOf, shown.hiddenOps, node.creator)) : null,
  );
  return {
    nodes,
    indexOf,
    hiddenOps: shown.hiddenOps,
    standIn: shown.standIn,
    texts,
    edgeSource: Int32Array.from(from),
    edgeTarget: Int32Array.from(to),
    sizes: nodes.map((node, i) => nodeSize(node, texts[i])),
    openBoxes: shown.openBoxes,
    boxOf: Int32Array.from(nodes, (node) => shown.boxOf.get(node.id) ?? -1),
  };
}

/** The op of function node `id`, when it is one of `nodes` or hidden in a collapsed layer. */
function opOf(
  nodes: readonly ShownNode[],
  indexOf: ReadonlyMap<string, number>,
  hiddenOps: ReadonlyMap<string, string>,
  id: string | undefined,
) {
  if (id === undefined) return undefined;
  const index = indexOf.get(id);
  const node = index === undefined ? undefined : nodes[index];
  return node?.kind === NODE_KIND.function ? node.op : hiddenOps.get(id);
}

/** What variable `node` shows, its creator's op looked up in `graph` (a drawing of the same structure). */
export function variableTextIn(graph: IndexedGraph, node: VariableNode): VariableText {
  return variableText(node, opOf(graph.nodes, graph.indexOf, graph.hiddenOps, node.creator));
}

/** Per node, its edges in edge order: ins in `incoming`, outs in `outgoing` (CSR lists of edge indices). */
export interface IncidentEdges {
  incoming: Adjacency;
  outgoing: Adjacency;
}

const incidentIndexes = new WeakMap<IndexedGraph, IncidentEdges>();

/**
 * The graph's incident-edge index, built on first use and kept with the graph (each layout indexes
 * a new graph), so a render never pays for it and each click after the first costs O(degree).
 */
export function incidentEdges(graph: IndexedGraph): IncidentEdges {
  let index = incidentIndexes.get(graph);
  if (!index) {
    const edgeIds = new Int32Array(graph.edgeSource.length);
    for (let e = 0; e < edgeIds.length; e++) edgeIds[e] = e;
    const count = graph.nodes.length;
    index = {
      incoming: adjacency(count, graph.edgeTarget, edgeIds),
      outgoing: adjacency(count, graph.edgeSource, edgeIds),
    };
    incidentIndexes.set(graph, index);
  }
  return index;
}

/** What is around one node: the ids at the other end of its in- and out-edges, and those edges. */
export interface Neighbourhood {
  inputs: string[];
  outputs: string[];
  /** Indices of the incident edges, ascending (the drawing's edge order). */
  edges: number[];
}

/** The neighbourhood of node `id`, from the incident-edge index: O(its degree), not O(all edges). */
export function neighbourhood(graph: IndexedGraph, id: string): Neighbourhood {
  const node = graph.indexOf.get(id);
  const result: Neighbourhood = { inputs: [], outputs: [], edges: [] };
  if (node === undefined) return result;
  const { incoming, outgoing } = incidentEdges(graph);
  let i = incoming.start[node];
  let o = outgoing.start[node];
  const inEnd = incoming.start[node + 1];
  const outEnd = outgoing.start[node + 1];
  // Merge the two ascending lists (an edge is never in both: indexGraph drops self-loops).
  while (i < inEnd || o < outEnd) {
    if (o >= outEnd || (i < inEnd && incoming.list[i] < outgoing.list[o])) {
      const e = incoming.list[i++];
      result.inputs.push(graph.nodes[graph.edgeSource[e]].id);
      result.edges.push(e);
    } else {
      const e = outgoing.list[o++];
      result.outputs.push(graph.nodes[graph.edgeTarget[e]].id);
      result.edges.push(e);
    }
  }
  return result;
}

/** A rectangle of the drawing, in layout coordinates. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** Where node `index` is drawn: its rectangle around the centre the layout gave it. */
export function nodeBox(graph: IndexedGraph, layout: Pick<LayoutResult, "x" | "y">, index: number): Box {
  const { width, height } = graph.sizes[index];
  const x0 = layout.x[index] - width / 2;
  const y0 = layout.y[index] - height / 2;
  return { x0, y0, x1: x0 + width, y1: y0 + height };
}

export function layoutInput(graph: IndexedGraph, direction: Direction): LayoutInput {
  const count = graph.nodes.length;
  const input: LayoutInput = {
    direction,
    width: new Float64Array(count),
    height: new Float64Array(count),
    generation: new Float64Array(count),
    isFunction: new Uint8Array(count),
    edgeSource: graph.edgeSource.slice(),
    edgeTarget: graph.edgeTarget.slice(),
  };
  if (graph.openBoxes.length > 0) {
    input.box = graph.boxOf.slice();
    input.boxParent = Int32Array.from(graph.openBoxes, (box) => box.parent);
  }
  graph.nodes.forEach((node, i) => {
    input.width[i] = graph.sizes[i].width;
    input.height[i] = graph.sizes[i].height;
    input.generation[i] = typeof node.generation === "number" ? node.generation : NaN;
    input.isFunction[i] = node.kind === NODE_KIND.variable ? 0 : 1; // a collapsed layer ranks as a function
  });
  return input;
}

// ---------------------------------------------------------------------------------------------
// Layer boxes (snapshot.layers): which are collapsed, and the graph with them collapsed
// ---------------------------------------------------------------------------------------------

/**
 * A graph of more than this many nodes starts with its innermost layer boxes collapsed, each to one
 * node (a two-layer MLP's training step has 14 nodes: it reads as x → l0 → Sigmoid → l1 → loss);
 * smaller ones (one layer, or a model plotted without its loss) start with every box open. Boxes
 * around other boxes (a model around its layers) start open. DESIGN.md: nothing else is ever
 * collapsed by default.
 */
export const LAYER_COLLAPSE_ABOVE = 12;
/** A collapsed layer lists at most this many of its parameters (then "+ n more"). */
export const LAYER_MAX_ROWS = 6;
/** Room around a collapsed layer's texts (px). */
const LAYER_PADDING = { x: 12, y: 6 } as const;
/** The glyph before a layer's title: collapsed (click opens it) or open. */
export const LAYER_GLYPH = { collapsed: "▸", open: "▾" } as const;

export const NONE_COLLAPSED: ReadonlySet<string> = new Set<string>();

/** A collapsed layer box, drawn as one node in place of its members. */
export interface LayerNode {
  id: string;
  kind: typeof LAYER_KIND;
  /** The layer's class name. */
  layer: string;
  /** "l0 · Linear" (or "Linear" when it has no other name). */
  title: string;
  /** The parameters inside, own ones first (nested ones named "l0.W"), one row each. */
  params: Array<{ id: string; name: string; nested: boolean }>;
  /** The rows' texts when indexed (what the node's size was reserved for). */
  rows: string[];
  /** How many of the snapshot's nodes it stands for. */
  hidden: number;
  /** The lowest generation of its functions (it is laid out as a function of that generation). */
  generation?: number;
}

/** A node as drawn: one of the snapshot's, or a collapsed layer. */
export type ShownNode = GraphNode | LayerNode;

/** A layer box drawn open, around its members. */
export interface OpenBox {
  box: LayerBox;
  /** Index of the enclosing open box, -1 for none (open boxes are listed outer first). */
  parent: number;
  title: string;
}

/** "l0 · Linear": the label and the class, or the class alone when the label is just that. */
export function layerTitle(box: Pick<LayerBox, "label" | "layer">): string {
  const layer = boundedText(box.layer, MAX_LABEL_CHARS);
  return box.label && box.label !== box.layer ? `${boundedText(box.label, MAX_LABEL_CHARS)} · ${layer}` : layer;
}

/** The boxes collapsed when the user has not chosen: see LAYER_COLLAPSE_ABOVE. */
export function defaultCollapsed(snapshot: Snapshot): Set<string> {
  const boxes = snapshot.layers ?? [];
  if (boxes.length === 0 || snapshot.nodes.length <= LAYER_COLLAPSE_ABOVE) return new Set();
  const outer = new Set(boxes.map((box) => box.parent).filter((id): id is string => id !== undefined));
  return new Set(boxes.filter((box) => !outer.has(box.id)).map((box) => box.id));
}

/** A row of a collapsed layer: a parameter's name, shape and grad ("W (2, 10)  grad ‖g‖ 0.52"). */
export function layerRow(name: string, node: GraphNode | undefined): string {
  if (node?.kind !== NODE_KIND.variable) return name;
  const shape = node.shape && node.shape.length > 0 ? ` ${formatShape(node.shape)}` : "";
  return `${name}${shape}  grad ${gradLine(node.grad)}`;
}

/** The rows a collapsed layer shows for `byId`'s values: a row per parameter, then "+ n more". */
export function layerRows(node: LayerNode, byId: ReadonlyMap<string, GraphNode>): string[] {
  const rows = node.params.slice(0, LAYER_MAX_ROWS).map((param) => layerRow(param.name, byId.get(param.id)));
  const more = node.params.length - LAYER_MAX_ROWS;
  if (more > 0) rows.push(`+ ${more} more parameter${more === 1 ? "" : "s"}`);
  return rows;
}

/** Characters of row text a collapsed layer reserves: in steps, so small changes move nothing. */
export function layerRowChars(rows: readonly string[]): number {
  const longest = rows.reduce((most, row) => Math.max(most, row.length), 0);
  return Math.ceil(longest / VALUE_CHAR_STEP) * VALUE_CHAR_STEP;
}

/** A collapsed layer's box: its title, then its rows. */
export function layerNodeSize(node: LayerNode, rowChars = layerRowChars(node.rows)): NodeSize {
  const title = (node.title.length + 2) * TEXT.labelCharWidth;
  const rows = rowChars * TEXT.valueCharWidth;
  return {
    width: Math.ceil(Math.max(title, rows) + 2 * LAYER_PADDING.x),
    height: (1 + node.rows.length) * TEXT.lineHeight + 2 * LAYER_PADDING.y,
  };
}

/** The centre lines of a collapsed layer's title and rows, relative to its centre. */
export function layerLines(height: number, rows: number): number[] {
  const top = -height / 2 + LAYER_PADDING.y;
  return Array.from({ length: 1 + rows }, (_, k) => top + (k + 0.5) * TEXT.lineHeight);
}

interface CollapsedGraph {
  nodes: ShownNode[];
  /** Hidden node id -> the id of the layer node drawn in its place. */
  standIn: Map<string, string>;
  hiddenOps: Map<string, string>;
  openBoxes: OpenBox[];
  /** Drawn node id -> index in openBoxes of the innermost open box around it. */
  boxOf: Map<string, number>;
}

/**
 * The snapshot's nodes with each collapsed box (and whatever it holds, nested boxes too) replaced by
 * one layer node, and the boxes that stay open. A box inside a collapsed box is hidden with it.
 */
export function collapseLayers(snapshot: Snapshot, collapsed: ReadonlySet<string>): CollapsedGraph {
  const boxes = snapshot.layers ?? [];
  const result: CollapsedGraph = {
    nodes: snapshot.nodes,
    standIn: new Map(),
    hiddenOps: new Map(),
    openBoxes: [],
    boxOf: new Map(),
  };
  if (boxes.length === 0) return result;
  const indexOfBox = new Map(boxes.map((box, b) => [box.id, b]));
  const parent = boxes.map((box, b) => {
    const p = box.parent === undefined ? -1 : (indexOfBox.get(box.parent) ?? -1);
    return p < b ? p : -1; // checkSnapshot lists parents first; anything else counts as no parent
  });
  const closedRoot = new Int32Array(boxes.length).fill(-1); // the outermost collapsed box around it
  const openIndex = new Int32Array(boxes.length).fill(-1);
  boxes.forEach((box, b) => {
    const above = parent[b] >= 0 ? closedRoot[parent[b]] : -1;
    closedRoot[b] = above >= 0 ? above : collapsed.has(box.id) ? b : -1;
    if (closedRoot[b] < 0) {
      openIndex[b] = result.openBoxes.length;
      result.openBoxes.push({ box, parent: parent[b] >= 0 ? openIndex[parent[b]] : -1, title: layerTitle(box) });
    }
  });
  const boxOfNode = new Map<string, number>();
  boxes.forEach((box, b) => {
    for (const member of box.members) if (!boxOfNode.has(member)) boxOfNode.set(member, b);
  });
  const layerNodes = new Map<number, LayerNode>();
  const byId = new Map<string, GraphNode>();
  const nodes: ShownNode[] = [];
  for (const node of snapshot.nodes) {
    byId.set(node.id, node);
    const b = boxOfNode.get(node.id);
    const root = b === undefined ? -1 : closedRoot[b];
    if (b === undefined || root < 0) {
      nodes.push(node);
      if (b !== undefined) result.boxOf.set(node.id, openIndex[b]);
      continue;
    }
    let layerNode = layerNodes.get(root);
    if (!layerNode) {
      const box = boxes[root];
      layerNode = {
        id: box.id,
        kind: LAYER_KIND,
        layer: box.layer,
        title: layerTitle(box),
        params: [],
        rows: [],
        hidden: 0,
      };
      layerNodes.set(root, layerNode);
      nodes.push(layerNode);
      const around = parent[root];
      if (around >= 0) result.boxOf.set(box.id, openIndex[around]);
    }
    layerNode.hidden++;
    result.standIn.set(node.id, layerNode.id);
    if (node.kind === NODE_KIND.function) result.hiddenOps.set(node.id, node.op);
    else if (node.role === "param") {
      const name = variableLabel(node) || "param";
      const nested = b !== root;
      layerNode.params.push({ id: node.id, name: nested ? `${boxes[b].label}.${name}` : name, nested });
    }
    if (node.kind === NODE_KIND.function && typeof node.generation === "number") {
      layerNode.generation = Math.min(layerNode.generation ?? node.generation, node.generation);
    }
  }
  for (const layerNode of layerNodes.values()) {
    // Own parameters first, then the nested boxes' (named "l0.W").
    layerNode.params.sort((a, b) => Number(a.nested) - Number(b.nested));
    layerNode.rows = layerRows(layerNode, byId);
  }
  result.nodes = nodes;
  return result;
}
