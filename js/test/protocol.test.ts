// Unit tests of protocol.ts: the run-time contract checks.
import { describe, expect, it } from "vitest";
import {
  CONTRACT_FIELDS,
  checkHistory,
  checkServerMessage,
  checkSnapshot,
  EMPTY_HISTORY,
  EMPTY_SNAPSHOT,
  HISTORY_POINTS,
  type VariableNode,
} from "../src/protocol";
import { arraySummary, chainSnapshot, lossHistory, seedSnapshot } from "./fixtures";

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

  it("checks norms, the sampled flag and thumbnails, cell by cell", () => {
    const snapshot = seedSnapshot();
    const x = snapshot.nodes[0] as VariableNode;
    x.data = { ...arraySummary([2, 2], [1, Number.NaN, Number.POSITIVE_INFINITY, -2]), sampled: true };
    x.grad = arraySummary([4], [0.5, -1, 0, 2], true);
    expect(checkSnapshot(snapshot)).toEqual([]);
    const thumbnail = x.grad.thumbnail!;
    x.grad.norm = Number.NaN;
    x.data.sampled = false;
    x.grad.thumbnail = { ...thumbnail, rows: 0, lo: "a" as unknown as number };
    expect(checkSnapshot(snapshot)).toEqual([
      'nodes[0] (v1).data: "sampled" should be true, got false',
      'nodes[0] (v1).grad: "norm" should be a finite number or null, got NaN',
      'nodes[0] (v1).grad.thumbnail: "rows" should be an integer from 1 to 16, got 0',
      'nodes[0] (v1).grad.thumbnail: "lo" should be a finite number, got "a"',
    ]);
    x.data.sampled = true;
    x.grad.norm = 2.3;
    x.grad.thumbnail = { ...thumbnail, cols: 3 };
    expect(checkSnapshot(snapshot)).toEqual([
      'nodes[0] (v1).grad.thumbnail: "cells" holds 4 bytes, expected rows x cols = 3',
    ]);
    x.grad.thumbnail = { ...thumbnail, lo: 3, cells: btoa(String.fromCharCode(0, 254, 1, 2)) };
    expect(checkSnapshot(snapshot)).toEqual([
      'nodes[0] (v1).grad.thumbnail: "lo" (3) is above "hi" (2)',
      "nodes[0] (v1).grad.thumbnail: cell 1 is 254, past the last code 253",
    ]);
    x.grad.thumbnail = { ...thumbnail, cells: "not base64!", extra: 1 } as typeof thumbnail;
    expect(checkSnapshot(snapshot)).toEqual([
      'nodes[0] (v1).grad.thumbnail: "cells" should be a base64 string, got "not base64!"',
      'nodes[0] (v1).grad.thumbnail: unknown field "extra"',
    ]);
  });

  it("accepts omittedAtLeast only as true, on a truncated snapshot", () => {
    const snapshot = { ...seedSnapshot(), truncated: true, omitted: 3, omittedAtLeast: true as const };
    expect(checkSnapshot(snapshot)).toEqual([]);
    expect(checkSnapshot({ ...snapshot, truncated: false, omitted: 0 })).toEqual([
      'snapshot: "omittedAtLeast" is set but "truncated" is not true',
    ]);
    expect(checkSnapshot({ ...snapshot, omittedAtLeast: false })).toEqual([
      'snapshot: "omittedAtLeast" should be true, got false',
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

describe("checkHistory", () => {
  it("accepts the default and watch.py's histories, capped at HISTORY_POINTS", () => {
    expect(checkHistory(EMPTY_HISTORY)).toEqual([]);
    expect(checkHistory(lossHistory(3))).toEqual([]);
    expect(checkHistory(lossHistory(1000))).toEqual([]);
    expect(lossHistory(1000).values.length).toBe(HISTORY_POINTS);
    expect(checkHistory({ label: "loss", values: [1, null, 0.5], steps: [1, 2, 3], total: 3 })).toEqual([]);
  });

  it("names what is wrong", () => {
    expect(checkHistory({ label: "loss", values: [1, "x"], steps: [1, 0], total: 2 })).toEqual([
      'history: "values" should be a list of finite numbers or nulls, got [1,"x"]',
      'history: "steps" should be a list of positive integers, got [1,0]',
    ]);
    expect(checkHistory({ label: "loss", values: [1, 2], steps: [2, 1, 3], total: 2 })).toEqual([
      "history: 2 values but 3 steps",
      "history: steps do not rise",
      'history: step 3 is past "total" (2)',
    ]);
    expect(checkHistory({ ...lossHistory(HISTORY_POINTS + 1, HISTORY_POINTS + 1) })).toEqual([
      `history: ${HISTORY_POINTS + 1} values, more than HISTORY_POINTS (${HISTORY_POINTS})`,
    ]);
    expect(checkHistory({ values: [] })).toEqual([
      'history: missing required field "label"',
      'history: missing required field "steps"',
      'history: missing required field "total"',
    ]);
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
