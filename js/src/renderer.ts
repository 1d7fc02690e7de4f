// The render pipeline: snapshot -> layout -> drawing (or texts in place); owns the canvas, its
// default view (legible, around the outputs), pan/zoom, the minimap, the zoom hint and root state.
// Layouts run off the main thread; a newer structure cancels a render in progress. On big graphs
// only nodes near the view lay out their texts and make their thumbnails.
import { html, svg } from "./dom";
import { drawGraph, makeAllThumbnails, setFar, updateValues } from "./draw";
import type { Drawing } from "./drawn";
import type { RoutedLayout } from "./edges";
import { type Box, type IndexedGraph, indexGraph, LEGIBLE_SCALE, layoutInput, nodeBox, structureKey } from "./graph";
import { clickedLayer, drawOpenBoxes, LayerState, layerCorner, updateLayerNodes } from "./layers";
import type { LayoutInput } from "./layout";
import { LayoutRunner } from "./layoutRunner";
import { INSET_OFFSET, Minimap } from "./minimap";
import {
  ATTR,
  DETAIL,
  type Direction,
  RENDERED_EVENT,
  type RenderedDetail,
  ROLE,
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
/** Past this many nodes, texts and thumbnails are shown only near the view (they cost layout). */
const CULL_MIN_NODES = 300;
/** Nodes within this many view sizes past the view's edges count as near. */
const NEAR_MARGIN = 0.75;
/** How long the how-to-zoom hint stays after a plain wheel (ms), and how many times it comes. */
const HINT_MS = 1800;
const HINT_SHOWINGS = 3;

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
  private readonly minimap: Minimap;
  private readonly hint: HTMLDivElement;
  private hintTimer: ReturnType<typeof setTimeout> | null = null;
  private hintShowings = 0;
  private cullScheduled = false;
  private readonly runner: LayoutRunner;
  private readonly ownsRunner: boolean;
  private current: Scene | null = null;
  /** Bumped per structural render; a render whose number is stale stops. */
  private renderToken = 0;
  private drawnKey: string | null = null;
  private pendingKey: string | null = null;
  private disposed = false;
  /** Which layer boxes are collapsed (the user's clicks), and the direction last shown. */
  private readonly layers = new LayerState();
  private direction: Direction = "LR";
  /** The canvas height before an open inspector made it taller, and the height it made. */
  private heightBeforePanel: string | null = null;
  private heightForPanel = "";
  /** After a click on a layer: keep that box's corner where it was on screen (canvas px). */
  private anchor: { id: string; x: number; y: number } | null = null;

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
    const zoomKey = /Mac|iPhone|iPad/.test(doc.defaultView?.navigator.platform ?? "") ? "⌘" : "Ctrl";
    this.minimap = new Minimap(doc, (x, y) => this.panZoom.centreOn(x, y));
    this.hint = html(doc, "div", { class: "dzw-hint", [ATTR.role]: ROLE.hint });
    this.hint.textContent = `${zoomKey} + wheel to zoom, or click the graph first`;
    this.hint.hidden = true;
    this.body.append(canvas, this.minimap.element, this.hint);
    this.nodeLayer.addEventListener("click", (event) => this.onLayerClick(event));
    root.setAttribute(ATTR.wheelZoom, "off");
    this.panZoom = new PanZoom(canvas, this.viewportGroup, {
      area: this.body,
      scope: root,
      onChange: (view) => this.onViewChange(view),
      onPlainWheel: () => this.showHint(),
      onWheelZoom: (on) => {
        root.setAttribute(ATTR.wheelZoom, on ? "on" : "off");
        if (on) this.hideHint();
      },
    });
  }

  get scene(): Scene | null {
    return this.current;
  }

  dispose(): void {
    this.disposed = true;
    this.renderToken++;
    this.hideHint();
    this.panZoom.dispose();
    if (this.ownsRunner) this.runner.dispose();
  }

  /** Draws `snapshot`: texts in place when the structure is unchanged, else a new layout. */
  show(snapshot: Snapshot, direction: Direction): void {
    this.direction = direction;
    const collapsed = this.layers.collapsedIn(snapshot);
    const key = structureKey(snapshot, direction, collapsed);
    if (key === this.drawnKey && this.current?.drawing) {
      updateValues(this.current.drawing, snapshot);
      updateLayerNodes(this.current.drawing, snapshot);
      this.announce("values");
      return;
    }
    if (key === this.pendingKey) return; // the running render applies the newest values when it ends
    void this.relayout(snapshot, direction, key, collapsed);
  }

  /** A click on a layer's box (collapsed node, or open frame or title) toggles it; the box stays put. */
  private onLayerClick(event: Event): void {
    const hit = clickedLayer(event);
    const scene = this.current;
    if (!hit || !scene) return;
    const corner = layerCorner(scene.graph, scene.layout, hit.id);
    const { scale, x, y } = this.panZoom;
    this.anchor = corner ? { id: hit.id, x: corner.x * scale + x, y: corner.y * scale + y } : null;
    this.layers.toggle(hit.id, hit.collapsed);
    this.show(this.options.latestSnapshot(), this.direction);
  }

  /** Keeps the toggled box's corner where it was on screen, at the same zoom; false if it is gone. */
  private keepAnchor(scene: Scene, anchor: { id: string; x: number; y: number }): boolean {
    const corner = layerCorner(scene.graph, scene.layout, anchor.id);
    if (!corner) return false;
    const scale = this.panZoom.scale;
    const wanted = scene.layout.height * scale + CANVAS_PADDING;
    const height = Math.min(CANVAS_HEIGHT.max, Math.max(this.body.clientHeight, wanted));
    if (height > this.body.clientHeight) this.body.style.height = `${Math.round(height)}px`;
    const view = this.panZoom.viewSize();
    this.panZoom.centreOn(
      corner.x + (view.width / 2 - anchor.x) / scale,
      corner.y + (view.height / 2 - anchor.y) / scale,
    );
    return true;
  }

  /**
   * Keeps the inspector `panel`, open on node `id` (null: closed), from hiding the drawing: the
   * canvas grows to the panel's height (within bounds) and the view moves beside it, showing the node.
   */
  besidePanel(panel: HTMLElement, id: string | null): void {
    const width = panel.offsetWidth; // (0 where nothing is laid out, as in tests)
    if (id === null || width === 0) {
      if (this.heightBeforePanel !== null && this.body.style.height === this.heightForPanel) {
        this.body.style.height = this.heightBeforePanel;
      }
      this.heightBeforePanel = null;
      this.panZoom.reserveRight(0);
      return;
    }
    const needed = Math.min(CANVAS_HEIGHT.max, panel.scrollHeight + 2 * INSET_OFFSET);
    if (this.body.clientHeight < needed) {
      this.heightBeforePanel ??= this.body.style.height;
      this.heightForPanel = this.body.style.height = `${Math.round(needed)}px`;
    }
    this.panZoom.reserveRight(width + 2 * INSET_OFFSET, this.nodeBox(id));
  }

  /** Node `id`'s rectangle in the drawing, if it is drawn. */
  private nodeBox(id: string | null): Box | undefined {
    const scene = this.current;
    const index = id === null ? undefined : scene?.graph.indexOf.get(id);
    return scene && index !== undefined ? nodeBox(scene.graph, scene.layout, index) : undefined;
  }

  /** Shows the whole drawing, however small (the user's choice: the default view stays legible). */
  fit(): void {
    if (this.current) this.panZoom.fit(this.current.layout.width, this.current.layout.height);
  }

  /** Zooms about the canvas centre (the toolbar's + and − buttons). */
  zoomBy(factor: number): void {
    if (this.current) this.panZoom.zoomBy(factor);
  }

  /**
   * The default view of a new drawing: the whole graph when its labels stay legible, else legible
   * labels around the outputs. The canvas first takes the graph's height at that scale, within bounds.
   */
  private showDefaultView(scene: Scene, snapshot: Snapshot): void {
    const { layout, graph } = scene;
    const widthScale = Math.min(1.5, this.panZoom.viewSize().width / (layout.width + CANVAS_PADDING));
    const scale = Math.max(LEGIBLE_SCALE, widthScale);
    // A drawing wider than the view brings the minimap: keep room for it below the drawing.
    const reserve = widthScale < LEGIBLE_SCALE ? this.minimap.reservedHeight : 0;
    const wanted = layout.height * scale + CANVAS_PADDING + reserve;
    const height = Math.min(CANVAS_HEIGHT.max, Math.max(CANVAS_HEIGHT.min, wanted));
    this.body.style.height = `${Math.round(height)}px`;
    let focusX = 0;
    let focusY = 0;
    let count = 0;
    for (const id of snapshot.outputs ?? []) {
      const index = graph.indexOf.get(id);
      if (index === undefined) continue;
      focusX += layout.x[index];
      focusY += layout.y[index];
      count++;
    }
    if (count === 0) {
      focusX = layout.width;
      focusY = layout.height / 2;
      count = 1;
    }
    this.panZoom.showLegible(layout.width, layout.height, focusX / count, focusY / count, LEGIBLE_SCALE, reserve);
  }

  private onViewChange(view: PanZoom): void {
    this.setDetail(view.scale);
    const size = view.viewSize();
    this.minimap.update(view, size.width, size.height);
    this.scheduleCull();
  }

  /**
   * The drawing's region whose nodes count as near the view, in layout coordinates; null when
   * every node does (small graphs), an empty region when none does (texts are off at this zoom).
   */
  private nearRegion(): Box | null {
    const scene = this.current;
    if (!scene || scene.graph.nodes.length <= CULL_MIN_NODES) return null;
    if (this.root.getAttribute(ATTR.detail) === DETAIL.shapes) return { x0: 0, y0: 0, x1: -1, y1: -1 };
    const { scale, x, y } = this.panZoom;
    const size = this.panZoom.viewSize();
    const width = size.width / scale;
    const height = size.height / scale;
    const margin = Math.max(width, height) * NEAR_MARGIN;
    const x0 = -x / scale - margin;
    const y0 = -y / scale - margin;
    return { x0, y0, x1: x0 + width + 2 * margin, y1: y0 + height + 2 * margin };
  }

  private farTest(scene: Scene): (index: number) => boolean {
    const region = this.nearRegion();
    if (!region) return () => false;
    const { layout, graph } = scene;
    return (i) => {
      const halfWidth = graph.sizes[i].width / 2;
      const halfHeight = graph.sizes[i].height / 2;
      return (
        layout.x[i] + halfWidth < region.x0 ||
        layout.x[i] - halfWidth > region.x1 ||
        layout.y[i] + halfHeight < region.y0 ||
        layout.y[i] - halfHeight > region.y1
      );
    };
  }

  /** Marks nodes near or far from the view, once per frame however often the view changes. */
  private scheduleCull(): void {
    if (this.cullScheduled) return;
    this.cullScheduled = true;
    const run = () => {
      this.cullScheduled = false;
      const scene = this.current;
      const drawing = scene?.drawing;
      if (!scene || !drawing || this.disposed) return;
      const isFar = this.farTest(scene);
      drawing.list.forEach((drawn, i) => {
        setFar(drawn, isFar(i));
      });
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 0);
  }

  /** Before an export: every node's thumbnails, far ones too. */
  prepareExport(): void {
    const drawing = this.current?.drawing;
    if (drawing) makeAllThumbnails(drawing);
  }

  /** Shows the how-to-zoom hint for a while, the first HINT_SHOWINGS times a plain wheel comes. */
  private showHint(): void {
    if (this.hint.hidden && this.hintShowings >= HINT_SHOWINGS) return;
    if (this.hint.hidden) this.hintShowings++;
    this.hint.hidden = false;
    if (this.hintTimer !== null) clearTimeout(this.hintTimer);
    this.hintTimer = setTimeout(() => this.hideHint(), HINT_MS);
  }

  private hideHint(): void {
    if (this.hintTimer !== null) clearTimeout(this.hintTimer);
    this.hintTimer = null;
    this.hint.hidden = true;
  }

  /** Lays out and draws; a failure of either (unless a newer render took over) marks the root "error". */
  private async relayout(
    snapshot: Snapshot,
    direction: Direction,
    key: string,
    collapsed: ReadonlySet<string>,
  ): Promise<void> {
    const token = ++this.renderToken;
    this.pendingKey = key;
    this.root.setAttribute(ATTR.state, ROOT_STATE.layout);
    try {
      await this.layOutAndDraw(snapshot, direction, key, token, collapsed);
    } catch (error) {
      if (token === this.renderToken && !this.disposed) {
        this.pendingKey = null;
        this.root.setAttribute(ATTR.state, ROOT_STATE.error);
        this.options.onLayoutFailed(error);
      }
    }
  }

  private async layOutAndDraw(
    snapshot: Snapshot,
    direction: Direction,
    key: string,
    token: number,
    collapsed: ReadonlySet<string>,
  ): Promise<void> {
    const graph = indexGraph(snapshot, collapsed);
    const input = layoutInput(graph, direction);
    const layout: RoutedLayout = await this.runner.run(input);
    if (token !== this.renderToken) return;
    this.edgeLayer.replaceChildren();
    this.highlightLayer.replaceChildren();
    this.nodeLayer.replaceChildren();
    this.drawnKey = null;
    this.root.setAttribute(ATTR.engine, layout.engine);
    const scene: Scene = { graph, input, layout, drawing: null };
    this.current = scene;
    this.minimap.setScene(graph, layout);
    const anchor = this.anchor;
    this.anchor = null;
    if (!anchor || !this.keepAnchor(scene, anchor)) this.showDefaultView(scene, snapshot);
    const drawing = await drawGraph(
      this.edgeLayer,
      this.nodeLayer,
      graph,
      layout,
      this.farTest(scene),
      () => token !== this.renderToken,
    );
    if (!drawing || token !== this.renderToken) return;
    drawOpenBoxes(this.nodeLayer, graph, layout, drawing);
    scene.drawing = drawing;
    this.scheduleCull();
    this.drawnKey = key;
    this.pendingKey = null;
    const latest = this.options.latestSnapshot();
    if (latest !== snapshot && structureKey(latest, direction, this.layers.collapsedIn(latest)) === key) {
      updateValues(drawing, latest);
      updateLayerNodes(drawing, latest);
    }
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
