// "Check gradient" in the inspector: the button that asks the kernel for a numerical check of a
// variable's grad, and the result the checks trait brings back, as text.
import { html } from "./dom";
import { boundedText } from "./format";
import { ACTION, ATTR, type GradCheck, type GraphNode, MAX_STATUS_CHARS, ROLE } from "./protocol";
import { variableName } from "./stepping";

/** An error in two significant digits: "2.1e-11", "0.5", "0". */
export function errorText(value: number | null): string {
  if (value === null) return "–";
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return "inf";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e4) return String(Number(value.toPrecision(2)));
  const [mantissa, exponent] = value.toExponential(1).split("e");
  return `${mantissa.replace(/\.0$/, "")}e${exponent.replace("+", "")}`;
}

/** A check's verdict: "✓ Gradient check passed" or "✗ Gradient check failed". */
export function verdictText(check: GradCheck): string {
  return check.ok ? "✓ Gradient check passed" : "✗ Gradient check failed";
}

/** A check's numbers, as rows of the inspector's table. */
export function checkRows(check: GradCheck, byId: ReadonlyMap<string, GraphNode>): Array<[string, string]> {
  return [
    ["largest abs. error", errorText(check.maxAbs)],
    ["largest rel. error", errorText(check.maxRel)],
    ["elements checked", `${check.checked} of ${check.size}`],
    ["output", check.output ? variableName(check.output, byId) : "–"],
  ];
}

/** What the inspector's check section needs besides the node. */
export interface CheckSectionState {
  check: GradCheck | undefined;
  /** A check was asked for and its answer has not come yet. */
  pending: boolean;
  /** A kernel answers (the button is disabled otherwise). */
  enabled: boolean;
  byId: ReadonlyMap<string, GraphNode>;
  /** Asks the kernel to check the grad of `node`. */
  request(node: string): void;
}

/** The inspector's "Check gradient" section for a variable. */
export function checkSection(doc: Document, node: GraphNode, state: CheckSectionState): HTMLElement {
  const section = html(doc, "section", { class: "dzw-check" });
  const button = html(
    doc,
    "button",
    {
      type: "button",
      [ATTR.action]: ACTION.gradCheck,
      title: "Compare this grad with a numerical gradient (central differences) of the output",
    },
    state.pending ? "Checking…" : "Check gradient",
  );
  button.disabled = !state.enabled;
  button.addEventListener("click", () => state.request(node.id));
  section.appendChild(button);
  if (state.check) {
    const result = html(doc, "div", {
      class: `dzw-check-result dzw-check-${state.check.ok ? "pass" : "fail"}`,
      [ATTR.role]: ROLE.gradCheck,
      [ATTR.ok]: String(state.check.ok),
    });
    const verdict = html(doc, "div", { class: "dzw-check-verdict" }, verdictText(state.check));
    const table = doc.createElement("table");
    for (const [key, value] of checkRows(state.check, state.byId)) {
      const row = table.insertRow();
      row.insertCell().textContent = key;
      row.insertCell().textContent = boundedText(value, MAX_STATUS_CHARS);
    }
    result.append(verdict, table);
    if (state.check.message) {
      result.appendChild(html(doc, "div", {}, boundedText(state.check.message, MAX_STATUS_CHARS)));
    }
    section.appendChild(result);
  }
  return section;
}
