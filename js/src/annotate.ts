// Marks drawn over the graph by the views of issue 11, re-applied after every drawing and value
// update: the function active at the step shown (its node and edges, gy/gx on the edges), each
// variable's grad text at that step (or "?" in predict mode), a dashed "None" pill, gradient-check
// badges, the dashed links from a variable to its grad in the grad graph, and a brief highlight of
// values that changed since the previous snapshot. The drawing's own elements are only marked
// (attributes, classes, the grad text); everything added lives in two layers of its own.
import { svg } from "./dom";
import { NONE_CLASS } from "./draw";
import type { Drawing, DrawnNode } from "./drawn";
import { edgeShape, edgeSlots } from "./edges";
import { gradLine } from "./format";
import { TEXT } from "./graph";
import { summariesDiffer } from "./inspectorPanel";
import type { LayoutInput } from "./layout";
import {
  type ArraySummary,
  ATTR,
  CHECK_MARK,
  type GradCheck,
  type GraphNode,
  NODE_KIND,
  NODE_STATE,
  type Replay,
  ROLE,
  type Snapshot,
  type VariableNode,
} from "./protocol";
import type { Scene } from "./renderer";
import { type EdgeGrad, edgeGrads, gradAtStep } from "./stepping";

/** What the marks show: the step of a replay, checks, and predict mode's hidden grads. */
export interface AnnotationState {
  snapshot: Snapshot;
  /** The replay being stepped through and the step shown; `touched` false: its end, nothing active. */
  replay: Replay | null;
  step: number;
  touched: boolean;
  checks: Readonly<Record<string, GradCheck>>;
  /** Predict mode hides every grad ("?"). */
  hideGrads: boolean;
}

/** The grad text shown while predict mode hides the grads. */
export const HIDDEN_GRAD = "?";
const NONE = "None";
/** Edge grad labels: monospace text of this size, its characters about this wide (px). */
const EDGE_LABEL = { size: 10, charWidth: 6.1, height: 14, padding: 4 } as const;
const SUBSCRIPTS = "₀₁₂₃₄₅₆₇₈₉";
const subscript = (index: number) =>
  String(index)
    .split("")
    .map((digit) => SUBSCRIPTS[Number(digit)])
    .join("");

/** Most a grad link bows away from the straight line between its ends (px). */
const GRAD_LINK_MAX_BOW = 90;
/** The changed-value highlight: two alternating classes, so that each change restarts it. */
const FLASH = ["dzw-flash-a", "dzw-flash-b"] as const;
const FLASH_VALUE = "dzw-changed";
/** Past this many changed nodes, none is highlighted. */
const FLASH_MAX_NODES = 50;
/** Past this many nodes, None is told from 0 by its text's style only (no pill elements). */
const PILL_MAX_NODES = 400;

export class Annotations {
  /** Below the nodes: active edges, grad links. */
  readonly under: SVGGElement;
  /** Above the nodes: the grads on the active function's edges. */
  readonly over: SVGGElement;
  private active: Element | null = null;
  /** Check badges added inside node groups, removed on the next pass. */
  private badges: Element[] = [];
  private checked: Element[] = [];
  /** The drawing marked, and its None pills (kept while wanted: a big graph may have thousands). */
  private drawing: Drawing | null = null;
  private pills = new Map<DrawnNode, SVGRectElement>();
  /** Elements marked by the last highlight of changes. */
  private flashed: Element[] = [];
  private slots: { input: LayoutInput; value: ReturnType<typeof edgeSlots> } | null = null;
  private flashParity = 0;

  constructor(private readonly doc: Document) {
    this.under = svg(doc, "g", { class: "dzw-annotations-under" });
    this.over = svg(doc, "g", { class: "dzw-annotations-over" });
  }

  /** Applies every mark for `state` to the scene's drawing (nothing while it is being drawn). */
  apply(scene: Scene | null, state: AnnotationState): void {
    this.under.replaceChildren();
    this.over.replaceChildren();
    for (const element of this.badges) element.remove();
    this.badges = [];
    const drawing = scene?.drawing;
    if (!scene || !drawing) return;
    if (drawing !== this.drawing) {
      this.drawing = drawing;
      this.pills = new Map();
    }
    const replay = state.replay;
    const stepping = replay !== null && state.touched;
    const activeId = stepping && state.step >= 1 ? replay.steps[state.step - 1]?.function : undefined;
    // A function inside a collapsed layer is marked on the layer's node.
    const activeNode = activeId === undefined ? undefined : (scene.graph.standIn.get(activeId) ?? activeId);
    this.setActive(activeNode === undefined ? null : (drawing.nodes.get(activeNode)?.group ?? null));
    if (stepping && activeId !== undefined) {
      this.drawEdgeGrads(scene, state.snapshot, edgeGrads(replay, state.step, state.snapshot.edges));
    }

    const pills = drawing.list.length <= PILL_MAX_NODES;
    for (const node of state.snapshot.nodes) {
      if (node.kind !== NODE_KIND.variable) continue;
      const drawn = drawing.nodes.get(node.id);
      const parts = drawn?.variable;
      if (!drawn || !parts) continue;
      let shown = parts.text.grad;
      if (state.hideGrads) shown = HIDDEN_GRAD;
      else if (stepping && state.step < replay.steps.length) {
        shown = gradLine(gradAtStep(replay, node.id, state.step, node.grad));
      }
      if (parts.grad.textContent !== shown) parts.grad.textContent = shown;
      this.nonePill(drawn, pills && shown === NONE);
      parts.grad.classList.toggle(NONE_CLASS, shown === NONE);
    }
    this.markChecks(drawing.nodes, state.checks);
    this.drawGradLinks(drawing.nodes, state.snapshot.nodes);
  }

  /**
   * Briefly highlights the nodes whose data or grad differ from `previous` (CSS animation), when
   * few did (a change of everything, as in a training loop, is no news). Returns the ids highlighted.
   */
  flashChanges(scene: Scene | null, previous: ReadonlyMap<string, GraphNode>, snapshot: Snapshot): string[] {
    const drawing = scene?.drawing;
    for (const element of this.flashed) element.classList.remove(FLASH_VALUE, ...FLASH);
    this.flashed = [];
    if (!drawing || previous.size === 0) return [];
    const changes: Array<[id: string, drawn: DrawnNode, data: boolean, grad: boolean]> = [];
    for (const node of snapshot.nodes) {
      if (node.kind !== NODE_KIND.variable) continue;
      const before = previous.get(node.id);
      if (!before || before.kind !== NODE_KIND.variable) continue;
      const data = summariesDiffer(before.data, node.data);
      const grad = summariesDiffer(before.grad, node.grad);
      const drawn = drawing.nodes.get(node.id);
      if (!(data || grad) || !drawn?.variable) continue;
      if (changes.length === FLASH_MAX_NODES) return [];
      changes.push([node.id, drawn, data, grad]);
    }
    // The other class than last time: a new animation name restarts the animation.
    const name = FLASH[this.flashParity];
    this.flashParity = 1 - this.flashParity;
    for (const [, drawn, data, grad] of changes) {
      const parts = drawn.variable as NonNullable<DrawnNode["variable"]>;
      drawn.group.classList.add(name);
      this.flashed.push(drawn.group);
      for (const [changed, text] of [
        [data, parts.data],
        [grad, parts.grad],
      ] as const) {
        if (!changed) continue;
        text.classList.add(FLASH_VALUE);
        this.flashed.push(text);
      }
    }
    return changes.map(([id]) => id);
  }

  private setActive(group: Element | null): void {
    if (this.active === group) return;
    this.active?.removeAttribute(ATTR.nodeState);
    this.active = group;
    group?.setAttribute(ATTR.nodeState, NODE_STATE.active);
  }

  /** A dashed pill around a grad text that reads "None" (`wanted`): no grad is not a zero grad. */
  private nonePill(drawn: DrawnNode, wanted: boolean): void {
    let pill = this.pills.get(drawn);
    const parts = drawn.variable;
    if (!wanted || !parts) {
      pill?.remove();
      this.pills.delete(drawn);
      return;
    }
    if (!pill) {
      pill = svg(this.doc, "rect", { class: "dzw-none-pill", height: "15", rx: "7.5" });
      drawn.group.insertBefore(pill, parts.grad.parentNode);
      this.pills.set(drawn, pill);
    }
    // Where the value sits in its centred row "grad None" (the row moves when a node grows).
    const width = TEXT.valueCharWidth;
    const line = (TEXT.gradPrefix.length + NONE.length) * width;
    const left = drawn.x + parts.geometry.textX - line / 2 + TEXT.gradPrefix.length * width;
    pill.setAttribute("x", (left - 3).toFixed(1));
    pill.setAttribute("y", (drawn.y + parts.geometry.gradY - 7.5).toFixed(1));
    pill.setAttribute("width", (NONE.length * width + 6).toFixed(1));
  }

  /** data-check on checked nodes and a ✓ / ✗ badge at the ellipse's upper right. */
  private markChecks(nodes: ReadonlyMap<string, DrawnNode>, checks: Readonly<Record<string, GradCheck>>): void {
    for (const element of this.checked) element.removeAttribute(ATTR.check);
    this.checked = [];
    for (const [id, check] of Object.entries(checks)) {
      const drawn = nodes.get(id);
      if (!drawn?.variable) continue;
      const mark = check.ok ? CHECK_MARK.pass : CHECK_MARK.fail;
      drawn.group.setAttribute(ATTR.check, mark);
      this.checked.push(drawn.group);
      const rx = Number(drawn.shape.getAttribute("rx")) || 20;
      const ry = Number(drawn.shape.getAttribute("ry")) || 12;
      const cx = drawn.x + rx * 0.72;
      const cy = drawn.y - ry * 0.72;
      const badge = svg(this.doc, "g", { class: `dzw-badge dzw-badge-${mark}`, [ATTR.role]: ROLE.checkBadge });
      const title = svg(this.doc, "title");
      title.textContent = check.ok ? "Gradient check passed" : "Gradient check failed";
      const circle = svg(this.doc, "circle", { cx: cx.toFixed(1), cy: cy.toFixed(1), r: "8" });
      const text = svg(this.doc, "text", { x: cx.toFixed(1), y: cy.toFixed(1) });
      text.textContent = check.ok ? "✓" : "✗";
      badge.append(title, circle, text);
      drawn.group.appendChild(badge);
      this.badges.push(badge);
    }
  }

  /** Dashed "grad" links from each variable to the node of the grad graph that is its grad. */
  private drawGradLinks(nodes: ReadonlyMap<string, DrawnNode>, graphNodes: readonly GraphNode[]): void {
    for (const node of graphNodes) {
      if (node.kind !== NODE_KIND.variable || !(node as VariableNode).gradOf) continue;
      const from = nodes.get((node as VariableNode).gradOf as string);
      const to = nodes.get(node.id);
      if (!from || !to || from === to) continue;
      // A curve bowed to one side (upwards for a link along the drawing), so that it stands
      // out from the straight-on edges and passes over the nodes between its ends less often.
      const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
      const bow = Math.min(GRAD_LINK_MAX_BOW, length * 0.25);
      let nx = (to.y - from.y) / length;
      let ny = -(to.x - from.x) / length;
      if (ny > 0) [nx, ny] = [-nx, -ny];
      const midX = (from.x + to.x) / 2 + nx * bow;
      const midY = (from.y + to.y) / 2 + ny * bow;
      const start = rim(from, midX, midY);
      const end = rim(to, midX, midY);
      // The control point that makes the quadratic pass through (midX, midY) at its middle.
      const cx = 2 * midX - (start.x + end.x) / 2;
      const cy = 2 * midY - (start.y + end.y) / 2;
      const f = (value: number) => value.toFixed(1);
      const path = svg(this.doc, "path", {
        class: "dzw-grad-link",
        d: `M${f(start.x)},${f(start.y)}Q${f(cx)},${f(cy)} ${f(end.x)},${f(end.y)}`,
      });
      const label = svg(this.doc, "text", { class: "dzw-grad-link-label", x: f(midX), y: f(midY - 4) });
      label.textContent = "grad";
      this.under.append(path, label);
    }
  }

  /** The active function's edges, emphasised, each with the grad it carries at this step. */
  private drawEdgeGrads(scene: Scene, snapshot: Snapshot, grads: EdgeGrad[]): void {
    const { graph, input, layout } = scene;
    if (this.slots?.input !== input) this.slots = { input, value: edgeSlots(input) };
    const slots = this.slots.value;
    const drawnEdge = drawnEdgeIndex(scene, snapshot);
    // Edges joining the same two nodes (x used twice by one Add) share one label.
    const groups = new Map<string, { shape: { path: string; arrow: string }; items: EdgeGrad[] }>();
    for (const grad of grads) {
      const e = drawnEdge[grad.edge];
      if (e === undefined || e < 0) continue;
      const shape = edgeShape(input, layout, e, slots);
      const key = `${graph.edgeSource[e]}>${graph.edgeTarget[e]}`;
      const group = groups.get(key);
      if (group) group.items.push(grad);
      else groups.set(key, { shape, items: [grad] });
      this.under.appendChild(svg(this.doc, "path", { class: `dzw-edge-active dzw-edge-${grad.kind}`, d: shape.path }));
      this.under.appendChild(svg(this.doc, "path", { class: `dzw-arrow-active`, d: shape.arrow }));
    }
    for (const { shape, items } of groups.values()) {
      // One line per edge: "gx 1.0", or "gx₀ 1.0" and "gx₁ 1.0" stacked for parallel edges.
      const lines = items.map((item) => {
        const name = items.length > 1 ? `${item.kind}${subscript(item.index)}` : item.kind;
        return `${name} ${summaryText(item.summary)}`;
      });
      const at = this.midpoint(shape.path);
      this.edgeLabel(lines, at, items[0].kind, items.map((item) => summaryText(item.summary)).join(", "));
    }
  }

  private edgeLabel(lines: string[], at: { x: number; y: number }, kind: EdgeGrad["kind"], values: string): void {
    const longest = Math.max(...lines.map((line) => line.length));
    const width = longest * EDGE_LABEL.charWidth + 2 * EDGE_LABEL.padding;
    const height = lines.length * EDGE_LABEL.height;
    const top = at.y - height / 2;
    const group = svg(this.doc, "g", { class: `dzw-edge-grad dzw-edge-grad-${kind}`, [ATTR.role]: ROLE.edgeGrad });
    const title = svg(this.doc, "title");
    title.textContent =
      kind === "gy"
        ? `gy = ${values}: the grad flowing into this function from its output`
        : `gx = ${values}: the grad this function sends to its input`;
    const rect = svg(this.doc, "rect", {
      x: (at.x - width / 2).toFixed(1),
      y: top.toFixed(1),
      width: width.toFixed(1),
      height: String(height),
      rx: "3",
    });
    const label = svg(this.doc, "text");
    lines.forEach((line, k) => {
      const span = svg(this.doc, "tspan", {
        x: at.x.toFixed(1),
        y: (top + (k + 0.5) * EDGE_LABEL.height).toFixed(1),
      });
      span.textContent = k < lines.length - 1 ? `${line} ` : line;
      label.appendChild(span);
    });
    group.append(title, rect, label);
    this.over.appendChild(group);
  }

  /** The middle of an edge's path (its length measured where the browser can, else its ends' middle). */
  private midpoint(d: string): { x: number; y: number } {
    const path = svg(this.doc, "path", { d });
    if (typeof path.getTotalLength === "function") {
      this.over.appendChild(path);
      try {
        const point = path.getPointAtLength(path.getTotalLength() / 2);
        if (Number.isFinite(point.x) && Number.isFinite(point.y)) return { x: point.x, y: point.y };
      } catch {
        // jsdom has no geometry: fall through
      } finally {
        path.remove();
      }
    }
    const numbers = (d.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
    if (numbers.length < 4) return { x: 0, y: 0 };
    return {
      x: (numbers[0] + numbers[numbers.length - 2]) / 2,
      y: (numbers[1] + numbers[numbers.length - 1]) / 2,
    };
  }
}

function summaryText(summary: ArraySummary | null): string {
  return gradLine(summary);
}

/** Where the segment from a node's centre towards (x, y) leaves its shape (ellipse or box). */
function rim(drawn: DrawnNode, x: number, y: number): { x: number; y: number } {
  const dx = x - drawn.x;
  const dy = y - drawn.y;
  const length = Math.hypot(dx, dy) || 1;
  const rx = Number(drawn.shape.getAttribute("rx")) || Number(drawn.shape.getAttribute("width")) / 2 || 10;
  const ry = Number(drawn.shape.getAttribute("ry")) || Number(drawn.shape.getAttribute("height")) / 2 || 10;
  const ux = dx / length;
  const uy = dy / length;
  const t = 1 / Math.sqrt((ux / rx) ** 2 + (uy / ry) ** 2);
  return { x: drawn.x + ux * t, y: drawn.y + uy * t };
}

/**
 * Each snapshot edge's index among the drawn edges (-1 when it is not drawn): indexGraph keeps the
 * edges whose two ends are distinct nodes of the snapshot, in order.
 */
function drawnEdgeIndex(scene: Scene, snapshot: Snapshot): number[] {
  const { graph } = scene;
  const result: number[] = [];
  let drawn = 0;
  for (const edge of snapshot.edges) {
    const s = graph.indexOf.get(edge.source);
    const t = graph.indexOf.get(edge.target);
    if (s === undefined || t === undefined || s === t) {
      result.push(-1);
      continue;
    }
    const matches = graph.edgeSource[drawn] === s && graph.edgeTarget[drawn] === t;
    result.push(matches ? drawn : -1);
    drawn++;
  }
  return result;
}
