// Layout: node positions (dagre for small graphs, a linear-time layered pass past DAGRE_MAX_NODES).
// Free of the DOM, so it runs in the worker, in the in-page fallback and in unit tests; dagre's
// super-linear crossing minimisation blows the time budget on large graphs.
// Open layer boxes are dagre clusters (compound graph): dagre keeps other nodes out of them. The
// layered pass keeps each box's nodes together within a rank and boxes the members' extent.
import dagre, { type Point } from "@dagrejs/dagre";
import { type Direction, LAYOUT_ENGINE, type LayoutEngine } from "./protocol";

/** Node-indexed arrays, so the input crosses the worker boundary as transferable buffers. */
export interface LayoutInput {
  direction: Direction;
  width: Float64Array;
  height: Float64Array;
  /** The engine's generation, NaN when the snapshot has none. */
  generation: Float64Array;
  isFunction: Uint8Array;
  edgeSource: Int32Array;
  edgeTarget: Int32Array;
  /** Per node, the innermost open layer box around it, -1 for none (absent: no boxes). */
  box?: Int32Array;
  /** Per open box, the box around it, -1 for none; boxes are listed outer first. */
  boxParent?: Int32Array;
}

export interface LayoutResult {
  engine: LayoutEngine;
  /** Node centres; the drawing spans (0,0)-(width,height). */
  x: Float64Array;
  y: Float64Array;
  width: number;
  height: number;
  /** Per edge, dagre's bend points as a flat [x0,y0,x1,y1,...] list when the edge spans ranks. */
  bends: Array<number[] | null> | null;
  /** Per open layer box, its rectangle as [left, top, width, height] (4 numbers a box). */
  boxes?: Float64Array;
}

/** Room inside a layer box around its members (px), and its title's band at the top. */
export const BOX_PADDING = 8;
export const BOX_HEADER = 18;

/**
 * Measured here: dagre takes 0.09-0.25 s around 200 nodes (node 20 and headless Chromium, in the
 * worker), growing super-linearly; the layered pass takes about 1 ms at that size.
 */
export const DAGRE_MAX_NODES = 200;

const NODE_GAP = 18;
const RANK_GAP = { LR: 56, TB: 44 } as const;
const MARGIN = 16;

export function computeLayout(input: LayoutInput): LayoutResult {
  const count = input.width.length;
  return count > 0 && count <= DAGRE_MAX_NODES ? dagreLayout(input) : layeredLayout(input);
}

export function dagreLayout(input: LayoutInput): LayoutResult {
  const boxCount = input.boxParent?.length ?? 0;
  if (boxCount > 0) {
    try {
      return withBoxes(input, dagreLayoutOf(input, true));
    } catch {
      // dagre's compound layout has failed on some shapes: lay out plainly, box the members' extent.
    }
  }
  return withBoxes(input, dagreLayoutOf(input, false));
}

function dagreLayoutOf(input: LayoutInput, clusters: boolean): LayoutResult {
  const count = input.width.length;
  const graph = new dagre.graphlib.Graph({ multigraph: true, compound: clusters });
  graph.setGraph({
    rankdir: input.direction,
    nodesep: NODE_GAP,
    ranksep: RANK_GAP[input.direction],
    marginx: MARGIN,
    marginy: MARGIN,
  });
  graph.setDefaultEdgeLabel(() => ({}));
  for (let i = 0; i < count; i++) {
    graph.setNode(String(i), { width: input.width[i], height: input.height[i] });
  }
  for (let e = 0; e < input.edgeSource.length; e++) {
    graph.setEdge(String(input.edgeSource[e]), String(input.edgeTarget[e]), {}, `e${e}`);
  }
  const boxParent = clusters ? input.boxParent : undefined;
  if (boxParent && input.box) {
    for (let b = 0; b < boxParent.length; b++) graph.setNode(`b${b}`, {});
    for (let b = 0; b < boxParent.length; b++) if (boxParent[b] >= 0) graph.setParent(`b${b}`, `b${boxParent[b]}`);
    for (let i = 0; i < count; i++) if (input.box[i] >= 0) graph.setParent(String(i), `b${input.box[i]}`);
  }
  dagre.layout(graph);
  const x = new Float64Array(count);
  const y = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const node = graph.node(String(i));
    x[i] = node.x;
    y[i] = node.y;
  }
  const bends: Array<number[] | null> = [];
  for (let e = 0; e < input.edgeSource.length; e++) {
    const label = graph.edge(String(input.edgeSource[e]), String(input.edgeTarget[e]), `e${e}`);
    const points: Point[] = label?.points ?? [];
    // Three points is a direct edge (ends plus midpoint); more means dagre routed it around nodes.
    bends.push(points.length > 3 ? points.slice(1, -1).flatMap((p) => [p.x, p.y]) : null);
  }
  const size = graph.graph();
  const result: LayoutResult = {
    engine: LAYOUT_ENGINE.dagre,
    x,
    y,
    width: size.width ?? 0,
    height: size.height ?? 0,
    bends,
  };
  if (boxParent) {
    const boxes = new Float64Array(4 * boxParent.length);
    for (let b = 0; b < boxParent.length; b++) {
      const cluster = graph.node(`b${b}`);
      if (!Number.isFinite(cluster?.x) || !Number.isFinite(cluster?.width)) throw new Error("a cluster was not placed");
      boxes.set([cluster.x - cluster.width / 2, cluster.y - cluster.height / 2, cluster.width, cluster.height], 4 * b);
    }
    result.boxes = boxes;
  }
  return result;
}

/**
 * `layout` with a rectangle for every open layer box: around its members and nested boxes, with
 * BOX_PADDING and the title's band (dagre's clusters are grown where they lack either), and the
 * drawing shifted and grown so that every box is inside it.
 */
export function withBoxes(input: LayoutInput, layout: LayoutResult): LayoutResult {
  const boxParent = input.boxParent;
  const box = input.box;
  if (!boxParent || !box || boxParent.length === 0) return layout;
  const n = boxParent.length;
  // The extent of each box's contents: its members, then (children come after parents) its boxes.
  const low = new Float64Array(2 * n).fill(Infinity);
  const high = new Float64Array(2 * n).fill(-Infinity);
  const grow = (b: number, x0: number, y0: number, x1: number, y1: number) => {
    low[2 * b] = Math.min(low[2 * b], x0);
    low[2 * b + 1] = Math.min(low[2 * b + 1], y0);
    high[2 * b] = Math.max(high[2 * b], x1);
    high[2 * b + 1] = Math.max(high[2 * b + 1], y1);
  };
  for (let i = 0; i < box.length; i++) {
    if (box[i] < 0) continue;
    const halfWidth = input.width[i] / 2;
    const halfHeight = input.height[i] / 2;
    grow(box[i], layout.x[i] - halfWidth, layout.y[i] - halfHeight, layout.x[i] + halfWidth, layout.y[i] + halfHeight);
  }
  const rects = new Float64Array(4 * n);
  for (let b = n - 1; b >= 0; b--) {
    let x0 = low[2 * b] - BOX_PADDING;
    let y0 = low[2 * b + 1] - BOX_HEADER;
    let x1 = high[2 * b] + BOX_PADDING;
    let y1 = high[2 * b + 1] + BOX_PADDING;
    const placed = layout.boxes;
    if (placed && placed.length === 4 * n) {
      x0 = Math.min(x0, placed[4 * b]);
      y0 = Math.min(y0, placed[4 * b + 1]);
      x1 = Math.max(x1, placed[4 * b] + placed[4 * b + 2]);
      y1 = Math.max(y1, placed[4 * b + 1] + placed[4 * b + 3]);
    }
    if (!Number.isFinite(x0) || !Number.isFinite(y0)) x0 = y0 = x1 = y1 = 0; // an empty box
    rects.set([x0, y0, x1 - x0, y1 - y0], 4 * b);
    if (boxParent[b] >= 0) grow(boxParent[b], x0, y0, x1, y1);
  }
  let left = 0;
  let top = 0;
  let right = layout.width;
  let bottom = layout.height;
  for (let b = 0; b < n; b++) {
    left = Math.min(left, rects[4 * b] - BOX_PADDING);
    top = Math.min(top, rects[4 * b + 1] - BOX_PADDING);
    right = Math.max(right, rects[4 * b] + rects[4 * b + 2] + BOX_PADDING);
    bottom = Math.max(bottom, rects[4 * b + 1] + rects[4 * b + 3] + BOX_PADDING);
  }
  if (left < 0 || top < 0) {
    const dx = -left;
    const dy = -top;
    for (let i = 0; i < layout.x.length; i++) {
      layout.x[i] += dx;
      layout.y[i] += dy;
    }
    for (let b = 0; b < n; b++) {
      rects[4 * b] += dx;
      rects[4 * b + 1] += dy;
    }
    layout.bends = layout.bends?.map((points) => points?.map((v, k) => v + (k % 2 === 0 ? dx : dy)) ?? null) ?? null;
  }
  return { ...layout, width: right - left, height: bottom - top, boxes: rects };
}

/** Compressed sparse adjacency: neighbours of node i are list[start[i]..start[i+1]). */
export interface Adjacency {
  start: Int32Array;
  list: Int32Array;
}

/** Groups `to[e]` by `from[e]`, keeping the order of e within each group. */
export function adjacency(count: number, from: Int32Array, to: Int32Array): Adjacency {
  const start = new Int32Array(count + 1);
  for (let e = 0; e < from.length; e++) start[from[e] + 1]++;
  for (let i = 0; i < count; i++) start[i + 1] += start[i];
  const fill = start.slice(0, count);
  const list = new Int32Array(from.length);
  for (let e = 0; e < from.length; e++) list[fill[from[e]]++] = to[e];
  return { start, list };
}

/**
 * Ranks that every edge climbs: from generations (variable 2g, function 2g+1) when all nodes have
 * one and they agree with the edges, else longest-path ranks from a topological pass. Nodes with no
 * inputs (leaves, parameters) then sit one rank before their first consumer, and empty ranks close up.
 */
export function assignRanks(input: LayoutInput): Int32Array {
  const count = input.width.length;
  const { edgeSource: from, edgeTarget: to } = input;
  let rank = generationRanks(input);
  if (!rank) rank = longestPathRanks(count, from, to);

  const inDegree = new Int32Array(count);
  for (let e = 0; e < to.length; e++) inDegree[to[e]]++;
  const firstUse = new Int32Array(count).fill(2147483647);
  for (let e = 0; e < from.length; e++) {
    if (inDegree[from[e]] === 0) firstUse[from[e]] = Math.min(firstUse[from[e]], rank[to[e]]);
  }
  for (let i = 0; i < count; i++) {
    if (inDegree[i] === 0 && firstUse[i] !== 2147483647) rank[i] = firstUse[i] - 1;
  }
  return compactRanks(rank);
}

function generationRanks(input: LayoutInput): Int32Array | null {
  const count = input.width.length;
  const rank = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const generation = input.generation[i];
    if (!Number.isFinite(generation)) return null;
    rank[i] = 2 * generation + (input.isFunction[i] ? 1 : 0);
  }
  for (let e = 0; e < input.edgeSource.length; e++) {
    if (rank[input.edgeTarget[e]] <= rank[input.edgeSource[e]]) return null;
  }
  return rank;
}

/** Kahn's algorithm; nodes on a cycle (never produced by autodiff) land after everything else. */
function longestPathRanks(count: number, from: Int32Array, to: Int32Array): Int32Array {
  const out = adjacency(count, from, to);
  const inDegree = new Int32Array(count);
  for (let e = 0; e < to.length; e++) inDegree[to[e]]++;
  const rank = new Int32Array(count);
  const queue = new Int32Array(count);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < count; i++) if (inDegree[i] === 0) queue[tail++] = i;
  while (head < tail) {
    const node = queue[head++];
    for (let k = out.start[node]; k < out.start[node + 1]; k++) {
      const next = out.list[k];
      if (rank[next] < rank[node] + 1) rank[next] = rank[node] + 1;
      if (--inDegree[next] === 0) queue[tail++] = next;
    }
  }
  if (tail < count) {
    let deepest = 0;
    for (let i = 0; i < count; i++) deepest = Math.max(deepest, rank[i]);
    for (let i = 0; i < count; i++) if (inDegree[i] > 0) rank[i] = deepest + 1;
  }
  return rank;
}

function compactRanks(rank: Int32Array): Int32Array {
  const used = Array.from(new Set(rank)).sort((a, b) => a - b);
  const dense = new Map(used.map((value, index) => [value, index]));
  return rank.map((value) => dense.get(value) as number); // every rank is in `used`
}

/** Nodes of each rank, ordered by barycentre sweeps (down, up, down) to cut crossings cheaply. */
function orderRanks(
  count: number,
  rank: Int32Array,
  from: Int32Array,
  to: Int32Array,
  box?: Int32Array,
  boxParent?: Int32Array,
): Int32Array[] {
  let rankCount = 0;
  for (let i = 0; i < count; i++) rankCount = Math.max(rankCount, rank[i] + 1);
  const sizes = new Int32Array(rankCount);
  for (let i = 0; i < count; i++) sizes[rank[i]]++;
  const layers = Array.from(sizes, (size) => new Int32Array(size));
  const filled = new Int32Array(rankCount);
  for (let i = 0; i < count; i++) layers[rank[i]][filled[rank[i]]++] = i;

  const preds = adjacency(count, to, from);
  const succs = adjacency(count, from, to);
  const place = new Float64Array(count);
  const setPlaces = (layer: Int32Array) => {
    for (let k = 0; k < layer.length; k++) place[layer[k]] = (k + 0.5) / layer.length;
  };
  layers.forEach(setPlaces);
  const key = new Float64Array(count);
  const sweep = (r: number, neighbours: Adjacency) => {
    const layer = layers[r];
    for (const node of layer) {
      const begin = neighbours.start[node];
      const end = neighbours.start[node + 1];
      if (begin === end) {
        key[node] = place[node];
        continue;
      }
      let sum = 0;
      for (let k = begin; k < end; k++) sum += place[neighbours.list[k]];
      key[node] = sum / (end - begin);
    }
    // Ties keep the current order (Array.prototype.sort is stable), so the result is deterministic.
    const sorted = Array.from(layer).sort((a, b) => key[a] - key[b]);
    layer.set(sorted);
    setPlaces(layer);
  };
  for (let r = 1; r < rankCount; r++) sweep(r, preds);
  for (let r = rankCount - 2; r >= 0; r--) sweep(r, succs);
  for (let r = 1; r < rankCount; r++) sweep(r, preds);
  if (box && boxParent) for (const layer of layers) groupByBox(layer, box, boxParent);
  return layers;
}

/**
 * Reorders one rank so that the nodes of each layer box are next to each other (nested boxes
 * within their box), each group where its first node was: boxes never interleave in a rank.
 */
function groupByBox(layer: Int32Array, box: Int32Array, boxParent: Int32Array): void {
  const first = new Map<number, number>(); // box -> place of its first node in the rank
  const keys = new Map<number, number[]>();
  layer.forEach((node, place) => {
    const chain: number[] = [];
    for (let b = box[node]; b >= 0; b = boxParent[b]) chain.push(b);
    chain.reverse();
    for (const b of chain) if (!first.has(b)) first.set(b, place);
    keys.set(node, [...chain.map((b) => first.get(b) as number), place]);
  });
  const sorted = Array.from(layer).sort((a, b) => {
    const ka = keys.get(a) as number[];
    const kb = keys.get(b) as number[];
    for (let k = 0; k < Math.min(ka.length, kb.length); k++) if (ka[k] !== kb[k]) return ka[k] - kb[k];
    return ka.length - kb.length;
  });
  layer.set(sorted);
}

/**
 * Places an ordered row at its wished-for centres without overlaps: the mean of a left-to-right
 * push and a right-to-left push keeps every gap and stays near the wishes.
 */
function placeRow(layer: Int32Array, wish: Float64Array, size: Float64Array, out: Float64Array) {
  const n = layer.length;
  if (n === 0) return;
  const forward = new Float64Array(n);
  const backward = new Float64Array(n);
  forward[0] = wish[layer[0]];
  for (let k = 1; k < n; k++) {
    const gap = (size[layer[k - 1]] + size[layer[k]]) / 2 + NODE_GAP;
    forward[k] = Math.max(wish[layer[k]], forward[k - 1] + gap);
  }
  backward[n - 1] = wish[layer[n - 1]];
  for (let k = n - 2; k >= 0; k--) {
    const gap = (size[layer[k]] + size[layer[k + 1]]) / 2 + NODE_GAP;
    backward[k] = Math.min(wish[layer[k]], backward[k + 1] - gap);
  }
  for (let k = 0; k < n; k++) out[layer[k]] = (forward[k] + backward[k]) / 2;
}

export function layeredLayout(input: LayoutInput): LayoutResult {
  const count = input.width.length;
  const horizontal = input.direction === "LR";
  const along = horizontal ? input.width : input.height; // extent along the rank axis
  const across = horizontal ? input.height : input.width; // extent within a rank
  const { edgeSource: from, edgeTarget: to } = input;
  const rank = assignRanks(input);
  const layers = orderRanks(count, rank, from, to, input.box, input.boxParent);

  const cross = new Float64Array(count);
  for (const layer of layers) {
    let total = -NODE_GAP;
    for (const node of layer) total += across[node] + NODE_GAP;
    let cursor = -total / 2;
    for (const node of layer) {
      cross[node] = cursor + across[node] / 2;
      cursor += across[node] + NODE_GAP;
    }
  }
  const preds = adjacency(count, to, from);
  const succs = adjacency(count, from, to);
  const wish = new Float64Array(count);
  const align = (layer: Int32Array, neighbours: Adjacency) => {
    for (const node of layer) {
      const begin = neighbours.start[node];
      const end = neighbours.start[node + 1];
      let sum = 0;
      for (let k = begin; k < end; k++) sum += cross[neighbours.list[k]];
      wish[node] = begin === end ? cross[node] : sum / (end - begin);
    }
    placeRow(layer, wish, across, cross);
  };
  for (let r = 1; r < layers.length; r++) align(layers[r], preds);
  for (let r = layers.length - 2; r >= 0; r--) align(layers[r], succs);
  for (let r = 1; r < layers.length; r++) align(layers[r], preds);

  const rankCentre = new Float64Array(layers.length);
  let cursor = 0;
  layers.forEach((layer, r) => {
    let thickest = 0;
    for (const node of layer) thickest = Math.max(thickest, along[node]);
    rankCentre[r] = cursor + thickest / 2;
    cursor += thickest + RANK_GAP[input.direction];
  });

  let low = Infinity;
  let high = -Infinity;
  for (let i = 0; i < count; i++) {
    low = Math.min(low, cross[i] - across[i] / 2);
    high = Math.max(high, cross[i] + across[i] / 2);
  }
  if (count === 0) low = high = 0;
  const alongExtent = Math.max(0, cursor - RANK_GAP[input.direction]) + 2 * MARGIN;
  const acrossExtent = high - low + 2 * MARGIN;
  const alongPos = new Float64Array(count);
  const acrossPos = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    alongPos[i] = rankCentre[rank[i]] + MARGIN;
    acrossPos[i] = cross[i] - low + MARGIN;
  }
  const result: LayoutResult = horizontal
    ? {
        engine: LAYOUT_ENGINE.layered,
        x: alongPos,
        y: acrossPos,
        width: alongExtent,
        height: acrossExtent,
        bends: null,
      }
    : {
        engine: LAYOUT_ENGINE.layered,
        x: acrossPos,
        y: alongPos,
        width: acrossExtent,
        height: alongExtent,
        bends: null,
      };
  return withBoxes(input, result);
}
