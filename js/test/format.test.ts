// Unit tests of format.ts: shapes, labels, previews, numbers and wrapping.
import { describe, expect, it } from "vitest";
import {
  formatNumber,
  formatShape,
  previewText,
  summaryRows,
  truncationNote,
  variableLabel,
  wrapPreview,
} from "../src/format";
import type { VariableNode } from "../src/protocol";

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

  it("labels unnamed variables by shape and dtype", () => {
    expect(variableLabel(unnamed)).toBe("(2, 3) float32");
    expect(variableLabel({ ...unnamed, label: "W1" })).toBe("W1");
    expect(variableLabel({ ...unnamed, shape: null, dtype: null })).toBe("Variable");
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
    expect(summaryRows(null)).toEqual([]);
  });

  it("words the truncation note", () => {
    expect(truncationNote(500, 1234)).toBe("Showing 500 nodes; 1234 nodes left out (max_nodes)");
  });

  it("wraps long previews losslessly, at spaces and newlines", () => {
    const preview = "[[-0.0043, 0.1554, -0.0276, 0.4836], [-0.0011, 0.1839, -0.0442, 0.5532]]";
    const lines = wrapPreview(preview, 30);
    expect(lines.join("")).toBe(preview);
    expect(lines).toEqual(["[[-0.0043, 0.1554, -0.0276, ", "0.4836], [-0.0011, 0.1839, ", "-0.0442, 0.5532]]"]);
    expect(wrapPreview("3.0")).toEqual(["3.0"]);
    expect(wrapPreview("")).toEqual([""]);
    expect(wrapPreview("[[1. 2.]\n [3. 4.]]")).toEqual(["[[1. 2.]\n", " [3. 4.]]"]);
    expect(wrapPreview("x".repeat(70), 30)).toEqual(["x".repeat(30), "x".repeat(30), "x".repeat(10)]);
  });
});
