import { describe, expect, it } from "vitest";
import { indexGraph, layoutInput, nodeSize, structureKey } from "../src/graph";
import type { Snapshot } from "../src/protocol";
import { scalar, seedSnapshot } from "./fixtures";

describe("structure vs values", () => {
  it("keeps the key when only values change", () => {
    const before = seedSnapshot(false);
    const after = seedSnapshot(true);
    after.nodes[0] = { ...after.nodes[0], data: scalar(4) } as Snapshot["nodes"][number];
    expect(structureKey(after, "LR")).toBe(structureKey(before, "LR"));
  });

  it("changes the key when edges, ops, subgraph or direction change", () => {
    const base = seedSnapshot();
    const key = structureKey(base, "LR");
    expect(structureKey(base, "TB")).not.toBe(key);

    const moreEdges = seedSnapshot();
    moreEdges.edges.push({ source: "v2", target: "f2", index: 2 });
    expect(structureKey(moreEdges, "LR")).not.toBe(key);

    const otherOp = seedSnapshot();
    otherOp.nodes[1] = { id: "f1", kind: "function", op: "Mul", generation: 0 };
    expect(structureKey(otherOp, "LR")).not.toBe(key);

    const gradGraph = seedSnapshot();
    gradGraph.nodes[3] = { id: "f2", kind: "function", op: "Add", generation: 1, subgraph: "grad" };
    expect(structureKey(gradGraph, "LR")).not.toBe(key);
  });

  it("drops edges to nodes a truncated snapshot left out", () => {
    const snapshot = seedSnapshot();
    snapshot.edges.push({ source: "v0-missing", target: "f1", index: 2 });
    const graph = indexGraph(snapshot);
    expect(graph.edgeSource.length).toBe(6);
    expect(Array.from(graph.edgeSource)).toEqual([0, 0, 1, 2, 0, 3]);
    expect(Array.from(graph.edgeTarget)).toEqual([1, 1, 2, 3, 3, 4]);
  });

  it("sizes nodes from their texts and passes generations", () => {
    const snapshot = seedSnapshot();
    const input = layoutInput(indexGraph(snapshot), "LR");
    expect(Array.from(input.generation)).toEqual([0, 0, 1, 1, 2]);
    expect(Array.from(input.isFunction)).toEqual([0, 1, 0, 1, 0]);
    const wide = nodeSize({ ...(snapshot.nodes[0] as any), data: { ...scalar(0), preview: "[0. 1. 2. ... 97. 98. 99.]" } });
    expect(wide.width).toBeGreaterThan(nodeSize(snapshot.nodes[0]).width);
    delete snapshot.nodes[2].generation;
    expect(Number.isNaN(layoutInput(indexGraph(snapshot), "LR").generation[2])).toBe(true);
  });
});
