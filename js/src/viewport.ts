// Viewport: pan (drag) and zoom (wheel; a trackpad pinch is a wheel event with ctrlKey) of the drawing's group.
// A press that does not move is left to be a click.

const MAX_SCALE = 4;
/** Room around a fitted drawing: edge curves and strokes reach a little past the layout's box. */
const FIT_MARGIN = 12;
const DRAG_THRESHOLD = 3;

export class PanZoom {
  scale = 1;
  x = 0;
  y = 0;
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
  private readonly listeners: Array<[string, EventListener, AddEventListenerOptions?]>;
  /** The drawing size last fitted, until the user pans or zooms: a resize then fits again. */
  private fitted: { width: number; height: number } | null = null;
  private readonly resizeObserver: ResizeObserver | null;

  constructor(
    private readonly svg: SVGSVGElement,
    private readonly target: SVGGElement,
    private readonly onScale: (scale: number) => void = () => {},
  ) {
    this.listeners = [
      ["wheel", ((event: WheelEvent) => this.onWheel(event)) as EventListener, { passive: false }],
      ["pointerdown", ((event: PointerEvent) => this.onPointerDown(event)) as EventListener],
      ["pointermove", ((event: PointerEvent) => this.onPointerMove(event)) as EventListener],
      ["pointerup", ((event: PointerEvent) => this.onPointerUp(event)) as EventListener],
      ["pointercancel", ((event: PointerEvent) => this.onPointerUp(event)) as EventListener],
      ["click", ((event: MouseEvent) => this.onClickCapture(event)) as EventListener, { capture: true }],
    ];
    for (const [type, listener, options] of this.listeners) svg.addEventListener(type, listener, options);
    // The output area may attach or resize the widget after the first fit.
    this.resizeObserver = typeof ResizeObserver === "function" ? new ResizeObserver(() => this.refit()) : null;
    this.resizeObserver?.observe(svg);
  }

  dispose(): void {
    this.resizeObserver?.disconnect();
    for (const [type, listener, options] of this.listeners) this.svg.removeEventListener(type, listener, options);
  }

  /** Shows the whole drawing (width x height) centred, never enlarged past 1.5x. */
  fit(width: number, height: number): void {
    const box = this.svg.getBoundingClientRect();
    const viewWidth = box.width || this.svg.clientWidth || 600;
    const viewHeight = box.height || this.svg.clientHeight || 400;
    const scale = Math.min(viewWidth / (width + 2 * FIT_MARGIN), viewHeight / (height + 2 * FIT_MARGIN), 1.5);
    this.minScale = Math.min(0.1, scale / 2);
    this.scale = scale;
    this.x = (viewWidth - width * scale) / 2;
    this.y = (viewHeight - height * scale) / 2;
    this.fitted = { width, height };
    this.apply();
  }

  private refit(): void {
    if (this.fitted) this.fit(this.fitted.width, this.fitted.height);
  }

  /** Zooms by `factor` keeping the point (px, py), in viewport pixels, fixed on screen. */
  zoomAt(factor: number, px: number, py: number): void {
    const scale = Math.min(MAX_SCALE, Math.max(this.minScale, this.scale * factor));
    const applied = scale / this.scale;
    this.x = px - (px - this.x) * applied;
    this.y = py - (py - this.y) * applied;
    this.scale = scale;
    this.fitted = null;
    this.apply();
  }

  private apply(): void {
    this.target.setAttribute("transform", `translate(${this.x},${this.y}) scale(${this.scale})`);
    this.onScale(this.scale);
  }

  private onWheel(event: WheelEvent): void {
    event.preventDefault();
    const lines = event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1;
    const sensitivity = event.ctrlKey ? 0.01 : 0.0015;
    const box = this.svg.getBoundingClientRect();
    this.zoomAt(Math.exp(-event.deltaY * lines * sensitivity), event.clientX - box.left, event.clientY - box.top);
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
    this.fitted = null;
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
