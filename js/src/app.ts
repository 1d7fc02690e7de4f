// GraphView, one rendered view of a GraphWidget: composes toolbar, renderer, inspector and kernel handshake.
// It only wires the parts to each other and to the model's events; each part owns its DOM and behaviour.
import { html } from "./dom";
import { downloadPng, downloadSvg, type ExportSource } from "./exporter";
import { KERNEL_MISSING_NOTE } from "./format";
import { KernelHandshake } from "./handshake";
import { HistoryChart } from "./history";
import { Inspector } from "./inspector";
import type { LayoutRunner } from "./layoutRunner";
import {
  ATTR,
  type ClientMessage,
  DEFAULT_DIRECTION,
  DIRECTIONS,
  type Direction,
  EMPTY_SNAPSHOT,
  type GraphNode,
  RENDER,
  ROOT_STATE,
  type ServerMessage,
  type Snapshot,
  TEST_ID,
  type WidgetModel,
} from "./protocol";
import { Renderer } from "./renderer";
import { ensureStyles } from "./styles";
import { Toolbar } from "./toolbar";
import { ZOOM_STEP } from "./viewport";

export interface ViewOptions {
  /** How long to wait for the kernel's welcome before saying the controls are off. */
  welcomeTimeoutMs?: number;
  layoutRunner?: LayoutRunner;
}

const WELCOME_TIMEOUT_MS = 4000;

export class GraphView {
  readonly root: HTMLDivElement;
  private readonly toolbar: Toolbar;
  private readonly renderer: Renderer;
  private readonly inspector: Inspector;
  private readonly history: HistoryChart;
  private readonly handshake: KernelHandshake;
  private readonly modelHandlers: Array<Parameters<WidgetModel["on"]>>;
  private disposed = false;

  constructor(
    private readonly model: WidgetModel,
    el: HTMLElement,
    options: ViewOptions = {},
  ) {
    const doc = el.ownerDocument;
    ensureStyles(doc);
    this.root = html(doc, "div", {
      class: "dzw-root",
      [ATTR.testId]: TEST_ID,
      [ATTR.render]: RENDER.svg,
      [ATTR.state]: ROOT_STATE.empty,
    });
    const send = (message: ClientMessage) => model.send(message);
    this.toolbar = new Toolbar(doc, {
      backward: (output) => send(output ? { type: "backward", output } : { type: "backward" }),
      reset: () => send({ type: "reset" }),
      fit: () => this.renderer.fit(),
      zoomIn: () => this.renderer.zoomBy(ZOOM_STEP),
      zoomOut: () => this.renderer.zoomBy(1 / ZOOM_STEP),
      exportSvg: () => this.exportSvg(),
      exportPng: () => void this.exportPng(),
    });
    this.renderer = new Renderer(this.root, {
      layoutRunner: options.layoutRunner,
      latestSnapshot: () => this.snapshot(),
      onDrawn: () => {
        this.toolbar.setError("");
        this.inspector.redraw();
      },
      onLayoutFailed: (error) => this.toolbar.setError(`Layout failed: ${String(error)}`),
    });
    this.inspector = new Inspector(doc, this.renderer.highlightLayer, () => this.renderer.scene);
    this.renderer.body.appendChild(this.inspector.panel);
    this.renderer.nodeLayer.addEventListener("click", (event) => this.inspector.onNodeClick(event));
    this.history = new HistoryChart(doc);
    // The chart shows above the canvas (styles.ts orders them) but comes after it in the DOM, so
    // the canvas stays the widget's first <svg>.
    this.root.append(...this.toolbar.rows, this.renderer.body, this.history.element);
    el.appendChild(this.root);
    this.toolbar.setControlsEnabled(false);
    this.handshake = new KernelHandshake(options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS, {
      silent: () => this.toolbar.setConnectionNote(KERNEL_MISSING_NOTE),
      welcome: () => {
        this.toolbar.setConnectionNote("");
        this.toolbar.setControlsEnabled(true);
      },
    });

    this.modelHandlers = [
      ["change:snapshot", () => this.show()],
      ["change:direction", () => this.show()],
      ["change:status", () => this.showStatus()],
      ["change:history", () => this.history.show(this.model.get("history"))],
      ["msg:custom", (message: ServerMessage) => this.handshake.receive(message)],
    ];
    for (const [event, handler] of this.modelHandlers) model.on(event, handler);
    this.handshake.start(send);
    this.showStatus();
    this.history.show(model.get("history"));
    this.show();
  }

  dispose(): void {
    this.disposed = true;
    this.handshake.dispose();
    for (const [event, handler] of this.modelHandlers) this.model.off(event, handler);
    this.renderer.dispose();
    this.root.remove();
  }

  /** The trait's value, or an empty graph while it is still the Python default `{}`. */
  private snapshot(): Snapshot {
    const value = this.model.get("snapshot");
    return value && Array.isArray(value.nodes) && Array.isArray(value.edges) ? value : EMPTY_SNAPSHOT;
  }

  private direction(): Direction {
    const value = this.model.get("direction");
    return DIRECTIONS.includes(value) ? value : DEFAULT_DIRECTION;
  }

  private showStatus(): void {
    this.toolbar.setStatus(this.model.get("status") ?? "");
  }

  /** Shows the model's snapshot: notes and output selector, the inspector's node, then the drawing. */
  private show(): void {
    if (this.disposed) return;
    const snapshot = this.snapshot();
    const byId = new Map<string, GraphNode>(snapshot.nodes.map((node) => [node.id, node]));
    this.toolbar.showSnapshot(snapshot, byId);
    this.inspector.setNodes(byId);
    this.renderer.show(snapshot, this.direction());
  }

  private exportSvg(): void {
    const source = this.exportSource();
    if (source) downloadSvg(source);
  }

  private exportSource(): ExportSource | null {
    const layout = this.renderer.scene?.layout;
    if (!layout) return null;
    this.renderer.prepareExport();
    const background = getComputedStyle(this.root).backgroundColor || "#ffffff";
    return { drawing: this.renderer.viewportGroup, width: layout.width, height: layout.height, background };
  }

  private async exportPng(): Promise<void> {
    const source = this.exportSource();
    if (!source) return;
    try {
      await downloadPng(source);
    } catch (error) {
      this.toolbar.setError(`PNG export failed: ${String(error)}`);
    }
  }
}
