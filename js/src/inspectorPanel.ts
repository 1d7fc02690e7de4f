// The inspector panel's content for one node: its fields and full array summaries, as text only.
import { nodeTitle, summaryRows } from "./format";
import { ACTION, type ArraySummary, ATTR, type GraphNode, NODE_KIND, ROLE } from "./protocol";

function table(doc: Document, rows: Array<[string, string]>): HTMLTableElement {
  const element = doc.createElement("table");
  for (const [key, value] of rows) {
    const row = element.insertRow();
    row.insertCell().textContent = key;
    row.insertCell().textContent = value;
  }
  return element;
}

function arraySection(doc: Document, title: string, role: string, summary: ArraySummary | null): HTMLElement {
  const section = doc.createElement("section");
  section.setAttribute(ATTR.role, role);
  const heading = doc.createElement("h5");
  heading.textContent = title;
  section.appendChild(heading);
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
  title.textContent = `${node.kind === NODE_KIND.variable ? "Variable" : "Function"} ${nodeTitle(node)}`;
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
    return other ? `${nodeTitle(other)} (${id})` : id;
  };
  const rows: Array<[string, string]> = [["id", node.id]];
  if (node.kind === NODE_KIND.variable) {
    rows.push(["role", node.role]);
    rows.push(["creator", node.creator ? describe(node.creator) : "None"]);
  } else {
    rows.push(["op", node.op]);
    rows.push(["inputs", neighbours.inputs.map(describe).join(", ") || "–"]);
    rows.push(["outputs", neighbours.outputs.map(describe).join(", ") || "–"]);
  }
  rows.push(["generation", node.generation === undefined ? "–" : String(node.generation)]);
  if (node.subgraph) rows.push(["graph", "grad graph (create_graph=True)"]);
  panel.appendChild(table(doc, rows));
  if (node.kind === NODE_KIND.variable) {
    panel.appendChild(arraySection(doc, "data", ROLE.inspectorData, node.data));
    panel.appendChild(arraySection(doc, "grad", ROLE.inspectorGrad, node.grad));
  }
  panel.hidden = false;
}
