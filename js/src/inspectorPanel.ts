// The inspector panel's content for one node: its fields and full array summaries, as text only.
import { boundedText, compactNumber, nodeTitle, opText, summaryRows } from "./format";
import { ACTION, type ArraySummary, ATTR, type GraphNode, MAX_STATUS_CHARS, NODE_KIND, ROLE } from "./protocol";
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
