// Layout: node positions (dagre for small graphs, a linear-time layered pass past DAGRE_MAX_NODES).
// Free of the DOM, so it runs in the worker, in the in-page fallback and in unit tests; dagre's
// super-linear crossing minimisation blows the time budget on large graphs.
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
}

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
  const count = input.width.length;
  const graph = new dagre.graphlib.Graph({ multigraph: true });
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
  return { engine: LAYOUT_ENGINE.dagre, x, y, width: size.width ?? 0, height: size.height ?? 0, bends };
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
function orderRanks(count: number, rank: Int32Array, from: Int32Array, to: Int32Array): Int32Array[] {
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
  return layers;
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
  const layers = orderRanks(count, rank, from, to);

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
  return horizontal
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
}
