// Text for snapshot values (labels, previews, numbers, notes), shared by node texts, inspector and toolbar.
import { type ArraySummary, type GraphNode, NODE_KIND, type VariableNode } from "./protocol";

/** Python's tuple spelling of a shape: (), (3,), (2, 3). */
export function formatShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** The label a variable node shows: its name, else its shape and dtype. */
export function variableLabel(node: VariableNode): string {
  if (node.label) return node.label;
  if (node.shape && node.dtype) return `${formatShape(node.shape)} ${node.dtype}`;
  return "Variable";
}

/** Data or grad as the node shows it: the snapshot's preview, or exactly "None". */
export function previewText(summary: ArraySummary | null | undefined): string {
  return summary ? summary.preview : "None";
}

/** Longest line of a value inside a node; longer previews wrap, so array nodes stay compact. */
const PREVIEW_LINE_CHARS = 30;

/**
 * Splits a preview into lines of at most `maxChars`, after a space or newline when one is near
 * the end of the line. Lossless: the lines joined give back `text`, so the node's text is the
 * snapshot's preview exactly.
 */
export function wrapPreview(text: string, maxChars = PREVIEW_LINE_CHARS): string[] {
  const lines: string[] = [];
  let start = 0;
  while (text.length - start > maxChars || text.indexOf("\n", start) >= 0) {
    const window = text.slice(start, start + maxChars + 1);
    const newline = window.indexOf("\n");
    let cut: number;
    if (newline >= 0 && newline < maxChars) cut = newline + 1;
    else {
      const space = window.lastIndexOf(" ", maxChars - 1);
      cut = space >= maxChars / 2 ? space + 1 : maxChars;
    }
    lines.push(text.slice(start, start + cut));
    start += cut;
  }
  if (start < text.length || lines.length === 0) lines.push(text.slice(start));
  return lines;
}

/** A statistic with enough digits to compare values, without float noise. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e15) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** Rows of the inspector's table for one array; empty when there is no array. */
export function summaryRows(summary: ArraySummary | null): Array<[string, string]> {
  if (!summary) return [];
  const rows: Array<[string, string]> = [
    ["shape", formatShape(summary.shape)],
    ["dtype", summary.dtype],
    ["size", String(summary.size)],
  ];
  if (summary.min !== undefined || summary.max !== undefined || summary.mean !== undefined) {
    rows.push(["min", formatNumber(summary.min)]);
    rows.push(["max", formatNumber(summary.max)]);
    rows.push(["mean", formatNumber(summary.mean)]);
  }
  const nonFinite = [
    ["NaN", summary.nan],
    ["+Inf", summary.posinf],
    ["-Inf", summary.neginf],
  ] as const;
  for (const [name, count] of nonFinite) rows.push([name, String(count ?? 0)]);
  rows.push(["preview", summary.preview]);
  return rows;
}

/** The text users read for a node in the inspector's title and in the output selector. */
export function nodeTitle(node: GraphNode): string {
  return node.kind === NODE_KIND.variable ? variableLabel(node) : node.op;
}

export function truncationNote(shown: number, omitted: number): string {
  return `Showing ${shown} nodes; ${omitted} nodes left out (max_nodes)`;
}

export const KERNEL_MISSING_NOTE =
  "No kernel is answering (it is gone, or busy): the graph shows the last values it sent; controls are disabled until it answers.";
