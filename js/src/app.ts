// One rendered view of a GraphWidget: controls, status, the drawing, inspector, kernel handshake.
import type { ClientMessage, GraphNode, ModelState, ServerMessage, Snapshot } from "./protocol";
import type { Direction, LayoutInput } from "./layout";
import { edgeShape, edgeSlots, type RoutedLayout } from "./edges";
import { indexGraph, layoutInput, structureKey, type IndexedGraph } from "./graph";
import { drawGraph, SVG_NS, updateValues, type Drawing } from "./draw";
import { KERNEL_MISSING_NOTE, nodeTitle, truncationNote } from "./format";
import { fillInspector } from "./inspector";
import { LayoutRunner } from "./layoutRunner";
import { PanZoom } from "./viewport";
import { downloadBlob, standaloneSvg, svgToPng } from "./exporter";
import { ensureStyles } from "./styles";

/** The part of anywidget's model this view uses. */
export interface WidgetModel {
  get<K extends keyof ModelState>(key: K): ModelState[K];
  on(event: string, callback: (...args: any[]) => void): void;
  off(event?: string | null, callback?: ((...args: any[]) => void) | null): void;
  send(message: ClientMessage): void;
}

export interface ViewOptions {
  /** How long to wait for the kernel's welcome before saying the controls are off. */
  welcomeTimeoutMs?: number;
  layoutRunner?: LayoutRunner;
}

/** 12px text at this zoom is about 3.5px tall on screen. */
const TEXT_MIN_SCALE = 0.3;
/** Up to this many nodes every text stays painted at any zoom (DESIGN.md: no level of detail). */
const LEVEL_OF_DETAIL_MIN_NODES = 2000;

const MIN_CANVAS_HEIGHT = 260;
const MAX_CANVAS_HEIGHT = 460;

const EMPTY_SNAPSHOT: Snapshot = { version: 1, nodes: [], edges: [], outputs: [], truncated: false, omitted: 0 };

function html<K extends keyof HTMLElementTagNameMap>(doc: Document, tag: K, attrs: Record<string, string>, text?: string): HTMLElementTagNameMap[K] {
  const element = doc.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Fires once the browser has rendered the current DOM (the frame after this call). */
function afterNextPaint(callback: () => void): void {
  if (typeof requestAnimationFrame !== "function") {
    setTimeout(callback, 0);
    return;
  }
  requestAnimationFrame(() => setTimeout(callback, 0));
}

export class GraphView {
  readonly root: HTMLDivElement;
  private readonly doc: Document;
  private readonly runner: LayoutRunner;
  private readonly ownsRunner: boolean;
  private readonly panZoom: PanZoom;
  private readonly svg: SVGSVGElement;
  private readonly body: HTMLDivElement;
  private readonly viewportGroup: SVGGElement;
  private readonly highlightLayer: SVGGElement;
  private readonly edgeLayer: SVGGElement;
  private readonly nodeLayer: SVGGElement;
  private readonly statusText: HTMLSpanElement;
  private readonly connectionNote: HTMLSpanElement;
  private readonly truncatedNote: HTMLSpanElement;
  private readonly inspector: HTMLElement;
  private readonly outputSelect: HTMLSelectElement;
  private readonly resetButton: HTMLButtonElement;
  private readonly backwardButton: HTMLButtonElement;
  private readonly welcomeTimer: ReturnType<typeof setTimeout>;
  private readonly modelHandlers: Array<[string, (...args: any[]) => void]>;

  private welcomed = false;
  /** Bumped per structural render; a render whose number is stale stops. */
  private renderToken = 0;
  private drawnKey: string | null = null;
  private pendingKey: string | null = null;
  private drawing: Drawing | null = null;
  private graph: IndexedGraph | null = null;
  private layout: RoutedLayout | null = null;
  private layoutInput: LayoutInput | null = null;
  private slots: ReturnType<typeof edgeSlots> | null = null;
  private byId = new Map<string, GraphNode>();
  private selectedId: string | null = null;
  private disposed = false;

  constructor(private readonly model: WidgetModel, el: HTMLElement, options: ViewOptions = {}) {
    this.doc = el.ownerDocument;
    ensureStyles(this.doc);
    this.ownsRunner = !options.layoutRunner;
    this.runner = options.layoutRunner ?? new LayoutRunner();

    const doc = this.doc;
    this.root = html(doc, "div", { class: "dzw-root", "data-testid": "autodiff-graph", "data-render": "svg", "data-state": "empty" });
    const toolbar = html(doc, "div", { class: "dzw-toolbar" });
    this.backwardButton = html(doc, "button", { type: "button", "data-action": "backward", title: "Run backward() from the output" }, "Backward");
    this.outputSelect = html(doc, "select", { "data-role": "output-select", title: "Output to run backward() from" });
    this.outputSelect.hidden = true;
    this.resetButton = html(doc, "button", { type: "button", "data-action": "reset", title: "cleargrad() on every variable" }, "Reset grads");
    const fitButton = html(doc, "button", { type: "button", "data-action": "fit", title: "Fit the graph to the view" }, "Fit");
    const svgButton = html(doc, "button", { type: "button", "data-action": "export-svg", title: "Download the graph as SVG" }, "SVG");
    const pngButton = html(doc, "button", { type: "button", "data-action": "export-png", title: "Download the graph as PNG" }, "PNG");
    toolbar.append(this.backwardButton, this.outputSelect, this.resetButton, html(doc, "span", { class: "dzw-spacer" }), fitButton, svgButton, pngButton);

    const status = html(doc, "div", { class: "dzw-status" });
    this.statusText = html(doc, "span", { "data-role": "status", "aria-live": "polite" });
    this.connectionNote = html(doc, "span", { "data-role": "connection" });
    this.truncatedNote = html(doc, "span", { "data-role": "truncated" });
    this.truncatedNote.hidden = true;
    status.append(this.statusText, this.connectionNote, this.truncatedNote);

    const body = html(doc, "div", { class: "dzw-body" });
    this.body = body;
    this.svg = doc.createElementNS(SVG_NS, "svg");
    this.svg.setAttribute("class", "dzw-canvas");
    this.viewportGroup = doc.createElementNS(SVG_NS, "g");
    this.edgeLayer = doc.createElementNS(SVG_NS, "g");
    this.highlightLayer = doc.createElementNS(SVG_NS, "g");
    this.nodeLayer = doc.createElementNS(SVG_NS, "g");
    this.viewportGroup.append(this.edgeLayer, this.highlightLayer, this.nodeLayer);
    this.svg.appendChild(this.viewportGroup);
    this.inspector = html(doc, "aside", { class: "dzw-inspector", "data-role": "inspector" });
    this.inspector.hidden = true;
    body.append(this.svg, this.inspector);
    this.root.append(toolbar, status, body);
    el.appendChild(this.root);

    this.panZoom = new PanZoom(this.svg, this.viewportGroup, (scale) => this.setDetail(scale));
    this.setControlsEnabled(false);

    this.resetButton.addEventListener("click", () => this.model.send({ type: "reset" }));
    this.backwardButton.addEventListener("click", () => this.sendBackward());
    fitButton.addEventListener("click", () => this.fit());
    svgButton.addEventListener("click", () => this.exportSvg());
    pngButton.addEventListener("click", () => void this.exportPng());
    this.nodeLayer.addEventListener("click", (event) => this.onNodeClick(event));

    this.modelHandlers = [
      ["change:snapshot", () => this.show()],
      ["change:direction", () => this.show()],
      ["change:status", () => this.showStatus()],
      ["msg:custom", (message: ServerMessage) => this.onCustomMessage(message)],
    ];
    for (const [event, handler] of this.modelHandlers) model.on(event, handler);

    this.welcomeTimer = setTimeout(() => {
      if (!this.welcomed) this.connectionNote.textContent = KERNEL_MISSING_NOTE;
    }, options.welcomeTimeoutMs ?? 4000);
    model.send({ type: "hello" });
    this.showStatus();
    this.show();
  }

  dispose(): void {
    this.disposed = true;
    this.renderToken++;
    clearTimeout(this.welcomeTimer);
    for (const [event, handler] of this.modelHandlers) this.model.off(event, handler);
    this.panZoom.dispose();
    if (this.ownsRunner) this.runner.dispose();
    this.root.remove();
  }

  /** The trait's value, or an empty graph while it is still the Python default `{}`. */
  private snapshot(): Snapshot {
    const value = this.model.get("snapshot");
    return value && Array.isArray(value.nodes) && Array.isArray(value.edges) ? value : EMPTY_SNAPSHOT;
  }

  private direction(): Direction {
    return this.model.get("direction") === "TB" ? "TB" : "LR";
  }

  private setControlsEnabled(enabled: boolean): void {
    this.resetButton.disabled = !enabled;
    this.backwardButton.disabled = !enabled;
    this.outputSelect.disabled = !enabled;
  }

  private onCustomMessage(message: ServerMessage): void {
    if (!message || message.type !== "welcome") return;
    this.welcomed = true;
    clearTimeout(this.welcomeTimer);
    this.connectionNote.textContent = "";
    this.setControlsEnabled(true);
  }

  private sendBackward(): void {
    if (!this.outputSelect.hidden && this.outputSelect.value) {
      this.model.send({ type: "backward", output: this.outputSelect.value });
    } else {
      this.model.send({ type: "backward" });
    }
  }

  private showStatus(): void {
    this.statusText.textContent = this.model.get("status") ?? "";
  }

  /** Updates everything that is not the drawing: truncation note, output selector, inspector. */
  private showAround(snapshot: Snapshot): void {
    this.byId = new Map(snapshot.nodes.map((node) => [node.id, node]));
    this.truncatedNote.hidden = !snapshot.truncated;
    this.truncatedNote.textContent = snapshot.truncated ? truncationNote(snapshot.nodes.length, snapshot.omitted) : "";

    const outputs = snapshot.outputs ?? [];
    const previous = this.outputSelect.value;
    const options = outputs.map((id) => {
      const node = this.byId.get(id);
      return html(this.doc, "option", { value: id }, node ? `${nodeTitle(node)} (${id})` : id);
    });
    this.outputSelect.replaceChildren(...options);
    if (outputs.includes(previous)) this.outputSelect.value = previous;
    this.outputSelect.hidden = outputs.length <= 1;

    if (this.selectedId) {
      if (this.byId.has(this.selectedId)) this.inspect(this.selectedId);
      else this.closeInspector();
    }
  }

  /** Draws the model's snapshot: texts in place when the structure is unchanged, else a new layout. */
  private show(): void {
    if (this.disposed) return;
    const snapshot = this.snapshot();
    const direction = this.direction();
    const key = structureKey(snapshot, direction);
    this.showAround(snapshot);
    if (key === this.drawnKey && this.drawing) {
      updateValues(this.drawing, snapshot);
      this.announce("values");
      return;
    }
    if (key === this.pendingKey) return; // the running render applies the newest values when it ends
    void this.relayout(snapshot, direction, key);
  }

  private async relayout(snapshot: Snapshot, direction: Direction, key: string): Promise<void> {
    const token = ++this.renderToken;
    this.pendingKey = key;
    this.root.setAttribute("data-state", "layout");
    const graph = indexGraph(snapshot);
    const input = layoutInput(graph, direction);
    let layout: RoutedLayout;
    try {
      layout = await this.runner.run(input);
    } catch (error) {
      if (token === this.renderToken) {
        this.pendingKey = null;
        this.root.setAttribute("data-state", "error");
        this.connectionNote.textContent = `Layout failed: ${String(error)}`;
      }
      return;
    }
    if (token !== this.renderToken) return;
    this.edgeLayer.replaceChildren();
    this.highlightLayer.replaceChildren();
    this.nodeLayer.replaceChildren();
    this.drawing = null;
    this.drawnKey = null;
    this.root.setAttribute("data-engine", layout.engine);
    this.layout = layout;
    this.layoutInput = input;
    this.slots = null;
    this.graph = graph;
    // Small graphs get a shorter canvas instead of a tall empty one.
    this.body.style.height = `${Math.round(Math.min(MAX_CANVAS_HEIGHT, Math.max(MIN_CANVAS_HEIGHT, layout.height + 32)))}px`;
    this.fit();
    const drawing = await drawGraph(this.edgeLayer, this.nodeLayer, graph, layout, () => token !== this.renderToken);
    if (!drawing || token !== this.renderToken) return;
    this.drawing = drawing;
    this.drawnKey = key;
    this.pendingKey = null;
    const latest = this.snapshot();
    if (latest !== snapshot && structureKey(latest, direction) === key) updateValues(drawing, latest);
    if (this.selectedId && this.byId.has(this.selectedId)) this.inspect(this.selectedId);
    this.announce("layout", token);
  }

  /** Marks the root ready once the browser has painted, and tells listeners (benchmarks, tests). */
  private announce(mode: "layout" | "values", token = this.renderToken): void {
    afterNextPaint(() => {
      if (this.disposed || token !== this.renderToken) return;
      this.root.setAttribute("data-state", "ready");
      this.root.dispatchEvent(new CustomEvent("dzw-rendered", { detail: { mode } }));
    });
  }

  /**
   * On graphs past LEVEL_OF_DETAIL_MIN_NODES, below TEXT_MIN_SCALE node texts are too small to
   * read, so they are not laid out or painted (the elements and their texts stay in the DOM);
   * this keeps 10k-node graphs fluid.
   */
  private setDetail(scale: number): void {
    const large = (this.graph?.nodes.length ?? 0) > LEVEL_OF_DETAIL_MIN_NODES;
    const detail = large && scale < TEXT_MIN_SCALE ? "shapes" : "full";
    if (this.root.getAttribute("data-detail") !== detail) this.root.setAttribute("data-detail", detail);
  }

  private fit(): void {
    if (this.layout) this.panZoom.fit(this.layout.width, this.layout.height);
  }

  private onNodeClick(event: Event): void {
    const target = (event.target as Element).closest?.("[data-node-id]");
    const id = target?.getAttribute("data-node-id");
    if (id) this.inspect(id);
  }

  private inspect(id: string): void {
    const node = this.byId.get(id);
    if (!node) return;
    if (this.selectedId && this.selectedId !== id) this.drawing?.nodes.get(this.selectedId)?.group.classList.remove("dzw-selected");
    this.selectedId = id;
    this.drawing?.nodes.get(id)?.group.classList.add("dzw-selected");
    const inputs: string[] = [];
    const outputs: string[] = [];
    const incident: number[] = [];
    const graph = this.graph;
    if (graph) {
      const index = graph.indexOf.get(id);
      for (let e = 0; e < graph.edgeSource.length; e++) {
        if (graph.edgeTarget[e] === index) {
          inputs.push(graph.nodes[graph.edgeSource[e]].id);
          incident.push(e);
        } else if (graph.edgeSource[e] === index) {
          outputs.push(graph.nodes[graph.edgeTarget[e]].id);
          incident.push(e);
        }
      }
    }
    this.highlight(incident);
    fillInspector(this.inspector, node, this.byId, { inputs, outputs }, () => this.closeInspector());
  }

  private closeInspector(): void {
    if (this.selectedId) this.drawing?.nodes.get(this.selectedId)?.group.classList.remove("dzw-selected");
    this.selectedId = null;
    this.inspector.hidden = true;
    this.inspector.replaceChildren();
    this.highlight([]);
  }

  private highlight(edges: number[]): void {
    this.highlightLayer.replaceChildren();
    const input = this.layoutInput;
    const layout = this.layout;
    if (!this.drawing || !input || !layout || edges.length === 0) return;
    this.slots ??= edgeSlots(input);
    const shapes = edges.map((e) => edgeShape(input, layout, e, this.slots!));
    const path = this.doc.createElementNS(SVG_NS, "path");
    path.setAttribute("class", "dzw-edge-hl");
    path.setAttribute("d", shapes.map((shape) => shape.path).join(""));
    const arrows = this.doc.createElementNS(SVG_NS, "path");
    arrows.setAttribute("class", "dzw-arrow-hl");
    arrows.setAttribute("d", shapes.map((shape) => shape.arrow).join(""));
    this.highlightLayer.append(path, arrows);
  }

  private exportedSvg(): { text: string; width: number; height: number } | null {
    if (!this.layout) return null;
    const background = getComputedStyle(this.root).backgroundColor || "#ffffff";
    const { width, height } = this.layout;
    return { text: standaloneSvg(this.viewportGroup, width, height, background), width, height };
  }

  private exportSvg(): void {
    const exported = this.exportedSvg();
    if (exported) downloadBlob(this.doc, new Blob([exported.text], { type: "image/svg+xml" }), "autodiff-graph.svg");
  }

  private async exportPng(): Promise<void> {
    const exported = this.exportedSvg();
    if (!exported) return;
    try {
      const png = await svgToPng(exported.text, exported.width, exported.height);
      downloadBlob(this.doc, png, "autodiff-graph.png");
    } catch (error) {
      this.connectionNote.textContent = `PNG export failed: ${String(error)}`;
    }
  }
}
