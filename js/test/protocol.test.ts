// Unit tests of protocol.ts: the run-time contract checks.
import { describe, expect, it } from "vitest";
import { CONTRACT_FIELDS, checkServerMessage, checkSnapshot, EMPTY_SNAPSHOT, type VariableNode } from "../src/protocol";
import { chainSnapshot, seedSnapshot } from "./fixtures";

describe("checkSnapshot", () => {
  it("accepts snapshots shaped like trace.py's", () => {
    expect(checkSnapshot(seedSnapshot())).toEqual([]);
    expect(checkSnapshot(seedSnapshot(false))).toEqual([]);
    expect(checkSnapshot(chainSnapshot(20, false))).toEqual([]);
    expect(checkSnapshot(EMPTY_SNAPSHOT)).toEqual([]);
  });

  it("names unknown, missing and mistyped fields", () => {
    const snapshot = seedSnapshot() as unknown as { nodes: Record<string, unknown>[]; extra?: number };
    snapshot.extra = 1;
    snapshot.nodes[0].colour = "red";
    delete snapshot.nodes[2].label;
    snapshot.nodes[4].role = "loss";
    snapshot.nodes[1].generation = 0.5;
    expect(checkSnapshot(snapshot)).toEqual([
      'snapshot: unknown field "extra"',
      'nodes[0] (v1): unknown field "colour"',
      'nodes[1] (f1): "generation" should be an integer, got 0.5',
      'nodes[2] (v2): missing required field "label"',
      'nodes[4] (v3): "role" should be "input" or "param" or "intermediate" or "output", got "loss"',
    ]);
  });

  it("checks array summaries, including their statistics and counts", () => {
    const snapshot = seedSnapshot();
    const x = snapshot.nodes[0] as VariableNode;
    x.data = { shape: [2], dtype: "float64", size: 2, preview: "[nan nan]", min: null, max: null, mean: null, nan: 2 };
    expect(checkSnapshot(snapshot)).toEqual([]);
    x.grad = { shape: [2], dtype: "float64", size: -1, preview: "", nan: 0 };
    expect(checkSnapshot(snapshot)).toEqual([
      'nodes[0] (v1).grad: "size" should be a non-negative integer, got -1',
      'nodes[0] (v1).grad: "nan" should be a positive integer, got 0',
    ]);
  });

  it("requires every reference to name a node of the right kind, even when truncated", () => {
    const snapshot = seedSnapshot();
    snapshot.truncated = true;
    snapshot.omitted = 3;
    snapshot.edges.push({ source: "v0", target: "f1", index: 2 }, { source: "v1", target: "v2", index: 0 });
    (snapshot.nodes[2] as VariableNode).creator = "v1";
    snapshot.outputs.push("f2");
    snapshot.nodes.push({ id: "f1", kind: "function", op: "Add" });
    expect(checkSnapshot(snapshot)).toEqual([
      'nodes[5] (f1): duplicate id "f1"',
      'edges[6]: source "v0" is not a node of the snapshot',
      "edges[7]: joins two variable nodes; an edge joins a variable and a function",
      'nodes[2] (v2): creator "v1" is not a function node of the snapshot',
      'outputs[1]: "f2" is not a variable node of the snapshot',
    ]);
  });

  it("ties truncated to omitted, and checks the version and the kinds", () => {
    expect(checkSnapshot({ ...seedSnapshot(), truncated: true })).toEqual([
      'snapshot: "truncated" is true but "omitted" is 0',
    ]);
    expect(checkSnapshot({ ...seedSnapshot(), version: 2 })).toEqual(['snapshot: "version" should be 1, got 2']);
    const odd = { ...EMPTY_SNAPSHOT, nodes: [{ id: "l1", kind: "layer" }] };
    expect(checkSnapshot(odd)).toEqual(['nodes[0] (l1): "kind" should be "variable" or "function", got "layer"']);
    expect(checkSnapshot(null)).toEqual(["snapshot: expected an object, got null"]);
  });
});

describe("checkServerMessage", () => {
  it("accepts the welcome and nothing else", () => {
    expect(checkServerMessage({ type: "welcome" })).toEqual([]);
    expect(checkServerMessage({ type: "welcome", extra: 1 })).toEqual(['message: unknown field "extra"']);
    expect(checkServerMessage({ type: "hello" })).toEqual(['message: "type" should be "welcome", got "hello"']);
  });
});

describe("CONTRACT_FIELDS", () => {
  it("lists every field once", () => {
    for (const [shape, { required, optional }] of Object.entries(CONTRACT_FIELDS)) {
      const all = [...required, ...optional];
      expect(new Set(all).size, shape).toBe(all.length);
    }
  });
});
