// The inspector panel's content for one node: its fields and full array summaries, as text only.
import { boundedText, compactNumber, dataLine, gradLine, nodeTitle, opText, summaryRows } from "./format";
import {
  ACTION,
  type ArraySummary,
  ATTR,
  type GraphNode,
  MAX_STATUS_CHARS,
  NODE_KIND,
  ROLE,
  type VariableNode,
} from "./protocol";
import type { Contribution } from "./stepping";
import { type Palette, thumbnailSize, thumbnailUrl } from "./thumbnail";

/** The inspector draws a thumbnail this many times its size in a node. */
const INSPECTOR_THUMB_SCALE = 3;

function table(doc: Document, rows: Array<[string, string]>): HTMLTableElement {
  const element = doc.createElement("table");
  for (const [key, value] of rows) {
    const row = element.insertRow();
    row.insertCell().textContent = key;
    row.insertCell().textContent = boundedText(value, MAX_STATUS_CHARS);
  }
  return element;
}

/** A bigger heatmap of the array, with what its colours mean. */
function heatmap(doc: Document, summary: ArraySummary, palette: Palette): HTMLElement | null {
  const thumbnail = summary.thumbnail;
  if (!thumbnail) return null;
  const figure = doc.createElement("figure");
  figure.className = "dzw-heatmap";
  const image = doc.createElement("img");
  const size = thumbnailSize(thumbnail);
  image.src = thumbnailUrl(thumbnail, palette);
  image.width = size.width * INSPECTOR_THUMB_SCALE;
  image.height = size.height * INSPECTOR_THUMB_SCALE;
  image.alt = `heatmap of ${thumbnail.rows} x ${thumbnail.cols} elements`;
  const caption = doc.createElement("figcaption");
  const lines =
    palette === "diverging"
      ? [`blue ${compactNumber(thumbnail.lo)} · white 0 · red ${compactNumber(thumbnail.hi)}`]
      : [`purple ${compactNumber(thumbnail.lo)} … yellow ${compactNumber(thumbnail.hi)}`];
  const grid = summary.shape.length === 1 ? [1, summary.shape[0]] : summary.shape;
  if (grid[0] !== thumbnail.rows || grid[1] !== thumbnail.cols) {
    lines.push(`${thumbnail.rows} x ${thumbnail.cols} evenly spaced elements shown`);
  }
  const specials: Array<[number | undefined, string]> = [
    [summary.nan, "magenta NaN"],
    [summary.posinf, "black +Inf"],
    [summary.neginf, "grey -Inf"],
  ];
  const shown = specials.filter(([count]) => count).map(([, name]) => name);
  if (shown.length) lines.push(shown.join(" · "));
  caption.textContent = lines.join("\n");
  figure.append(image, caption);
  return figure;
}

function arraySection(
  doc: Document,
  title: string,
  role: string,
  summary: ArraySummary | null,
  palette: Palette,
): HTMLElement {
  const section = doc.createElement("section");
  section.setAttribute(ATTR.role, role);
  const heading = doc.createElement("h5");
  heading.textContent = title;
  section.appendChild(heading);
  const figure = summary && heatmap(doc, summary, palette);
  if (figure) section.appendChild(figure);
  if (summary) section.appendChild(table(doc, summaryRows(summary)));
  else {
    const none = doc.createElement("div");
    none.textContent = "None";
    section.appendChild(none);
  }
  return section;
}

/**
 * Fills `panel` for `node`. `byId` resolves the creator and the neighbours' names; `onClose`
 * is wired to the close button.
 */
export function fillPanel(
  panel: HTMLElement,
  node: GraphNode,
  byId: Map<string, GraphNode>,
  neighbours: { inputs: string[]; outputs: string[] },
  onClose: () => void,
): void {
  const doc = panel.ownerDocument;
  panel.replaceChildren();
  const heading = doc.createElement("h4");
  const title = doc.createElement("span");
  title.textContent = `${node.kind === NODE_KIND.variable ? "Variable" : "Function"} ${nodeTitle(node, byId)}`;
  const close = doc.createElement("button");
  close.type = "button";
  close.textContent = "×";
  close.title = "Close";
  close.setAttribute(ATTR.action, ACTION.closeInspector);
  close.addEventListener("click", onClose);
  heading.append(title, close);
  panel.appendChild(heading);

  const describe = (id: string) => {
    const other = byId.get(id);
    return other ? `${nodeTitle(other, byId)} (${id})` : id;
  };
  const rows: Array<[string, string]> = [["id", node.id]];
  if (node.kind === NODE_KIND.variable) {
    rows.push(["role", node.role]);
    rows.push(["creator", node.creator ? describe(node.creator) : "None"]);
  } else {
    rows.push(["op", opText(node)]);
    rows.push(["inputs", neighbours.inputs.map(describe).join(", ") || "–"]);
    rows.push(["outputs", neighbours.outputs.map(describe).join(", ") || "–"]);
  }
  rows.push(["generation", node.generation === undefined ? "–" : String(node.generation)]);
  if (node.subgraph) rows.push(["graph", "grad graph (create_graph=True)"]);
  panel.appendChild(table(doc, rows));
  if (node.kind === NODE_KIND.variable) {
    panel.appendChild(arraySection(doc, "data", ROLE.inspectorData, node.data, "sequential"));
    panel.appendChild(arraySection(doc, "grad", ROLE.inspectorGrad, node.grad, "diverging"));
  }
  panel.hidden = false;
}

/** Whether two summaries show different values. */
export function summariesDiffer(before: ArraySummary | null, after: ArraySummary | null): boolean {
  if (before === null || after === null) return before !== after;
  return (
    before.preview !== after.preview ||
    before.norm !== after.norm ||
    before.min !== after.min ||
    before.max !== after.max ||
    before.thumbnail?.cells !== after.thumbnail?.cells
  );
}

/**
 * "What changed since the previous view": before -> after of the grad and the data, when they
 * differ (null when neither does).
 */
export function changeSection(doc: Document, before: VariableNode, after: VariableNode): HTMLElement | null {
  const rows: Array<[string, string]> = [];
  if (summariesDiffer(before.grad, after.grad)) {
    rows.push(["grad", `${gradLine(before.grad)} → ${gradLine(after.grad)}`]);
  }
  if (summariesDiffer(before.data, after.data)) {
    rows.push(["data", `${dataLine(before.data)} → ${dataLine(after.data)}`]);
  }
  if (rows.length === 0) return null;
  const section = doc.createElement("section");
  section.setAttribute(ATTR.role, ROLE.change);
  const heading = doc.createElement("h5");
  heading.textContent = "changed since the previous view";
  section.append(heading, table(doc, rows));
  return section;
}

/**
 * The terms of a grad, as a sum: "1.0 + 1.0 + 1.0 = 3.0", each term (one child of the
 * data-role="contributions" element) over where it came from. Terms added after the step shown
 * (`step`, null when not stepping) are dimmed.
 */
export function contributionsSection(
  doc: Document,
  sum: { terms: Contribution[]; total: string },
  step: number | null,
): HTMLElement {
  const section = doc.createElement("section");
  section.className = "dzw-contrib";
  const heading = doc.createElement("h5");
  heading.textContent = "grad = the sum of what each use sent back";
  const line = doc.createElement("div");
  line.className = "dzw-contrib-line";
  const terms = doc.createElement("div");
  terms.setAttribute(ATTR.role, ROLE.contributions);
  for (const [index, term] of sum.terms.entries()) {
    // The signs are text between the terms (not elements), so the element has one child per term.
    if (index > 0) terms.append(doc.createTextNode("+"));
    const item = doc.createElement("span");
    item.className = "dzw-term";
    if (step !== null && term.step !== null && term.step > step) item.classList.add("dzw-term-later");
    item.title = boundedText(term.title, MAX_STATUS_CHARS);
    const value = doc.createElement("span");
    value.className = "dzw-term-value";
    value.textContent = boundedText(term.value, MAX_STATUS_CHARS);
    const from = doc.createElement("span");
    from.className = "dzw-term-from";
    from.textContent = ` ${boundedText(term.from, MAX_STATUS_CHARS)}`;
    item.append(value, from);
    terms.appendChild(item);
  }
  const total = doc.createElement("span");
  total.className = "dzw-term-total";
  total.textContent = `= ${boundedText(sum.total, MAX_STATUS_CHARS)}`;
  line.append(terms, total);
  section.append(heading, line);
  return section;
}
