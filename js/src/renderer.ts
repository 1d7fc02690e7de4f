// The render pipeline: snapshot -> layout -> drawing (or texts in place); owns canvas, pan/zoom, root state.
// Layouts run off the main thread; a newer structure cancels a render in progress.
import { html, svg } from "./dom";
import { type Drawing, drawGraph, updateValues } from "./draw";
import type { RoutedLayout } from "./edges";
import { type IndexedGraph, indexGraph, layoutInput, structureKey } from "./graph";
import type { LayoutInput } from "./layout";
import { LayoutRunner } from "./layoutRunner";
import {
  ATTR,
  DETAIL,
  type Direction,
  RENDERED_EVENT,
  type RenderedDetail,
  ROOT_STATE,
  type Snapshot,
} from "./protocol";
import { CANVAS_HEIGHT } from "./styles";
import { PanZoom } from "./viewport";

/** Label text (TEXT.labelSize) at this zoom is about 3.5px tall on screen. */
const TEXT_MIN_SCALE = 0.3;
/** Up to this many nodes every text stays painted at any zoom (DESIGN.md: no level of detail). */
const LEVEL_OF_DETAIL_MIN_NODES = 2000;
/** Room the canvas keeps around a small graph's layout (px). */
const CANVAS_PADDING = 32;

/** What is on screen: the graph, its layout and its drawn elements (null while nodes are being drawn). */
export interface Scene {
  graph: IndexedGraph;
  input: LayoutInput;
  layout: RoutedLayout;
  drawing: Drawing | null;
}

export interface RendererOptions {
  /** Shared by tests; by default the renderer starts (and disposes) its own. */
  layoutRunner?: LayoutRunner;
  /** The newest snapshot, read when a drawing ends: values that came meanwhile are applied. */
  latestSnapshot(): Snapshot;
  /** A new drawing is complete. */
  onDrawn(): void;
  onLayoutFailed(error: unknown): void;
}

/** Fires once the browser has rendered the current DOM (the frame after this call). */
function afterNextPaint(callback: () => void): void {
  if (typeof requestAnimationFrame !== "function") {
    setTimeout(callback, 0);
    return;
  }
  requestAnimationFrame(() => setTimeout(callback, 0));
}

export class Renderer {
  /** The canvas area (the inspector panel is placed in it too). */
  readonly body: HTMLDivElement;
  /** The group pan/zoom transforms: edges, highlighted edges, nodes (also what exports copy). */
  readonly viewportGroup: SVGGElement;
  readonly highlightLayer: SVGGElement;
  readonly nodeLayer: SVGGElement;
  private readonly edgeLayer: SVGGElement;
  private readonly panZoom: PanZoom;
  private readonly runner: LayoutRunner;
  private readonly ownsRunner: boolean;
  private current: Scene | null = null;
  /** Bumped per structural render; a render whose number is stale stops. */
  private renderToken = 0;
  private drawnKey: string | null = null;
  private pendingKey: string | null = null;
  private disposed = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly options: RendererOptions,
  ) {
    this.ownsRunner = !options.layoutRunner;
    this.runner = options.layoutRunner ?? new LayoutRunner();
    const doc = root.ownerDocument;
    this.body = html(doc, "div", { class: "dzw-body" });
    const canvas = svg(doc, "svg", { class: "dzw-canvas" });
    this.viewportGroup = svg(doc, "g");
    this.edgeLayer = svg(doc, "g");
    this.highlightLayer = svg(doc, "g");
    this.nodeLayer = svg(doc, "g");
    this.viewportGroup.append(this.edgeLayer, this.highlightLayer, this.nodeLayer);
    canvas.appendChild(this.viewportGroup);
    this.body.appendChild(canvas);
    this.panZoom = new PanZoom(canvas, this.viewportGroup, (scale) => this.setDetail(scale));
  }

  get scene(): Scene | null {
    return this.current;
  }

  dispose(): void {
    this.disposed = true;
    this.renderToken++;
    this.panZoom.dispose();
    if (this.ownsRunner) this.runner.dispose();
  }

  /** Draws `snapshot`: texts in place when the structure is unchanged, else a new layout. */
  show(snapshot: Snapshot, direction: Direction): void {
    const key = structureKey(snapshot, direction);
    if (key === this.drawnKey && this.current?.drawing) {
      updateValues(this.current.drawing, snapshot);
      this.announce("values");
      return;
    }
    if (key === this.pendingKey) return; // the running render applies the newest values when it ends
    void this.relayout(snapshot, direction, key);
  }

  /** Shows the whole drawing. */
  fit(): void {
    if (this.current) this.panZoom.fit(this.current.layout.width, this.current.layout.height);
  }

  private async relayout(snapshot: Snapshot, direction: Direction, key: string): Promise<void> {
    const token = ++this.renderToken;
    this.pendingKey = key;
    this.root.setAttribute(ATTR.state, ROOT_STATE.layout);
    const graph = indexGraph(snapshot);
    const input = layoutInput(graph, direction);
    let layout: RoutedLayout;
    try {
      layout = await this.runner.run(input);
    } catch (error) {
      if (token === this.renderToken) {
        this.pendingKey = null;
        this.root.setAttribute(ATTR.state, ROOT_STATE.error);
        this.options.onLayoutFailed(error);
      }
      return;
    }
    if (token !== this.renderToken) return;
    this.edgeLayer.replaceChildren();
    this.highlightLayer.replaceChildren();
    this.nodeLayer.replaceChildren();
    this.drawnKey = null;
    this.root.setAttribute(ATTR.engine, layout.engine);
    const scene: Scene = { graph, input, layout, drawing: null };
    this.current = scene;
    // Small graphs get a shorter canvas instead of a tall empty one.
    const height = Math.min(CANVAS_HEIGHT.max, Math.max(CANVAS_HEIGHT.min, layout.height + CANVAS_PADDING));
    this.body.style.height = `${Math.round(height)}px`;
    this.fit();
    const drawing = await drawGraph(this.edgeLayer, this.nodeLayer, graph, layout, () => token !== this.renderToken);
    if (!drawing || token !== this.renderToken) return;
    scene.drawing = drawing;
    this.drawnKey = key;
    this.pendingKey = null;
    const latest = this.options.latestSnapshot();
    if (latest !== snapshot && structureKey(latest, direction) === key) updateValues(drawing, latest);
    this.options.onDrawn();
    this.announce("layout", token);
  }

  /** Marks the root ready once the browser has painted, and tells listeners (benchmarks, tests). */
  private announce(mode: RenderedDetail["mode"], token = this.renderToken): void {
    afterNextPaint(() => {
      if (this.disposed || token !== this.renderToken) return;
      this.root.setAttribute(ATTR.state, ROOT_STATE.ready);
      const detail: RenderedDetail = { mode };
      this.root.dispatchEvent(new CustomEvent(RENDERED_EVENT, { detail }));
    });
  }

  /**
   * On graphs past LEVEL_OF_DETAIL_MIN_NODES, below TEXT_MIN_SCALE node texts are too small to
   * read, so they are not laid out or painted (the elements and their texts stay in the DOM);
   * this keeps 10k-node graphs fluid.
   */
  private setDetail(scale: number): void {
    const large = (this.current?.graph.nodes.length ?? 0) > LEVEL_OF_DETAIL_MIN_NODES;
    const detail = large && scale < TEXT_MIN_SCALE ? DETAIL.shapes : DETAIL.full;
    if (this.root.getAttribute(ATTR.detail) !== detail) this.root.setAttribute(ATTR.detail, detail);
  }
}
