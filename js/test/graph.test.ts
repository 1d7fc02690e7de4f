// Unit tests of graph.ts: structure keys, the index of a snapshot and its incident edges.
import { describe, expect, it } from "vitest";
import {
  hasHead,
  incidentEdges,
  indexGraph,
  layoutInput,
  mergeReservations,
  neighbourhood,
  nodeSize,
  reservationOf,
  structureKey,
  variableGeometry,
  variableText,
} from "../src/graph";
import type { Snapshot, VariableNode } from "../src/protocol";
import { arraySummary, chainSnapshot, scalar, seedSnapshot } from "./fixtures";

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
    const wide = nodeSize({
      ...(snapshot.nodes[0] as VariableNode),
      data: { ...scalar(0), preview: "3.8804392764026168" },
    });
    expect(wide.width).toBeGreaterThan(nodeSize(snapshot.nodes[0]).width);
    delete snapshot.nodes[2].generation;
    expect(Number.isNaN(layoutInput(indexGraph(snapshot), "LR").generation[2])).toBe(true);
  });
});

describe("variable nodes", () => {
  const base = seedSnapshot().nodes[0] as VariableNode;
  const matrix: VariableNode = {
    ...base,
    label: "W1",
    shape: [10, 16],
    data: arraySummary(
      [10, 16],
      Array.from({ length: 160 }, (_, k) => Math.sin(k)),
    ),
    grad: null,
  };

  it("keeps a node compact: one line each for label, data and grad", () => {
    const size = nodeSize(base);
    expect(size.height).toBeLessThan(4 * 15 + 10);
    const array = nodeSize(matrix);
    expect(array.height).toBeLessThan(80);
    expect(array.width).toBeLessThan(300);
  });

  it("puts every part inside the ellipse, thumbnails right of the text", () => {
    for (const node of [base, matrix, { ...matrix, label: "", shape: [] as number[] }]) {
      const text = variableText(node);
      const geometry = variableGeometry(reservationOf(text), hasHead(text));
      const a = geometry.width / 2;
      const b = geometry.height / 2;
      const inside = (x: number, y: number) => (x / a) ** 2 + (y / b) ** 2 <= 1 + 1e-9;
      for (const slot of [geometry.dataSlot, geometry.gradSlot]) {
        if (!slot) continue;
        for (const [x, y] of [
          [slot.x, slot.y],
          [slot.x + slot.width, slot.y],
          [slot.x, slot.y + slot.height],
          [slot.x + slot.width, slot.y + slot.height],
        ]) {
          expect(inside(x, y), `${node.label} thumbnail corner ${x},${y}`).toBe(true);
        }
        expect(slot.x).toBeGreaterThan(geometry.textX);
      }
    }
    const text = variableText(matrix);
    const geometry = variableGeometry(reservationOf(text), true);
    // The grad's room is kept from the start: a later backward() moves nothing.
    expect(geometry.gradSlot).toEqual({ ...geometry.dataSlot, x: geometry.gradSlot!.x });
  });

  it("keeps a node's room while values change within it, and grows it otherwise", () => {
    const room = reservationOf(variableText(base));
    expect(mergeReservations(room, reservationOf(variableText({ ...base, grad: scalar(7) })))).toBe(room);
    const grown = mergeReservations(room, reservationOf(variableText(matrix)));
    expect(grown).not.toBe(room);
    expect(grown.dataThumbnail).toEqual({ width: 30, height: 19 });
  });
});

describe("incident-edge index", () => {
  it("lists each node's in- and out-edges in edge order, built once per graph", () => {
    const graph = indexGraph(seedSnapshot());
    expect(incidentEdges(graph)).toBe(incidentEdges(graph));
    // Edges: 0 v1>f1, 1 v1>f1, 2 f1>v2, 3 v2>f2, 4 v1>f2, 5 f2>v3; nodes v1 f1 v2 f2 v3.
    const edgesOf = (list: { start: Int32Array; list: Int32Array }, node: number) =>
      Array.from(list.list.subarray(list.start[node], list.start[node + 1]));
    expect([0, 1, 2, 3, 4].map((node) => edgesOf(incidentEdges(graph).outgoing, node))).toEqual([
      [0, 1, 4],
      [2],
      [3],
      [5],
      [],
    ]);
    expect([0, 1, 2, 3, 4].map((node) => edgesOf(incidentEdges(graph).incoming, node))).toEqual([
      [],
      [0, 1],
      [2],
      [3, 4],
      [5],
    ]);
  });

  it("gives a node's neighbours and incident edges like a scan of every edge would", () => {
    const snapshot = chainSnapshot(40);
    snapshot.edges.push({ source: "v3", target: "f20", index: 1 }, { source: "v3", target: "f9", index: 1 });
    const graph = indexGraph(snapshot);
    for (const node of graph.nodes) {
      const index = graph.indexOf.get(node.id);
      const scan = { inputs: [] as string[], outputs: [] as string[], edges: [] as number[] };
      for (let e = 0; e < graph.edgeSource.length; e++) {
        if (graph.edgeTarget[e] === index) {
          scan.inputs.push(graph.nodes[graph.edgeSource[e]].id);
          scan.edges.push(e);
        } else if (graph.edgeSource[e] === index) {
          scan.outputs.push(graph.nodes[graph.edgeTarget[e]].id);
          scan.edges.push(e);
        }
      }
      expect(neighbourhood(graph, node.id), node.id).toEqual(scan);
    }
    expect(neighbourhood(graph, "v3")).toEqual({ inputs: ["f3"], outputs: ["f4", "f20", "f9"], edges: [5, 6, 80, 81] });
    expect(neighbourhood(graph, "missing")).toEqual({ inputs: [], outputs: [], edges: [] });
  });

  it("leaves out edges to nodes a truncated snapshot dropped", () => {
    const snapshot = seedSnapshot();
    snapshot.edges.unshift({ source: "v0-missing", target: "f1", index: 2 });
    const around = neighbourhood(indexGraph(snapshot), "f1");
    expect(around).toEqual({ inputs: ["v1", "v1"], outputs: ["v2"], edges: [0, 1, 2] });
  });
});
