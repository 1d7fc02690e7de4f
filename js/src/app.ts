// GraphView, one rendered view of a GraphWidget: composes toolbar, renderer, inspector and kernel handshake.
// It only wires the parts to each other and to the model's events; each part owns its DOM and behaviour.
// Every trait value is checked on arrival: a bad one is ignored (the view keeps the last good one) and
// the error line says why, so nothing a kernel sends makes the view throw or lose its drawing.
import { BackwardView } from "./backwardView";
import { html } from "./dom";
import { downloadPng, downloadSvg, type ExportSource } from "./exporter";
import { ignoredNote, KERNEL_MISSING_NOTE } from "./format";
import { KernelHandshake } from "./handshake";
import { HistoryChart } from "./history";
import { Inspector } from "./inspector";
import type { LayoutRunner } from "./layoutRunner";
import {
  ATTR,
  type ClientMessage,
  checkChecks,
  checkDirection,
  checkGradGraph,
  checkHistory,
  checkReplay,
  checkSnapshot,
  checkStatus,
  DEFAULT_DIRECTION,
  EMPTY_HISTORY,
  EMPTY_REPLAY,
  EMPTY_SNAPSHOT,
  type GraphNode,
  type ModelState,
  RENDER,
  ROOT_STATE,
  type ServerMessage,
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

/** What the error line can report: a trait's value that was ignored, or a drawing or export that failed. */
type Problem = keyof ModelState | "render";

/** The check of each trait's value, and the name the error line uses for it. */
const TRAIT_CHECKS: { [K in keyof ModelState]: [check: (value: unknown) => string[], name: string] } = {
  snapshot: [checkSnapshot, "Snapshot"],
  direction: [checkDirection, "Direction"],
  status: [checkStatus, "Status"],
  history: [checkHistory, "History"],
  replay: [checkReplay, "Replay"],
  checks: [checkChecks, "Checks"],
  grad_graph: [checkGradGraph, "Grad graph"],
};

/** The traits a model may lack (added after the others), and what their absence means. */
const ABSENT_MEANS = { replay: EMPTY_REPLAY, checks: {}, grad_graph: false } as const;

/** Python's default of the snapshot trait, before a graph is traced. */
const isEmptyObject = (value: unknown) =>
  typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;

export class GraphView {
  readonly root: HTMLDivElement;
  private readonly toolbar: Toolbar;
  private readonly renderer: Renderer;
  private readonly inspector: Inspector;
  private readonly history: HistoryChart;
  private readonly backward: BackwardView;
  private readonly handshake: KernelHandshake;
  private readonly modelHandlers: Array<Parameters<WidgetModel["on"]>>;
  /** The last valid value of each trait: what the view shows. */
  private readonly shown: ModelState = {
    snapshot: EMPTY_SNAPSHOT,
    direction: DEFAULT_DIRECTION,
    status: "",
    history: EMPTY_HISTORY,
    replay: EMPTY_REPLAY,
    checks: {},
    grad_graph: false,
  };
  private readonly problems = new Map<Problem, string>();
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
      // Focusable, so that ←/→ step through a replay once the widget was clicked.
      tabindex: "0",
    });
    const send = (message: ClientMessage) => model.send(message);
    this.toolbar = new Toolbar(doc, {
      backward: (output) => {
        this.backward.backwardClicked();
        send(output ? { type: "backward", output } : { type: "backward" });
      },
      reset: () => {
        this.backward.resetClicked();
        send({ type: "reset" });
      },
      fit: () => this.renderer.fit(),
      zoomIn: () => this.renderer.zoomBy(ZOOM_STEP),
      zoomOut: () => this.renderer.zoomBy(1 / ZOOM_STEP),
      exportSvg: () => this.exportSvg(),
      exportPng: () => void this.exportPng(),
    });
    this.renderer = new Renderer(this.root, {
      layoutRunner: options.layoutRunner,
      latestSnapshot: () => this.shown.snapshot,
      onDrawn: () => {
        this.setProblem("render", "");
        this.backward.refresh(true);
        this.inspector.redraw();
      },
      onLayoutFailed: (error) => this.setProblem("render", `Layout failed: ${String(error)}`),
    });
    this.inspector = new Inspector(
      doc,
      this.renderer.highlightLayer,
      () => this.renderer.scene,
      (node, panel) => this.backward.extendPanel(node, panel),
      (id) => this.renderer.besidePanel(this.inspector.panel, id),
    );
    this.backward = new BackwardView(this.root, {
      scene: () => this.renderer.scene,
      drawingCurrent: () => this.root.getAttribute(ATTR.state) !== ROOT_STATE.layout,
      requestCheck: (node, output) =>
        send(output ? { type: "grad-check", node, output } : { type: "grad-check", node }),
      setGradGraph: (on) => {
        model.set("grad_graph", on);
        model.save_changes();
      },
      redrawInspector: () => this.inspector.redraw(),
    });
    this.backward.attach(this.renderer.viewportGroup, this.renderer.nodeLayer);
    this.toolbar.insertControls(...this.backward.controls);
    this.root.addEventListener("keydown", (event) => {
      if (!this.backward.handleKey(event)) return;
      event.preventDefault();
      event.stopPropagation();
    });
    this.renderer.body.appendChild(this.inspector.panel);
    this.renderer.nodeLayer.addEventListener("click", (event) => this.inspector.onNodeClick(event));
    this.history = new HistoryChart(doc);
    // The chart shows above the canvas (styles.ts orders them) but comes after it in the DOM, so
    // the canvas stays the widget's first <svg>.
    this.root.append(...this.toolbar.rows, ...this.backward.rows, this.renderer.body, this.history.element);
    el.appendChild(this.root);
    this.toolbar.setControlsEnabled(false);
    this.handshake = new KernelHandshake(options.welcomeTimeoutMs ?? WELCOME_TIMEOUT_MS, {
      silent: () => this.toolbar.setConnectionNote(KERNEL_MISSING_NOTE),
      welcome: () => {
        this.toolbar.setConnectionNote("");
        this.toolbar.setControlsEnabled(true);
        this.backward.setControlsEnabled(true);
      },
    });

    this.modelHandlers = [
      ["change:snapshot", this.guarded(() => this.take("snapshot") && this.show())],
      ["change:direction", this.guarded(() => this.take("direction") && this.show())],
      ["change:status", this.guarded(() => this.take("status") && this.showStatus())],
      ["change:replay", this.guarded(() => this.take("replay") && this.showReplay())],
      ["change:checks", this.guarded(() => this.take("checks") && this.showChecks())],
      [
        "change:grad_graph",
        this.guarded(() => this.take("grad_graph") && this.backward.setGradGraph(this.shown.grad_graph)),
      ],
      ["change:history", this.guarded(() => this.take("history") && this.history.show(this.shown.history))],
      ["msg:custom", this.guarded((message: ServerMessage) => this.handshake.receive(message))],
    ];
    for (const [event, handler] of this.modelHandlers) model.on(event, handler);
    this.handshake.start(send);
    for (const trait of Object.keys(TRAIT_CHECKS) as Array<keyof ModelState>) this.take(trait);
    this.guarded(() => {
      this.showStatus();
      this.history.show(this.shown.history);
      this.backward.setGradGraph(this.shown.grad_graph);
      this.backward.setReplay(this.shown.replay);
      this.backward.setChecks(this.shown.checks);
      this.show();
    })();
  }

  dispose(): void {
    this.disposed = true;
    this.handshake.dispose();
    for (const [event, handler] of this.modelHandlers) this.model.off(event, handler);
    this.renderer.dispose();
    this.root.remove();
  }

  /**
   * Takes a trait's value when it is valid (the snapshot trait's Python default `{}` is an empty
   * graph); else keeps the last valid one and says why on the error line. Returns whether it took it.
   */
  private take<K extends keyof ModelState>(trait: K): boolean {
    let value: unknown = this.model.get(trait);
    // A model without a trait of issue 11 (a state saved before it) has nothing of it to show.
    if (value === undefined && Object.hasOwn(ABSENT_MEANS, trait))
      value = ABSENT_MEANS[trait as keyof typeof ABSENT_MEANS];
    const [check, name] = TRAIT_CHECKS[trait];
    const empty = trait === "snapshot" && isEmptyObject(value);
    let problems: string[] = [];
    try {
      if (!empty) problems = check(value);
    } catch (error) {
      problems = [`could not be checked: ${String(error)}`];
    }
    if (problems.length > 0) {
      this.setProblem(trait, ignoredNote(name, problems));
      return false;
    }
    this.shown[trait] = (empty ? EMPTY_SNAPSHOT : value) as ModelState[K];
    this.setProblem(trait, "");
    return true;
  }

  /** Sets (or, with "", clears) one problem; the error line shows them all, in a fixed order. */
  private setProblem(kind: Problem, text: string): void {
    if (text) this.problems.set(kind, text);
    else this.problems.delete(kind);
    const order: Problem[] = ["snapshot", "history", "replay", "checks", "direction", "status", "grad_graph", "render"];
    this.toolbar.setError(
      order
        .map((key) => this.problems.get(key))
        .filter(Boolean)
        .join(" · "),
    );
  }

  /** `handler`, reporting on the error line what it throws instead of throwing into the model's events. */
  private guarded<Args extends unknown[]>(handler: (...args: Args) => unknown): (...args: Args) => void {
    return (...args) => {
      try {
        handler(...args);
      } catch (error) {
        this.setProblem("render", `Drawing failed: ${String(error)}`);
      }
    };
  }

  private showStatus(): void {
    this.toolbar.setStatus(this.shown.status);
    this.backward.statusChanged();
  }

  private showReplay(): void {
    this.backward.setReplay(this.shown.replay);
    this.inspector.redraw();
  }

  private showChecks(): void {
    this.backward.setChecks(this.shown.checks);
    this.inspector.redraw();
  }

  /** Shows the last valid snapshot: notes and output selector, the inspector's node, then the drawing. */
  private show(): void {
    if (this.disposed) return;
    const { snapshot, direction } = this.shown;
    const byId = new Map<string, GraphNode>(snapshot.nodes.map((node) => [node.id, node]));
    this.toolbar.showSnapshot(snapshot, byId);
    this.backward.setSnapshot(snapshot, byId);
    this.inspector.setNodes(byId);
    this.renderer.show(snapshot, direction);
    this.backward.refresh();
  }

  private exportSvg(): void {
    const source = this.exportSource();
    if (!source) return;
    const restore = this.backward.detachInputs(); // HTML inputs have no place in an image
    try {
      downloadSvg(source);
    } finally {
      restore();
    }
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
    const restore = this.backward.detachInputs();
    let done: Promise<void>;
    try {
      done = downloadPng(source); // copies the drawing before its first await
    } finally {
      restore();
    }
    try {
      await done;
    } catch (error) {
      this.setProblem("render", `PNG export failed: ${String(error)}`);
    }
  }
}
