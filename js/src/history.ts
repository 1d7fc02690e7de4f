// The history chart: the loss (a %%autodiff cell's backward() roots) over the cell's backward()
// calls, from the history trait. Redrawn in place on every change (a running loop sends up to 10
// a second); the graph's drawing is never touched.
import { html, svg } from "./dom";
import { compactNumber, historyCaption } from "./format";
import { ATTR, type History, ROLE } from "./protocol";

/** The chart's size and its plot area inside it (px). */
const CHART = { width: 440, height: 84, left: 46, right: 10, top: 8, bottom: 18 } as const;

/** The plot's value range: the finite values' min..max, widened when they are all the same. */
function valueRange(values: readonly (number | null)[]): [number, number] | null {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const value of values) {
    if (value === null || !Number.isFinite(value)) continue;
    low = Math.min(low, value);
    high = Math.max(high, value);
  }
  if (low > high) return null;
  if (low === high) {
    const pad = Math.abs(low) * 0.1 || 1;
    return [low - pad, high + pad];
  }
  return [low, high];
}

/**
 * The polyline of the values over their steps in the plot area, as path data: null values are gaps
 * (a lone value between gaps is a dot, drawn by the round line caps).
 */
export function historyPath(history: Pick<History, "values" | "steps">): string {
  const { values, steps } = history;
  const range = valueRange(values);
  if (!range || values.length === 0) return "";
  const first = steps[0] ?? 1;
  const last = steps[steps.length - 1] ?? first;
  const spanX = Math.max(1, last - first);
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const plotHeight = CHART.height - CHART.top - CHART.bottom;
  const x = (k: number) => CHART.left + (((steps[k] ?? first + k) - first) / spanX) * plotWidth;
  const y = (value: number) => CHART.top + (1 - (value - range[0]) / (range[1] - range[0])) * plotHeight;
  let d = "";
  let open = false;
  values.forEach((value, k) => {
    if (value === null || !Number.isFinite(value)) {
      open = false;
      return;
    }
    const point = `${x(k).toFixed(1)},${y(value).toFixed(1)}`;
    if (open) d += `L${point}`;
    else {
      const next = values[k + 1];
      const lone = next === null || next === undefined || !Number.isFinite(next);
      d += lone ? `M${point}h0.1` : `M${point}`;
    }
    open = true;
  });
  return d;
}

export class HistoryChart {
  readonly element: HTMLDivElement;
  private readonly caption: HTMLSpanElement;
  private readonly line: SVGPathElement;
  private readonly newest: SVGCircleElement;
  private readonly labels: { high: SVGTextElement; low: SVGTextElement; first: SVGTextElement; last: SVGTextElement };

  constructor(doc: Document) {
    this.element = html(doc, "div", { class: "dzw-history", [ATTR.role]: ROLE.history, [ATTR.count]: "0" });
    this.element.hidden = true;
    this.caption = html(doc, "span", { class: "dzw-history-caption" });
    const chart = svg(doc, "svg", {
      class: "dzw-history-chart",
      width: String(CHART.width),
      height: String(CHART.height),
      viewBox: `0 0 ${CHART.width} ${CHART.height}`,
    });
    const plotBottom = CHART.height - CHART.bottom;
    const frame = svg(doc, "path", {
      class: "dzw-history-axis",
      d: `M${CHART.left},${CHART.top}V${plotBottom}H${CHART.width - CHART.right}`,
    });
    this.line = svg(doc, "path", { class: "dzw-history-line" });
    this.newest = svg(doc, "circle", { class: "dzw-history-newest", r: "2.5" });
    const label = (x: number, y: number, anchor: string) =>
      svg(doc, "text", { class: "dzw-history-label", x: String(x), y: String(y), "text-anchor": anchor });
    this.labels = {
      high: label(CHART.left - 4, CHART.top + 4, "end"),
      low: label(CHART.left - 4, plotBottom, "end"),
      first: label(CHART.left, CHART.height - 4, "start"),
      last: label(CHART.width - CHART.right, CHART.height - 4, "end"),
    };
    chart.append(frame, this.line, this.newest, ...Object.values(this.labels));
    this.element.append(this.caption, chart);
  }

  /** Shows `history` (hidden below two values: nothing to chart). */
  show(history: History | null | undefined): void {
    const values = Array.isArray(history?.values) ? history.values : [];
    const steps = Array.isArray(history?.steps) ? history.steps : [];
    this.element.setAttribute(ATTR.count, String(values.length));
    const range = valueRange(values);
    if (!history || values.length < 2 || !range) {
      this.element.hidden = true;
      return;
    }
    this.element.hidden = false;
    const newest = values[values.length - 1];
    const total = Number.isInteger(history.total) ? history.total : values.length;
    this.caption.textContent = historyCaption(history.label, newest, total);
    this.line.setAttribute("d", historyPath({ values, steps }));
    this.labels.high.textContent = compactNumber(range[1]);
    this.labels.low.textContent = compactNumber(range[0]);
    this.labels.first.textContent = `step ${steps[0] ?? 1}`;
    this.labels.last.textContent = String(steps[steps.length - 1] ?? total);
    const lastPoint = /([-\d.]+),([-\d.]+)(?:h0\.1)?$/.exec(this.line.getAttribute("d") ?? "");
    const shownNewest = newest !== null && Number.isFinite(newest) && lastPoint;
    this.newest.style.display = shownNewest ? "" : "none";
    if (shownNewest) {
      this.newest.setAttribute("cx", lastPoint[1]);
      this.newest.setAttribute("cy", lastPoint[2]);
    }
  }
}
