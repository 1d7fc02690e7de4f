// Unit tests of layout.ts and edges.ts: ranks, layered and dagre layouts, edge routing.
import { describe, expect, it } from "vitest";
import { EDGES_PER_PATH, edgeShape, edgeSlots, layoutAndRoute, smoothPath } from "../src/edges";
import { indexGraph, layoutInput } from "../src/graph";
import {
  assignRanks,
  computeLayout,
  DAGRE_MAX_NODES,
  dagreLayout,
  type LayoutInput,
  type LayoutResult,
  layeredLayout,
} from "../src/layout";
import type { Edge, GraphNode, Snapshot } from "../src/protocol";
import { chainSnapshot, seedSnapshot } from "./fixtures";

/** An MLP-like graph: per layer MatMul(h, W), Add(., b), Sigmoid; parameters enter late. */
function mlpSnapshot(layers: number, width: number): Snapshot {
  const nodes: GraphNode[] = [];
  const edges: Edge[] = [];
  const variable = (id: string, label: string, generation: number): GraphNode => ({
    id,
    kind: "variable",
    label,
    shape: [width],
    dtype: "float64",
    data: null,
    grad: null,
    role: "intermediate",
    generation,
  });
  let previous = ["x0"];
  nodes.push(variable("x0", "x", 0));
  let generation = 0;
  let counter = 0;
  for (let layer = 0; layer < layers; layer++) {
    const next: string[] = [];
    for (let unit = 0; unit < width; unit++) {
      const w = `W${layer}_${unit}`;
      const b = `b${layer}_${unit}`;
      nodes.push(variable(w, w, 0), variable(b, b, 0));
      const mul = `f${counter++}`;
      const mid = `v${counter++}`;
      const add = `f${counter++}`;
      const out = `v${counter++}`;
      nodes.push({ id: mul, kind: "function", op: "MatMul", generation });
      nodes.push(variable(mid, "", generation + 1));
      nodes.push({ id: add, kind: "function", op: "Add", generation: generation + 1 });
      nodes.push(variable(out, "", generation + 2));
      previous.forEach((source, index) => {
        edges.push({ source, target: mul, index });
      });
      edges.push({ source: w, target: mul, index: previous.length }, { source: mul, target: mid, index: 0 });
      edges.push(
        { source: mid, target: add, index: 0 },
        { source: b, target: add, index: 1 },
        { source: add, target: out, index: 0 },
      );
      next.push(out);
    }
    previous = next;
    generation += 2;
  }
  return { version: 1, nodes, edges, outputs: previous, truncated: false, omitted: 0 };
}

function inputOf(snapshot: Snapshot, direction: "LR" | "TB" = "LR"): LayoutInput {
  return layoutInput(indexGraph(snapshot), direction);
}

function expectNoOverlaps(input: LayoutInput, result: LayoutResult): void {
  const count = input.width.length;
  for (let a = 0; a < count; a++) {
    for (let b = a + 1; b < count; b++) {
      const apartX = Math.abs(result.x[a] - result.x[b]) >= (input.width[a] + input.width[b]) / 2;
      const apartY = Math.abs(result.y[a] - result.y[b]) >= (input.height[a] + input.height[b]) / 2;
      expect(apartX || apartY, `nodes ${a} and ${b} overlap`).toBe(true);
    }
  }
}

function expectInside(input: LayoutInput, result: LayoutResult): void {
  for (let i = 0; i < input.width.length; i++) {
    expect(result.x[i] - input.width[i] / 2).toBeGreaterThanOrEqual(0);
    expect(result.y[i] - input.height[i] / 2).toBeGreaterThanOrEqual(0);
    expect(result.x[i] + input.width[i] / 2).toBeLessThanOrEqual(result.width + 1e-9);
    expect(result.y[i] + input.height[i] / 2).toBeLessThanOrEqual(result.height + 1e-9);
  }
}

describe("ranks", () => {
  const cases: Array<[string, Snapshot]> = [
    ["seed", seedSnapshot()],
    ["chain with generations", chainSnapshot(30)],
    ["chain without generations", chainSnapshot(30, false)],
    ["mlp", mlpSnapshot(3, 4)],
  ];
  it.each(cases)("every edge climbs a rank (%s)", (_name, snapshot) => {
    const input = inputOf(snapshot);
    const rank = assignRanks(input);
    for (let e = 0; e < input.edgeSource.length; e++) {
      expect(rank[input.edgeTarget[e]]).toBeGreaterThan(rank[input.edgeSource[e]]);
    }
    expect(Math.min(...rank)).toBe(0);
  });

  it("orders the seed x < Add < v2 < Add < y", () => {
    expect(Array.from(assignRanks(inputOf(seedSnapshot())))).toEqual([0, 1, 2, 3, 4]);
  });

  it("falls back to longest paths when generations contradict the edges", () => {
    const snapshot = seedSnapshot();
    snapshot.nodes[4].generation = 0; // y claims generation 0, yet comes after f2
    expect(Array.from(assignRanks(inputOf(snapshot)))).toEqual([0, 1, 2, 3, 4]);
  });

  it("puts a late parameter just before its consumer", () => {
    const snapshot = mlpSnapshot(3, 1);
    const input = inputOf(snapshot);
    const rank = assignRanks(input);
    const graph = indexGraph(snapshot);
    const lastBias = graph.indexOf.get("b2_0")!;
    const lastAdd = graph.nodes.findIndex(
      (node) =>
        node.kind === "function" &&
        node.op === "Add" &&
        graph.edgeSource.some((s, e) => s === lastBias && graph.edgeTarget[e] === graph.indexOf.get(node.id)),
    );
    expect(rank[lastBias]).toBe(rank[lastAdd] - 1);
  });
});

describe("layered layout", () => {
  it("keeps nodes of one rank apart and inside the bounds", () => {
    for (const direction of ["LR", "TB"] as const) {
      const input = inputOf(mlpSnapshot(4, 6), direction);
      const result = layeredLayout(input);
      expectNoOverlaps(input, result);
      expectInside(input, result);
      expect(result.engine).toBe("layered");
    }
  });

  it("runs along x for LR and along y for TB", () => {
    const lr = layeredLayout(inputOf(chainSnapshot(5), "LR"));
    const tb = layeredLayout(inputOf(chainSnapshot(5), "TB"));
    for (let i = 1; i < 11; i++) {
      expect(lr.x[i]).toBeGreaterThan(lr.x[i - 1]);
      expect(lr.y[i]).toBeCloseTo(lr.y[0]); // a chain is one straight line
      expect(tb.y[i]).toBeGreaterThan(tb.y[i - 1]);
    }
  });

  it("is deterministic", () => {
    const input = inputOf(mlpSnapshot(5, 8));
    const first = layeredLayout(input);
    const second = layeredLayout(inputOf(mlpSnapshot(5, 8)));
    expect(Array.from(second.x)).toEqual(Array.from(first.x));
    expect(Array.from(second.y)).toEqual(Array.from(first.y));
  });

  it("lays out 10,000 nodes in linear-ish time", () => {
    const input = inputOf(chainSnapshot(5000));
    const started = performance.now();
    const result = layeredLayout(input);
    expect(result.x.length).toBe(10001);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("dagre layout", () => {
  it("handles small graphs without overlaps, deterministically", () => {
    const input = inputOf(seedSnapshot());
    const result = computeLayout(input);
    expect(result.engine).toBe("dagre");
    expectNoOverlaps(input, result);
    expectInside(input, result);
    const again = dagreLayout(inputOf(seedSnapshot()));
    expect(Array.from(again.x)).toEqual(Array.from(result.x));
    expect(Array.from(again.y)).toEqual(Array.from(result.y));
    for (let i = 1; i < 5; i++) expect(result.x[i]).toBeGreaterThan(result.x[i - 1]);
  });

  it("hands graphs past the threshold to the layered pass", () => {
    const snapshot = chainSnapshot(Math.ceil(DAGRE_MAX_NODES / 2) + 1);
    expect(snapshot.nodes.length).toBeGreaterThan(DAGRE_MAX_NODES);
    expect(computeLayout(inputOf(snapshot)).engine).toBe("layered");
  });
});

describe("edge routing", () => {
  it("fans parallel edges out and ends them at the target's near side", () => {
    const input = inputOf(seedSnapshot());
    const layout = layeredLayout(input);
    const slots = edgeSlots(input);
    const first = edgeShape(input, layout, 0, slots); // x -> Add, input 0
    const second = edgeShape(input, layout, 1, slots); // x -> Add, input 1
    expect(first.path).not.toBe(second.path);
    const tip = (arrow: string) => arrow.slice(1).split("L")[0].split(",").map(Number);
    const [tipX, tipY] = tip(first.arrow);
    const [, secondTipY] = tip(second.arrow);
    expect(tipX).toBeCloseTo(layout.x[1] - input.width[1] / 2, 0);
    expect(secondTipY).toBeGreaterThan(tipY);
  });

  it("merges edges into chunks of path data", () => {
    const routed = layoutAndRoute(inputOf(chainSnapshot(2500)));
    expect(routed.edgePaths.length).toBe(Math.ceil(5000 / EDGES_PER_PATH));
    expect(routed.edgePaths[0].match(/M/g)!.length).toBe(EDGES_PER_PATH);
    expect(routed.arrowPaths[0].match(/Z/g)!.length).toBe(EDGES_PER_PATH);
  });

  it("draws dagre's routed edges through its bend points", () => {
    expect(smoothPath([0, 0, 10, 0, 20, 10, 30, 10])).toBe("M0.0,0.0Q10.0,0.0 15.0,5.0Q20.0,10.0 30.0,10.0");
    expect(smoothPath([0, 0, 5, 5])).toBe("M0.0,0.0L5.0,5.0");
  });

  it("lays out an empty graph", () => {
    const empty = layoutAndRoute(
      inputOf({ version: 1, nodes: [], edges: [], outputs: [], truncated: false, omitted: 0 }),
    );
    expect(empty.x.length).toBe(0);
    expect(empty.edgePaths).toEqual([]);
    expect(empty.width).toBeGreaterThan(0);
  });
});
