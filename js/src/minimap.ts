// The minimap: an inset overview of the whole drawing with the viewport's rectangle, shown while
// the drawing does not fit the view. A press or drag on it moves the view there.
// Nodes are two <path> elements (variables, functions), built only when the minimap first shows.
import { html, svg } from "./dom";
import type { IndexedGraph } from "./graph";
import type { LayoutResult } from "./layout";
import { ATTR, NODE_KIND, ROLE } from "./protocol";

/** Largest size of the inset (px); its sides follow the drawing's proportions within bounds. */
const BOX = { maxWidth: 180, maxHeight: 100, minWidth: 48, minHeight: 24 } as const;
/** Smallest node mark and viewport mark in the inset (px), so both stay visible on a huge drawing. */
const MIN_MARK = 1.5;
const MIN_VIEW_MARK = 6;
/** The minimap's and the inspector's distance from the canvas's corners (px; styles.ts places them). */
export const INSET_OFFSET = 8;
/** How far (px on screen) the drawing may reach past the view before the minimap shows. */
const SHOW_TOLERANCE = 4;

export interface ViewState {
  scale: number;
  x: number;
  y: number;
}

export class Minimap {
  readonly element: HTMLDivElement;
  private readonly canvas: SVGSVGElement;
  private readonly variables: SVGPathElement;
  private readonly functions: SVGPathElement;
  private readonly viewRect: SVGRectElement;
  private scene: { graph: IndexedGraph; layout: LayoutResult; drawn: boolean } | null = null;
  private box = { width: 0, height: 0 };
  private pointerId: number | null = null;

  /** `moveTo` centres the view on a point of the drawing. */
  constructor(
    doc: Document,
    private readonly moveTo: (x: number, y: number) => void,
  ) {
    this.element = html(doc, "div", {
      class: "dzw-minimap",
      [ATTR.role]: ROLE.minimap,
      title: "Overview: click or drag to move the view",
    });
    this.element.hidden = true;
    this.canvas = svg(doc, "svg", { preserveAspectRatio: "none" });
    this.variables = svg(doc, "path", { class: "dzw-minimap-var" });
    this.functions = svg(doc, "path", { class: "dzw-minimap-fn" });
    this.viewRect = svg(doc, "rect", { class: "dzw-minimap-view", "vector-effect": "non-scaling-stroke" });
    this.canvas.append(this.variables, this.functions, this.viewRect);
    this.element.appendChild(this.canvas);
    this.canvas.addEventListener("pointerdown", (event) => this.onPointerDown(event));
    this.canvas.addEventListener("pointermove", (event) => this.onPointerMove(event));
    this.canvas.addEventListener("pointerup", (event) => this.onPointerUp(event));
    this.canvas.addEventListener("pointercancel", (event) => this.onPointerUp(event));
  }

  /** The inset's height (px) for the drawing last set, with its offset from the canvas's bottom. */
  get reservedHeight(): number {
    return this.box.height + 2 * INSET_OFFSET;
  }

  /** A new drawing: its marks are built when the minimap next shows. */
  setScene(graph: IndexedGraph, layout: LayoutResult): void {
    this.scene = { graph, layout, drawn: false };
    const aspect = layout.width / Math.max(1, layout.height);
    let width = Math.min(BOX.maxWidth, BOX.maxHeight * aspect);
    let height = width / aspect;
    width = Math.max(BOX.minWidth, width);
    height = Math.max(BOX.minHeight, Math.min(BOX.maxHeight, height));
    this.box = { width: Math.round(width), height: Math.round(height) };
    this.canvas.setAttribute("width", String(this.box.width));
    this.canvas.setAttribute("height", String(this.box.height));
    this.canvas.setAttribute("viewBox", `0 0 ${layout.width} ${layout.height}`);
    this.variables.setAttribute("d", "");
    this.functions.setAttribute("d", "");
  }

  /** Follows the view: shown while the drawing reaches past it, with the view's rectangle. */
  update(view: ViewState, viewWidth: number, viewHeight: number): void {
    const scene = this.scene;
    if (!scene) {
      this.element.hidden = true;
      return;
    }
    const { width, height } = scene.layout;
    const x0 = -view.x / view.scale;
    const y0 = -view.y / view.scale;
    const w = viewWidth / view.scale;
    const h = viewHeight / view.scale;
    const slack = SHOW_TOLERANCE / view.scale;
    const fits = x0 <= slack && y0 <= slack && x0 + w >= width - slack && y0 + h >= height - slack;
    this.element.hidden = fits;
    if (fits) return;
    if (!scene.drawn) this.drawMarks(scene);
    // Never thinner than MIN_VIEW_MARK px on the inset, so it stays findable on a huge drawing.
    const markWidth = Math.max(w, (MIN_VIEW_MARK * width) / Math.max(1, this.box.width));
    const markHeight = Math.max(h, (MIN_VIEW_MARK * height) / Math.max(1, this.box.height));
    this.viewRect.setAttribute("x", (x0 - (markWidth - w) / 2).toFixed(1));
    this.viewRect.setAttribute("y", (y0 - (markHeight - h) / 2).toFixed(1));
    this.viewRect.setAttribute("width", markWidth.toFixed(1));
    this.viewRect.setAttribute("height", markHeight.toFixed(1));
  }

  private drawMarks(scene: { graph: IndexedGraph; layout: LayoutResult; drawn: boolean }): void {
    const { graph, layout } = scene;
    const minWidth = (MIN_MARK * layout.width) / Math.max(1, this.box.width);
    const minHeight = (MIN_MARK * layout.height) / Math.max(1, this.box.height);
    const variables: string[] = [];
    const functions: string[] = [];
    graph.nodes.forEach((node, i) => {
      const w = Math.max(minWidth, graph.sizes[i].width);
      const h = Math.max(minHeight, graph.sizes[i].height);
      const mark = `M${(layout.x[i] - w / 2).toFixed(0)},${(layout.y[i] - h / 2).toFixed(0)}h${w.toFixed(0)}v${h.toFixed(0)}h${(-w).toFixed(0)}z`;
      (node.kind === NODE_KIND.function ? functions : variables).push(mark);
    });
    this.variables.setAttribute("d", variables.join(""));
    this.functions.setAttribute("d", functions.join(""));
    scene.drawn = true;
  }

  private pointAt(event: PointerEvent): [number, number] | null {
    const scene = this.scene;
    if (!scene) return null;
    const box = this.canvas.getBoundingClientRect();
    const width = box.width || this.box.width;
    const height = box.height || this.box.height;
    return [
      ((event.clientX - box.left) / width) * scene.layout.width,
      ((event.clientY - box.top) / height) * scene.layout.height,
    ];
  }

  private onPointerDown(event: PointerEvent): void {
    if (event.button !== 0) return;
    event.preventDefault();
    this.pointerId = event.pointerId;
    this.canvas.setPointerCapture?.(event.pointerId);
    const point = this.pointAt(event);
    if (point) this.moveTo(...point);
  }

  private onPointerMove(event: PointerEvent): void {
    if (this.pointerId !== event.pointerId) return;
    const point = this.pointAt(event);
    if (point) this.moveTo(...point);
  }

  private onPointerUp(event: PointerEvent): void {
    if (this.pointerId !== event.pointerId) return;
    this.pointerId = null;
    if (this.canvas.hasPointerCapture?.(event.pointerId)) this.canvas.releasePointerCapture(event.pointerId);
  }
}
