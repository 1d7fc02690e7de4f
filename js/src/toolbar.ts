// Toolbar and status row: control buttons, output selector, and the status, connection, truncation and error lines.
import { html } from "./dom";
import { boundedText, outputNames, truncationNote } from "./format";
import { ACTION, ATTR, type GraphNode, MAX_STATUS_CHARS, ROLE, type Snapshot } from "./protocol";

/** What the buttons do; the toolbar itself only knows its elements. */
export interface ToolbarActions {
  /** `output`: the node id chosen in the output selector, when it is shown. */
  backward(output?: string): void;
  reset(): void;
  fit(): void;
  zoomIn(): void;
  zoomOut(): void;
  exportSvg(): void;
  exportPng(): void;
}

export class Toolbar {
  /** The toolbar row and the status row, in page order. */
  readonly rows: [HTMLDivElement, HTMLDivElement];
  private readonly backwardButton: HTMLButtonElement;
  private readonly outputSelect: HTMLSelectElement;
  private readonly resetButton: HTMLButtonElement;
  private readonly statusText: HTMLSpanElement;
  private readonly connectionNote: HTMLSpanElement;
  private readonly truncatedNote: HTMLSpanElement;
  private readonly errorLine: HTMLSpanElement;
  /** Where controls added by other parts go: after Reset, before the view controls. */
  private readonly spacer: HTMLSpanElement;

  constructor(
    private readonly doc: Document,
    actions: ToolbarActions,
  ) {
    const button = (action: string, title: string, text: string) =>
      html(doc, "button", { type: "button", [ATTR.action]: action, title }, text);
    this.backwardButton = button(ACTION.backward, "Run backward() from the output", "Backward");
    this.outputSelect = html(doc, "select", { [ATTR.role]: ROLE.outputSelect, title: "Output to run backward() from" });
    this.outputSelect.hidden = true;
    this.resetButton = button(ACTION.reset, "cleargrad() on every variable", "Reset grads");
    const zoomOutButton = button(ACTION.zoomOut, "Zoom out (or Ctrl + wheel)", "−");
    const zoomInButton = button(ACTION.zoomIn, "Zoom in (or Ctrl + wheel)", "+");
    const fitButton = button(ACTION.fit, "Show the whole graph, however small", "Fit");
    const svgButton = button(ACTION.exportSvg, "Download the graph as SVG", "SVG");
    const pngButton = button(ACTION.exportPng, "Download the graph as PNG", "PNG");
    const toolbar = html(doc, "div", { class: "dzw-toolbar" });
    this.spacer = html(doc, "span", { class: "dzw-spacer" });
    toolbar.append(
      this.backwardButton,
      this.outputSelect,
      this.resetButton,
      this.spacer,
      zoomOutButton,
      zoomInButton,
      fitButton,
      svgButton,
      pngButton,
    );

    this.statusText = html(doc, "span", { [ATTR.role]: ROLE.status, "aria-live": "polite" });
    this.connectionNote = html(doc, "span", { [ATTR.role]: ROLE.connection });
    // Styled by class: a CSS rule keyed on data-role would be tried on every node's data/grad text.
    this.truncatedNote = html(doc, "span", { [ATTR.role]: ROLE.truncated, class: "dzw-truncated" });
    this.truncatedNote.hidden = true;
    this.errorLine = html(doc, "span", { [ATTR.role]: ROLE.error, class: "dzw-error" });
    this.errorLine.hidden = true;
    const status = html(doc, "div", { class: "dzw-status" });
    status.append(this.statusText, this.connectionNote, this.truncatedNote, this.errorLine);
    this.rows = [toolbar, status];

    this.backwardButton.addEventListener("click", () => {
      const chosen = !this.outputSelect.hidden && this.outputSelect.value;
      if (chosen) actions.backward(chosen);
      else actions.backward();
    });
    this.resetButton.addEventListener("click", () => actions.reset());
    fitButton.addEventListener("click", () => actions.fit());
    zoomInButton.addEventListener("click", () => actions.zoomIn());
    zoomOutButton.addEventListener("click", () => actions.zoomOut());
    svgButton.addEventListener("click", () => actions.exportSvg());
    pngButton.addEventListener("click", () => actions.exportPng());
  }

  /** Adds controls owned by other parts (toggles), after Reset. */
  insertControls(...controls: HTMLElement[]): void {
    for (const control of controls) this.spacer.before(control);
  }

  /** The kernel controls (Backward, output selector, Reset) work only while a kernel answers. */
  setControlsEnabled(enabled: boolean): void {
    this.resetButton.disabled = !enabled;
    this.backwardButton.disabled = !enabled;
    this.outputSelect.disabled = !enabled;
  }

  /** The status trait's line, bounded (a kernel cuts it too). */
  setStatus(text: string): void {
    this.statusText.textContent = boundedText(text, MAX_STATUS_CHARS);
  }

  setConnectionNote(text: string): void {
    this.connectionNote.textContent = text;
  }

  /** Shows a failure (a value ignored, a layout, an export), bounded; "" hides the line. */
  setError(text: string): void {
    this.errorLine.textContent = boundedText(text, MAX_STATUS_CHARS);
    this.errorLine.hidden = text === "";
  }

  /** The truncation note and the output selector (shown for several outputs, keeping the choice). */
  showSnapshot(snapshot: Snapshot, byId: Map<string, GraphNode>): void {
    this.truncatedNote.hidden = !snapshot.truncated;
    this.truncatedNote.textContent = snapshot.truncated
      ? truncationNote(snapshot.nodes.length, snapshot.omitted, snapshot.omittedAtLeast === true)
      : "";

    const outputs = snapshot.outputs ?? [];
    const previous = this.outputSelect.value;
    const names = outputNames(outputs, byId);
    const options = outputs.map((id, k) => html(this.doc, "option", { value: id }, names[k]));
    this.outputSelect.replaceChildren(...options);
    if (outputs.includes(previous)) this.outputSelect.value = previous;
    this.outputSelect.hidden = outputs.length <= 1;
  }
}
