// Graph index: snapshot -> node sizes, index maps, the incident-edge index and the structure key.
// The structure key tells a values-only refresh (texts in place) from a structural one (lay out again).
import { previewText, variableLabel, wrapPreview } from "./format";
import { type Adjacency, adjacency, type LayoutInput } from "./layout";
import { type Direction, type GraphNode, NODE_KIND, type Snapshot, type VariableNode } from "./protocol";

/**
 * Text metrics of the drawing; node sizes are estimated from them, so no DOM measuring is needed.
 * styles.ts takes the font sizes from here, draw.ts the line height.
 */
export const TEXT = {
  labelSize: 12,
  valueSize: 11,
  lineHeight: 15,
  labelCharWidth: 7.4,
  valueCharWidth: 6.7,
  valuePrefix: "data ",
  gradPrefix: "grad ",
} as const;

const FUNCTION_HEIGHT = 28;
const FUNCTION_PADDING = 24;

export interface NodeSize {
  width: number;
  height: number;
}

/** The text lines of a variable node: its label, then data and grad previews, wrapped. */
export interface VariableText {
  label: string;
  data: string[];
  grad: string[];
  /** Rows kept for the grad: at least the data's, since a later backward usually brings a grad of the same shape. */
  gradRows: number;
}

export function variableText(node: VariableNode): VariableText {
  const data = wrapPreview(previewText(node.data));
  const grad = wrapPreview(previewText(node.grad));
  return { label: variableLabel(node), data, grad, gradRows: Math.max(grad.length, data.length) };
}

/** A variable is an ellipse around its text lines; a function is a box around its op name. */
export function nodeSize(node: GraphNode): NodeSize {
  if (node.kind === NODE_KIND.function) {
    return { width: node.op.length * TEXT.labelCharWidth + FUNCTION_PADDING, height: FUNCTION_HEIGHT };
  }
  const text = variableText(node);
  let longest = 0;
  for (const line of text.data) longest = Math.max(longest, line.length);
  for (const line of text.grad) longest = Math.max(longest, line.length);
  const valueWidth = (TEXT.valuePrefix.length + longest) * TEXT.valueCharWidth;
  const textWidth = Math.max(text.label.length * TEXT.labelCharWidth, valueWidth);
  const textHeight = (1 + text.data.length + text.gradRows) * TEXT.lineHeight;
  // An ellipse holds a w x h box when its axes are sqrt(2) times larger; 1.25 suits centred lines.
  return { width: Math.round(textWidth * 1.25 + 20), height: Math.round(textHeight * 1.25 + 8) };
}

/**
 * Everything a re-layout depends on. Values are left out: when only they change, positions stay.
 */
export function structureKey(snapshot: Snapshot, direction: Direction): string {
  const parts: string[] = [direction];
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
  nodes: GraphNode[];
  indexOf: Map<string, number>;
  /** Edges whose two ends are both in the snapshot (a truncated one may name missing nodes). */
  edgeSource: Int32Array;
  edgeTarget: Int32Array;
  sizes: NodeSize[];
}

export function indexGraph(snapshot: Snapshot): IndexedGraph {
  const nodes = snapshot.nodes;
  const indexOf = new Map<string, number>();
  nodes.forEach((node, i) => {
    indexOf.set(node.id, i);
  });
  const from: number[] = [];
  const to: number[] = [];
  for (const edge of snapshot.edges) {
    const s = indexOf.get(edge.source);
    const t = indexOf.get(edge.target);
    if (s === undefined || t === undefined || s === t) continue;
    from.push(s);
    to.push(t);
  }
  return {
    nodes,
    indexOf,
    edgeSource: Int32Array.from(from),
    edgeTarget: Int32Array.from(to),
    sizes: nodes.map(nodeSize),
  };
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
  graph.nodes.forEach((node, i) => {
    input.width[i] = graph.sizes[i].width;
    input.height[i] = graph.sizes[i].height;
    input.generation[i] = typeof node.generation === "number" ? node.generation : NaN;
    input.isFunction[i] = node.kind === NODE_KIND.function ? 1 : 0;
  });
  return input;
}
