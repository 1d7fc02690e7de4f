// Text for snapshot values (labels, one-line summaries, numbers, notes), shared by nodes, inspector,
// toolbar and history chart.
import {
  type ArraySummary,
  type FunctionNode,
  type GraphNode,
  MAX_LABEL_CHARS,
  MAX_STATUS_CHARS,
  NODE_KIND,
  type VariableNode,
} from "./protocol";

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * `text` as the view may show it: at most `limit` characters, the middle cut out for "…" (as
 * Python's protocol.bounded_text does), never splitting a surrogate pair.
 */
export function boundedText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const half = Math.max(0, Math.floor((limit - 1) / 2));
  let head = half;
  let tail = text.length - half;
  if (head > 0 && isHighSurrogate(text.charCodeAt(head - 1))) head--;
  if (tail < text.length && isLowSurrogate(text.charCodeAt(tail))) tail++;
  return `${text.slice(0, head)}…${text.slice(tail)}`;
}

/** A function node's op as the view shows it (bounded). */
export function opText(node: Pick<FunctionNode, "op">): string {
  return boundedText(node.op, MAX_LABEL_CHARS);
}

/** Python's tuple spelling of a shape: (), (3,), (2, 3). */
export function formatShape(shape: readonly number[]): string {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(", ")})`;
}

/** The op of the function node that made `node`, when that node is in the snapshot. */
export function creatorOp(node: VariableNode, byId: ReadonlyMap<string, GraphNode>): string | undefined {
  const creator = node.creator === undefined ? undefined : byId.get(node.creator);
  return creator?.kind === NODE_KIND.function ? creator.op : undefined;
}

/**
 * The label a variable node shows: its name, else what made it ("out of Add"), else "" (an unnamed
 * input: its node shows only its shape, on a secondary line).
 */
export function variableLabel(node: VariableNode, op?: string): string {
  if (node.label) return boundedText(node.label, MAX_LABEL_CHARS);
  return op ? `out of ${boundedText(op, MAX_LABEL_CHARS)}` : "";
}

/** A variable's secondary text: its shape unless a scalar's, and its dtype unless float64 (bounded). */
export function shapeDetail(node: Pick<VariableNode, "shape" | "dtype">): string {
  const parts: string[] = [];
  if (node.shape && node.shape.length > 0) parts.push(formatShape(node.shape));
  if (node.dtype && node.dtype !== "float64") parts.push(node.dtype);
  return boundedText(parts.join(" "), MAX_LABEL_CHARS);
}

/** Data or grad as the inspector shows it: the snapshot's preview (bounded), or exactly "None". */
export function previewText(summary: ArraySummary | null | undefined): string {
  return summary ? boundedText(summary.preview, MAX_STATUS_CHARS) : "None";
}

/** A number in at most three significant digits: for one-line summaries, not for comparing. */
export function compactNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return "–";
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) {
    const [mantissa, exponent] = value.toExponential(2).split("e");
    return `${mantissa.replace(/\.?0+$/, "")}e${exponent.replace("+", "")}`;
  }
  return String(Number(value.toPrecision(3)));
}

/** A preview short enough to stand for the whole array in a node. */
const SHORT_PREVIEW = { chars: 16, elements: 4 } as const;
/** Longest one-line summary when only the preview can be shown (a string or object array). */
const SUMMARY_MAX_CHARS = 24;

function isShortPreview(summary: ArraySummary): boolean {
  if (summary.size <= 1) return true; // a scalar shows its value exactly
  return (
    summary.size <= SHORT_PREVIEW.elements &&
    summary.preview.length <= SHORT_PREVIEW.chars &&
    !summary.preview.includes("…") &&
    !summary.preview.includes("...")
  );
}

/** "3 nan · 1 +inf": the non-finite counts ("" when every value is finite). */
function nonFiniteCounts(summary: ArraySummary): string {
  const parts: string[] = [];
  if (summary.nan) parts.push(`${summary.nan} nan`);
  if (summary.posinf) parts.push(`${summary.posinf} +inf`);
  if (summary.neginf) parts.push(`${summary.neginf} -inf`);
  return parts.join(" · ");
}

/** `main`, followed by the non-finite counts; just the counts when there is no main text. */
function withCounts(main: string | null, summary: ArraySummary): string {
  const counts = nonFiniteCounts(summary);
  if (main === null) {
    if (counts) return counts;
    const preview = summary.preview;
    return preview.length <= SUMMARY_MAX_CHARS ? preview : `${preview.slice(0, SUMMARY_MAX_CHARS - 1)}…`;
  }
  return counts ? `${main} · ${counts}` : main;
}

function rangeText(summary: ArraySummary): string | null {
  const { min, max } = summary;
  if (typeof min !== "number" || typeof max !== "number") return null;
  return `[${compactNumber(min)} … ${compactNumber(max)}]`;
}

/** Python's repr of a float with more digits than numpy prints: "0.17669833939322335". */
const LONG_FLOAT = /^-?\d+\.\d{9,}$|^-?\d+\.\d{8,}e[-+]?\d+$/;
const NODE_DIGITS = 8; // numpy's default print precision

/**
 * A scalar's preview as a node shows it: short ones exactly ("3.0" stays "3.0"), a long float in
 * eight significant digits, as numpy prints it ("0.17669834"); the inspector has the exact value.
 */
export function scalarText(preview: string): string {
  if (!LONG_FLOAT.test(preview)) return preview;
  const rounded = Number(preview).toPrecision(NODE_DIGITS);
  if (rounded.includes("e")) return rounded.replace(/\.?0+e/, "e").replace("e+", "e");
  return rounded.replace(/(\.\d*?)0+$/, "$1").replace(/\.$/, ".0");
}

/**
 * A variable's data on one line: "None"; a scalar's value (past eight digits rounded); a tiny
 * array's preview exactly; else the
 * range of its finite values ("[-1.2 … 3.4]") and how many are not finite.
 */
export function dataLine(summary: ArraySummary | null | undefined): string {
  if (!summary) return "None";
  if (summary.size === 1) return scalarText(boundedText(summary.preview, MAX_LABEL_CHARS));
  if (isShortPreview(summary)) return boundedText(summary.preview, MAX_LABEL_CHARS);
  return withCounts(rangeText(summary), summary);
}

/** A variable's grad on one line: as dataLine, with the norm ("‖g‖ 0.52") in place of the range. */
export function gradLine(summary: ArraySummary | null | undefined): string {
  if (!summary) return "None";
  if (summary.size === 1) return scalarText(boundedText(summary.preview, MAX_LABEL_CHARS));
  if (isShortPreview(summary)) return boundedText(summary.preview, MAX_LABEL_CHARS);
  const norm = typeof summary.norm === "number" ? `‖g‖ ${compactNumber(summary.norm)}` : null;
  return withCounts(norm ?? rangeText(summary), summary);
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
    ["shape", boundedText(formatShape(summary.shape), MAX_LABEL_CHARS)],
    ["dtype", boundedText(summary.dtype, MAX_LABEL_CHARS)],
    ["size", String(summary.size)],
  ];
  if (summary.min !== undefined || summary.max !== undefined || summary.mean !== undefined) {
    rows.push(["min", formatNumber(summary.min)]);
    rows.push(["max", formatNumber(summary.max)]);
    rows.push(["mean", formatNumber(summary.mean)]);
  }
  if (summary.norm !== undefined) rows.push(["norm", formatNumber(summary.norm)]);
  const nonFinite = [
    ["NaN", summary.nan],
    ["+Inf", summary.posinf],
    ["-Inf", summary.neginf],
  ] as const;
  for (const [name, count] of nonFinite) rows.push([name, String(count ?? 0)]);
  if (summary.sampled) rows.push(["sampled", "yes: statistics of an evenly spaced sample"]);
  rows.push(["preview", previewText(summary)]);
  return rows;
}

/**
 * The text users read for a node in the inspector's title and in the output selector: a function's
 * op; a variable's label, else "variable" and its shape. `byId` resolves what made an unnamed one.
 */
export function nodeTitle(node: GraphNode, byId: ReadonlyMap<string, GraphNode>): string {
  if (node.kind === NODE_KIND.function) return opText(node);
  const label = variableLabel(node, creatorOp(node, byId));
  if (label) return label;
  const detail = shapeDetail(node);
  return detail ? `variable ${detail}` : "variable";
}

/** Readable, distinct names for the output selector: titles, repeats numbered ("y", "y (2)"). */
export function outputNames(ids: readonly string[], byId: ReadonlyMap<string, GraphNode>): string[] {
  const used = new Set<string>();
  return ids.map((id) => {
    const node = byId.get(id);
    const title = node ? nodeTitle(node, byId) : "output";
    let name = title;
    for (let k = 2; used.has(name); k++) name = `${title} (${k})`;
    used.add(name);
    return name;
  });
}

export function truncationNote(shown: number, omitted: number, atLeast = false): string {
  return atLeast
    ? `Showing ${shown} nodes; at least ${omitted} more left out (max_nodes)`
    : `Showing ${shown} nodes; ${omitted} nodes left out (max_nodes)`;
}

/** The history chart's caption: "loss 0.417 after 300 steps". */
export function historyCaption(label: string, newest: number | null | undefined, total: number): string {
  const value = newest === null || newest === undefined ? "nan" : compactNumber(newest);
  return `${boundedText(label, MAX_LABEL_CHARS) || "loss"} ${value} after ${total} ${total === 1 ? "step" : "steps"}`;
}

/** Longest problem the error line quotes. */
const PROBLEM_MAX_CHARS = 200;

/** The error line's note that a value was ignored: its first problem (bounded) and how many more. */
export function ignoredNote(what: string, problems: readonly string[]): string {
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return `${what} ignored: ${boundedText(problems[0] ?? "", PROBLEM_MAX_CHARS)}${more}`;
}

export const KERNEL_MISSING_NOTE =
  "No kernel is answering (it is gone, or busy): the graph shows the last values it sent; controls are disabled until it answers.";
