// Snapshot -> what layout and drawing need: node sizes, index maps, and the structure key that
// tells a values-only refresh (update texts in place) from a structural one (lay out again).
import type { Direction, LayoutInput } from "./layout";
import type { GraphNode, Snapshot, VariableNode } from "./protocol";
import { previewText, variableLabel, wrapPreview } from "./format";

/** Text metrics the drawing uses; sizes are estimated from them so no DOM measuring is needed. */
export const TEXT = {
  labelSize: 12,
  valueSize: 11,
  lineHeight: 15,
  labelCharWidth: 7.4,
  valueCharWidth: 6.7,
  valuePrefix: "data ",
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
  if (node.kind === "function") {
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
    parts.push(node.kind === "function" ? `${node.id}:${node.op}:${node.subgraph ?? ""}` : `${node.id}:${node.subgraph ?? ""}`);
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
  nodes.forEach((node, i) => indexOf.set(node.id, i));
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
    input.isFunction[i] = node.kind === "function" ? 1 : 0;
  });
  return input;
}

export function isVariable(node: GraphNode): node is VariableNode {
  return node.kind === "variable";
}
