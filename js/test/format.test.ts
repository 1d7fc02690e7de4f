// Unit tests of format.ts: shapes, labels, previews, numbers and wrapping.
import { describe, expect, it } from "vitest";
import {
  compactNumber,
  dataLine,
  formatNumber,
  formatShape,
  gradLine,
  historyCaption,
  nodeTitle,
  outputNames,
  previewText,
  shapeDetail,
  summaryRows,
  truncationNote,
  variableLabel,
} from "../src/format";
import type { ArraySummary, GraphNode, VariableNode } from "../src/protocol";
import { arraySummary, scalar, seedSnapshot } from "./fixtures";

const unnamed: VariableNode = {
  id: "v9",
  kind: "variable",
  label: "",
  shape: [2, 3],
  dtype: "float32",
  data: null,
  grad: null,
  role: "intermediate",
};

describe("format", () => {
  it("spells shapes as Python tuples", () => {
    expect(formatShape([])).toBe("()");
    expect(formatShape([3])).toBe("(3,)");
    expect(formatShape([2, 3])).toBe("(2, 3)");
  });

  it("labels a variable by its name, else by what made it, never by its dtype", () => {
    expect(variableLabel({ ...unnamed, label: "W1" }, "Add")).toBe("W1");
    expect(variableLabel(unnamed, "MatMul")).toBe("out of MatMul");
    expect(variableLabel(unnamed)).toBe("");
  });

  it("gives shape and dtype as a secondary text: no () for scalars, no float64", () => {
    expect(shapeDetail(unnamed)).toBe("(2, 3) float32");
    expect(shapeDetail({ shape: [100, 1], dtype: "float64" })).toBe("(100, 1)");
    expect(shapeDetail({ shape: [], dtype: "float64" })).toBe("");
    expect(shapeDetail({ shape: [], dtype: "int64" })).toBe("int64");
    expect(shapeDetail({ shape: null, dtype: null })).toBe("");
  });

  it("titles nodes for the inspector and the output selector without ids", () => {
    const snapshot = seedSnapshot();
    const byId = new Map<string, GraphNode>(snapshot.nodes.map((node) => [node.id, node]));
    expect(snapshot.nodes.map((node) => nodeTitle(node, byId))).toEqual(["x", "Add", "out of Add", "Add", "y"]);
    expect(nodeTitle(unnamed, byId)).toBe("variable (2, 3) float32");
    expect(nodeTitle({ ...unnamed, shape: [], dtype: "float64" }, byId)).toBe("variable");
    byId.set("v4", { ...(byId.get("v3") as VariableNode), id: "v4" });
    byId.set("v5", { ...(byId.get("v2") as VariableNode), id: "v5" });
    expect(outputNames(["v3", "v4", "v2", "v5", "v3"], byId)).toEqual([
      "y",
      "y (2)",
      "out of Add",
      "out of Add (2)",
      "y (3)",
    ]);
  });
  it("shows a missing grad as exactly None", () => {
    expect(previewText(null)).toBe("None");
    expect(previewText({ shape: [], dtype: "float64", size: 1, preview: "3.0" })).toBe("3.0");
  });

  it("formats statistics without float noise", () => {
    expect(formatNumber(0.1 + 0.2)).toBe("0.3");
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(null)).toBe("–");
    expect(formatNumber(Infinity)).toBe("inf");
    expect(formatNumber(1234567.891)).toBe("1234570");
  });

  it("lists stats and non-finite counts for the inspector", () => {
    const rows = summaryRows({
      shape: [4],
      dtype: "float64",
      size: 4,
      preview: "[1. nan inf 2.]",
      min: 1,
      max: 2,
      mean: 1.5,
      nan: 1,
      posinf: 1,
    });
    expect(Object.fromEntries(rows)).toEqual({
      shape: "(4,)",
      dtype: "float64",
      size: "4",
      min: "1",
      max: "2",
      mean: "1.5",
      NaN: "1",
      "+Inf": "1",
      "-Inf": "0",
      preview: "[1. nan inf 2.]",
    });
    const big = Object.fromEntries(
      summaryRows({ shape: [1000000], dtype: "float64", size: 1000000, preview: "[…]", norm: 12.5, sampled: true }),
    );
    expect(big.norm).toBe("12.5");
    expect(big.sampled).toMatch(/sample/);
    expect(summaryRows(null)).toEqual([]);
  });

  it("words the truncation note, with 'at least' when tracing stopped counting", () => {
    expect(truncationNote(500, 1234)).toBe("Showing 500 nodes; 1234 nodes left out (max_nodes)");
    expect(truncationNote(500, 1234, true)).toBe("Showing 500 nodes; at least 1234 more left out (max_nodes)");
  });

  it("writes numbers in three significant digits for one-line summaries", () => {
    expect(compactNumber(0.52345)).toBe("0.523");
    expect(compactNumber(-1.2)).toBe("-1.2");
    expect(compactNumber(123.456)).toBe("123");
    expect(compactNumber(3)).toBe("3");
    expect(compactNumber(0)).toBe("0");
    expect(compactNumber(0.000012345)).toBe("1.23e-5");
    expect(compactNumber(-2.5e7)).toBe("-2.5e7");
    expect(compactNumber(Number.NaN)).toBe("nan");
    expect(compactNumber(Number.NEGATIVE_INFINITY)).toBe("-inf");
  });

  it("shows a short scalar exactly, a long one in eight digits as numpy prints it, a missing one as None", () => {
    expect(dataLine(scalar(3))).toBe("3.0");
    expect(gradLine(scalar(1))).toBe("1.0");
    const long: ArraySummary = { shape: [], dtype: "float64", size: 1, preview: "3.8804392764026168" };
    expect(dataLine(long)).toBe("3.8804393");
    expect(gradLine(long)).toBe("3.8804393");
    expect(dataLine({ ...long, preview: "0.1250000001" })).toBe("0.125");
    expect(dataLine({ ...long, preview: "-1.2345678901234567e-12" })).toBe("-1.2345679e-12");
    expect(dataLine({ ...long, preview: "1.5e-12" })).toBe("1.5e-12");
    expect(dataLine({ ...long, preview: "0.12345678" })).toBe("0.12345678"); // as numpy prints it: exact
    expect(dataLine({ ...long, preview: "nan" })).toBe("nan");
    expect(dataLine(null)).toBe("None");
    expect(gradLine(null)).toBe("None");
  });

  it("shows an array's data as its range and its grad as its norm, on one line", () => {
    const values = Array.from({ length: 12 }, (_, k) => (k - 4) * 0.37);
    expect(dataLine(arraySummary([3, 4], values))).toBe("[-1.48 … 2.59]");
    expect(gradLine(arraySummary([3, 4], values, true))).toBe("‖g‖ 4.82");
    // Tiny arrays whose preview is short show it whole.
    expect(dataLine({ shape: [2], dtype: "float64", size: 2, preview: "[1. 2.]", min: 1, max: 2 })).toBe("[1. 2.]");
    expect(gradLine({ shape: [2], dtype: "float64", size: 2, preview: "[1. 2.]", min: 1, max: 2, norm: 2.2 })).toBe(
      "[1. 2.]",
    );
  });

  it("counts NaN and infinities after the range, and copes with no statistics at all", () => {
    const values = [1, Number.NaN, 3, Number.POSITIVE_INFINITY, -2, Number.NEGATIVE_INFINITY, Number.NaN, 0];
    expect(dataLine(arraySummary([8], values))).toBe("[-2 … 3] · 2 nan · 1 +inf · 1 -inf");
    expect(gradLine(arraySummary([8], values, true))).toBe("‖g‖ 3.74 · 2 nan · 1 +inf · 1 -inf");
    const allNan = arraySummary([6], Array(6).fill(Number.NaN));
    expect(dataLine(allNan)).toBe("6 nan");
    const words: ArraySummary = {
      shape: [40],
      dtype: "<U5",
      size: 40,
      preview: "['alpha' 'beta' 'gamma' ... 'omega']",
    };
    expect(dataLine(words)).toBe("['alpha' 'beta' 'gamma'…");
  });

  it("captions the history chart with the newest value and the number of steps", () => {
    expect(historyCaption("loss", 0.41712, 300)).toBe("loss 0.417 after 300 steps");
    expect(historyCaption("", 2, 2)).toBe("loss 2 after 2 steps");
    expect(historyCaption("y", null, 7)).toBe("y nan after 7 steps");
  });
});
