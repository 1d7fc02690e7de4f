// Viewport: pan (drag) and zoom of the drawing's group, as maps embedded in pages behave: a plain
// wheel scrolls the page; Ctrl/⌘ + wheel (a trackpad pinch is a wheel event with ctrlKey), the zoom
// buttons, or a plain wheel after a click in the graph (until Escape or a click outside) zoom.
// A press that does not move is left to be a click.
import type { Box } from "./graph";

const MAX_SCALE = 4;
/** The fitted view never enlarges a small drawing past this. */
const MAX_FIT_SCALE = 1.5;
/** Room around a fitted drawing: edge curves and strokes reach a little past the layout's box. */
const FIT_MARGIN = 12;
const DRAG_THRESHOLD = 3;
/** Zoom per wheel pixel: a pinch (ctrlKey) sends small deltas, a mouse wheel ~100 per notch. */
const WHEEL_SENSITIVITY = { zoomGesture: 0.01, focused: 0.0015 } as const;
/** Largest zoom step of one wheel event, in log scale (a Ctrl + mouse-wheel notch). */
const MAX_WHEEL_STEP = 0.25;
/** What a zoom button multiplies the scale by. */
export const ZOOM_STEP = 1.25;

export interface ViewportOptions {
  /** The canvas area: a press in it turns plain-wheel zoom on. */
  area: HTMLElement;
  /** The widget: a press outside it (or Escape) turns plain-wheel zoom off. */
  scope: HTMLElement;
  /** After every change of the view. */
  onChange?(view: PanZoom): void;
  /** A plain wheel over the graph while it scrolls the page: say how to zoom. */
  onPlainWheel?(): void;
  /** Plain-wheel zoom turned on or off. */
  onWheelZoom?(on: boolean): void;
}

/** The view to set again when the canvas resizes, until the user pans or zooms. */
type AutoView =
  | { kind: "fit"; width: number; height: number }
  | {
      kind: "legible";
      width: number;
      height: number;
      focusX: number;
      focusY: number;
      minScale: number;
      reserveBottom: number;
    };

export class PanZoom {
  scale = 1;
  x = 0;
  y = 0;
  /** Whether a plain wheel zooms (after a press in the graph). */
  wheelZoom = false;
  private minScale = 0.1;
  private dragging: {
    pointerId: number;
    startX: number;
    startY: number;
    lastX: number;
    lastY: number;
    moved: boolean;
  } | null = null;
  /** True right after a drag, so the click that ends it does not select a node. */
  private suppressClick = false;
  private readonly listeners: Array<[EventTarget, string, EventListener, AddEventListenerOptions?]>;
  private auto: AutoView | null = null;
  /** Canvas px kept clear on the right (the open inspector's place). */
  private reservedRight = 0;
  /** The automatic view left to show a node beside the reserved right, set again when it is freed. */
  private autoBeforeReserve: AutoView | null = null;
  private readonly resizeObserver: ResizeObserver | null;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly target: SVGGElement,
    private readonly options: ViewportOptions,
  ) {
    const doc = svg.ownerDocument;
    const on = <E extends Event>(
      element: EventTarget,
      type: string,
      handler: (event: E) => void,
      opts?: AddEventListenerOptions,
    ) =>
      [element, type, handler as EventListener, opts] as [EventTarget, string, EventListener, AddEventListenerOptions?];
    this.listeners = [
      on(svg, "wheel", (event: WheelEvent) => this.onWheel(event), { passive: false }),
      on(svg, "pointerdown", (event: PointerEvent) => this.onPointerDown(event)),
      on(svg, "pointermove", (event: PointerEvent) => this.onPointerMove(event)),
      on(svg, "pointerup", (event: PointerEvent) => this.onPointerUp(event)),
      on(svg, "pointercancel", (event: PointerEvent) => this.onPointerUp(event)),
      on(svg, "click", (event: MouseEvent) => this.onClickCapture(event), { capture: true }),
      on(options.area, "pointerdown", () => this.setWheelZoom(true)),
      on(doc, "pointerdown", (event: PointerEvent) => this.onDocumentPointerDown(event), { capture: true }),
      on(doc, "keydown", (event: KeyboardEvent) => this.onKeyDown(event)),
    ];
    for (const [element, type, listener, opts] of this.listeners) element.addEventListener(type, listener, opts);
    // The output area may attach or resize the widget after the first view was set.
    this.resizeObserver = typeof ResizeObserver === "function" ? new ResizeObserver(() => this.reapply()) : null;
    this.resizeObserver?.observe(svg);
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    for (const [element, type, listener, opts] of this.listeners) element.removeEventListener(type, listener, opts);
  }

  /** The canvas size in pixels (a default before it is laid out, as in tests). */
  viewSize(): { width: number; height: number } {
    const box = this.svg.getBoundingClientRect();
    return {
      width: box.width || this.svg.clientWidth || 600,
      height: box.height || this.svg.clientHeight || 400,
    };
  }

  /** The part of the canvas views are made for: all of it but the reserved right (at least 40%). */
  private freeSize(): { width: number; height: number } {
    const view = this.viewSize();
    return { width: Math.max(view.width - this.reservedRight, 0.4 * view.width), height: view.height };
  }

  /** The scale that shows the whole drawing (width x height), never enlarged past MAX_FIT_SCALE. */
  fitScale(width: number, height: number): number {
    const view = this.freeSize();
    return Math.min(view.width / (width + 2 * FIT_MARGIN), view.height / (height + 2 * FIT_MARGIN), MAX_FIT_SCALE);
  }

  /** Shows the whole drawing, centred, however small that makes it. */
  fit(width: number, height: number): void {
    const view = this.freeSize();
    const scale = this.fitScale(width, height);
    this.minScale = Math.min(0.1, scale / 2);
    this.scale = scale;
    this.x = (view.width - width * scale) / 2;
    this.y = (view.height - height * scale) / 2;
    this.setAuto({ kind: "fit", width, height });
    this.apply();
  }

  /**
   * The default view: the whole drawing when it fits at `minScale` or more, else `minScale` around
   * the point (focusX, focusY) of the drawing, without showing more empty room past its edges than
   * needed, and keeping the bottom `reserveBottom` px (the minimap's place) clear where it can.
   */
  showLegible(width: number, height: number, focusX: number, focusY: number, minScale: number, reserveBottom = 0) {
    const fitScale = this.fitScale(width, height);
    if (fitScale >= minScale) {
      this.fit(width, height);
      return;
    }
    const view = this.freeSize();
    this.minScale = Math.min(0.1, fitScale / 2);
    this.scale = minScale;
    this.x = clampOffset(view.width / 2 - focusX * minScale, width * minScale, view.width);
    const extent = height * minScale;
    const above = view.height - reserveBottom;
    this.y =
      extent + 2 * FIT_MARGIN <= above
        ? clampOffset(above / 2 - focusY * minScale, extent, above)
        : clampOffset(view.height / 2 - focusY * minScale, extent, view.height);
    this.setAuto({ kind: "legible", width, height, focusX, focusY, minScale, reserveBottom });
    this.apply();
  }

  /**
   * Keeps the right `px` of the canvas clear (0: none). A default or fitted view is made again
   * beside it; then the view moves, at the same zoom, only as far as needed to show `box` (in
   * drawing coordinates) beside it.
   */
  reserveRight(px: number, box?: Box): void {
    this.reservedRight = px;
    if (this.autoBeforeReserve) this.auto = this.autoBeforeReserve;
    this.autoBeforeReserve = null;
    const auto = this.auto;
    if (auto) this.reapply();
    if (box && this.bringIntoView(box) && auto) {
      // Moved off the automatic view: a resize must not take the node away again; freeing the
      // right brings that view back.
      this.auto = null;
      this.autoBeforeReserve = auto;
    }
  }

  /** Any new view the user or the drawing asks for replaces the automatic one. */
  private setAuto(view: AutoView | null): void {
    this.auto = view;
    this.autoBeforeReserve = null;
  }

  /** The smallest move that puts `box` inside the free part of the canvas (its left/top edge
   * first); whether the view moved. */
  private bringIntoView(box: Box): boolean {
    const view = this.freeSize();
    const shift = (low: number, high: number, size: number) => {
      if (low < FIT_MARGIN) return FIT_MARGIN - low;
      if (high > size - FIT_MARGIN) return Math.max(size - FIT_MARGIN - high, FIT_MARGIN - low);
      return 0;
    };
    const dx = shift(box.x0 * this.scale + this.x, box.x1 * this.scale + this.x, view.width);
    const dy = shift(box.y0 * this.scale + this.y, box.y1 * this.scale + this.y, view.height);
    if (dx === 0 && dy === 0) return false;
    this.x += dx;
    this.y += dy;
    this.apply();
    return true;
  }

  /** Moves the view so that the drawing's point (x, y) is at the canvas centre. */
  centreOn(x: number, y: number): void {
    const view = this.viewSize();
    this.x = view.width / 2 - x * this.scale;
    this.y = view.height / 2 - y * this.scale;
    this.setAuto(null);
    this.apply();
  }

  /** Zooms by `factor` about the canvas centre (the zoom buttons). */
  zoomBy(factor: number): void {
    const view = this.viewSize();
    this.zoomAt(factor, view.width / 2, view.height / 2);
  }

  /** Zooms by `factor` keeping the point (px, py), in viewport pixels, fixed on screen. */
  zoomAt(factor: number, px: number, py: number): void {
    const scale = Math.min(MAX_SCALE, Math.max(this.minScale, this.scale * factor));
    const applied = scale / this.scale;
    this.x = px - (px - this.x) * applied;
    this.y = py - (py - this.y) * applied;
    this.scale = scale;
    this.setAuto(null);
    this.apply();
  }

  setWheelZoom(on: boolean): void {
    if (this.wheelZoom === on) return;
    this.wheelZoom = on;
    this.options.onWheelZoom?.(on);
  }

  private reapply(): void {
    const auto = this.auto;
    if (auto?.kind === "fit") this.fit(auto.width, auto.height);
    else if (auto) {
      this.showLegible(auto.width, auto.height, auto.focusX, auto.focusY, auto.minScale, auto.reserveBottom);
    }
  }

  private apply(): void {
    this.target.setAttribute("transform", `translate(${this.x},${this.y}) scale(${this.scale})`);
    this.options.onChange?.(this);
  }

  private onWheel(event: WheelEvent): void {
    const zoomGesture = event.ctrlKey || event.metaKey;
    if (!zoomGesture && !this.wheelZoom) {
      // Not ours: the page scrolls.
      this.options.onPlainWheel?.();
      return;
    }
    event.preventDefault();
    const lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
    const sensitivity = zoomGesture ? WHEEL_SENSITIVITY.zoomGesture : WHEEL_SENSITIVITY.focused;
    const step = Math.max(-MAX_WHEEL_STEP, Math.min(MAX_WHEEL_STEP, -event.deltaY * lines * sensitivity));
    const box = this.svg.getBoundingClientRect();
    this.zoomAt(Math.exp(step), event.clientX - box.left, event.clientY - box.top);
  }

  private onDocumentPointerDown(event: PointerEvent): void {
    if (this.wheelZoom && !this.options.scope.contains(event.target as Node)) this.setWheelZoom(false);
  }

  private onKeyDown(event: KeyboardEvent): void {
    if (event.key === "Escape") this.setWheelZoom(false);
  }

  private onPointerDown(event: PointerEvent): void {
    if (event.button !== 0) return;
    this.dragging = {
      pointerId: event.pointerId,
      startX: event.clientX,
      startY: event.clientY,
      lastX: event.clientX,
      lastY: event.clientY,
      moved: false,
    };
  }

  private onPointerMove(event: PointerEvent): void {
    const drag = this.dragging;
    if (!drag || drag.pointerId !== event.pointerId) return;
    if (!drag.moved && Math.hypot(event.clientX - drag.startX, event.clientY - drag.startY) < DRAG_THRESHOLD) return;
    if (!drag.moved) {
      drag.moved = true;
      this.svg.setPointerCapture?.(event.pointerId);
      this.svg.classList.add("dzw-panning");
    }
    this.setAuto(null);
    this.x += event.clientX - drag.lastX;
    this.y += event.clientY - drag.lastY;
    drag.lastX = event.clientX;
    drag.lastY = event.clientY;
    this.apply();
  }

  private onPointerUp(event: PointerEvent): void {
    const drag = this.dragging;
    if (!drag || drag.pointerId !== event.pointerId) return;
    this.suppressClick = drag.moved;
    this.dragging = null;
    this.svg.classList.remove("dzw-panning");
    if (this.svg.hasPointerCapture?.(event.pointerId)) this.svg.releasePointerCapture(event.pointerId);
  }

  private onClickCapture(event: MouseEvent): void {
    if (this.suppressClick) {
      event.stopPropagation();
      this.suppressClick = false;
    }
  }
}

/**
 * An offset along one axis: `wanted` when the drawing (extent px) covers the view (size px) with it,
 * else the nearest offset that does; a drawing smaller than the view is centred.
 */
function clampOffset(wanted: number, extent: number, size: number): number {
  if (extent + 2 * FIT_MARGIN <= size) return (size - extent) / 2;
  return Math.min(FIT_MARGIN, Math.max(size - extent - FIT_MARGIN, wanted));
}
