// Test fixtures: snapshots shaped like dezero_widget/trace.py output, a fake anywidget model, and
// the page element views are mounted on.
import { afterEach } from "vitest";
import type { GraphView } from "../src/app";
import {
  type ArraySummary,
  type ClientMessage,
  type Edge,
  EMPTY_HISTORY,
  EMPTY_REPLAY,
  type GraphNode,
  type History,
  type ModelState,
  type Replay,
  type Snapshot,
  type VariableNode,
  type WidgetModel,
} from "../src/protocol";

export function scalar(value: number): ArraySummary {
  return { shape: [], dtype: "float64", size: 1, preview: value.toFixed(1) };
}

/** The byte summary.py gives a value of a thumbnail on lo..hi (251-253 for NaN, +Inf, -Inf). */
export function thumbnailCode(value: number, lo: number, hi: number): number {
  if (Number.isNaN(value)) return 251;
  if (value === Number.POSITIVE_INFINITY) return 252;
  if (value === Number.NEGATIVE_INFINITY) return 253;
  if (hi === lo) return 125;
  return Math.round(Math.min(250, Math.max(0, ((value - lo) * 250) / (hi - lo))));
}

/**
 * A summary of a small 1-D or 2-D array as summary.py makes it: statistics of the finite values,
 * non-finite counts, and a thumbnail of every element (diverging, lo = -hi, for a grad).
 */
export function arraySummary(shape: [number] | [number, number], values: number[], grad = false): ArraySummary {
  const finite = values.filter(Number.isFinite);
  const min = finite.length ? Math.min(...finite) : null;
  const max = finite.length ? Math.max(...finite) : null;
  const summary: ArraySummary = {
    shape,
    dtype: "float64",
    size: values.length,
    preview: `[${values.map((v) => (Number.isNaN(v) ? "nan" : Number.isFinite(v) ? v.toFixed(4) : v > 0 ? "inf" : "-inf")).join(" ")}]`,
    min,
    max,
    mean: finite.length ? finite.reduce((a, b) => a + b, 0) / finite.length : null,
    norm: Math.sqrt(finite.reduce((a, b) => a + b * b, 0)),
  };
  const nan = values.filter(Number.isNaN).length;
  const posinf = values.filter((v) => v === Number.POSITIVE_INFINITY).length;
  const neginf = values.filter((v) => v === Number.NEGATIVE_INFINITY).length;
  if (nan) summary.nan = nan;
  if (posinf) summary.posinf = posinf;
  if (neginf) summary.neginf = neginf;
  if (min !== null && max !== null && values.length >= 2) {
    const hi = grad ? Math.max(Math.abs(min), Math.abs(max)) : max;
    const lo = grad ? -hi : min;
    const codes = values.map((v) => thumbnailCode(v, lo, hi));
    summary.thumbnail = {
      rows: shape.length === 2 ? shape[0] : 1,
      cols: shape.length === 2 ? shape[1] : shape[0],
      lo,
      hi,
      cells: btoa(String.fromCharCode(...codes)),
    };
  }
  return summary;
}

function variable(
  id: string,
  label: string,
  generation: number,
  data: number,
  grad: number | null,
  extra: Partial<VariableNode> = {},
): VariableNode {
  return {
    id,
    kind: "variable",
    label,
    shape: [],
    dtype: "float64",
    data: scalar(data),
    grad: grad === null ? null : scalar(grad),
    role: "intermediate",
    generation,
    ...extra,
  };
}

/** The seed: y = add(add(x, x), x) with x = 3.0, after y.backward() when `withGrads`. */
export function seedSnapshot(withGrads = true): Snapshot {
  const g = (value: number) => (withGrads ? value : null);
  const nodes: GraphNode[] = [
    variable("v1", "x", 0, 3, g(3), { role: "input" }),
    { id: "f1", kind: "function", op: "Add", generation: 0 },
    variable("v2", "", 1, 6, g(1), { creator: "f1" }),
    { id: "f2", kind: "function", op: "Add", generation: 1 },
    variable("v3", "y", 2, 9, g(1), { creator: "f2", role: "output" }),
  ];
  const edges: Edge[] = [
    { source: "v1", target: "f1", index: 0 },
    { source: "v1", target: "f1", index: 1 },
    { source: "f1", target: "v2", index: 0 },
    { source: "v2", target: "f2", index: 0 },
    { source: "v1", target: "f2", index: 1 },
    { source: "f2", target: "v3", index: 0 },
  ];
  return { version: 1, nodes, edges, outputs: ["v3"], truncated: false, omitted: 0 };
}

/** A chain of `length` Exp functions: x -> Exp -> v -> Exp -> ... */
export function chainSnapshot(length: number, withGenerations = true): Snapshot {
  const nodes: GraphNode[] = [variable("v0", "x", 0, 1, null, { role: "input" })];
  const edges: Edge[] = [];
  for (let i = 1; i <= length; i++) {
    nodes.push({ id: `f${i}`, kind: "function", op: "Exp", generation: i - 1 });
    nodes.push(variable(`v${i}`, "", i, i, null, { creator: `f${i}` }));
    edges.push({ source: `v${i - 1}`, target: `f${i}`, index: 0 }, { source: `f${i}`, target: `v${i}`, index: 0 });
  }
  if (!withGenerations) for (const node of nodes) delete node.generation;
  return { version: 1, nodes, edges, outputs: [`v${length}`], truncated: false, omitted: 0 };
}

/** A model state around `snapshot`, with no history unless given. */
export function state(snapshot: Snapshot, extra: Partial<ModelState> = {}): ModelState {
  return {
    snapshot,
    direction: "LR",
    status: "",
    history: EMPTY_HISTORY,
    replay: EMPTY_REPLAY,
    checks: {},
    grad_graph: false,
    ...extra,
  };
}

/** A history of `count` backward() calls as watch.py sends it: at most `points` values, evenly spaced. */
export function lossHistory(count: number, points = 200, value = (step: number) => 1 / step): History {
  const picked =
    count <= points
      ? Array.from({ length: count }, (_, k) => k)
      : Array.from({ length: points }, (_, k) => Math.round((k * (count - 1)) / (points - 1)));
  return { label: "loss", values: picked.map((k) => value(k + 1)), steps: picked.map((k) => k + 1), total: count };
}

type Handler = Parameters<WidgetModel["on"]>[1];

/** The parts of anywidget's model the view uses, recording what it sends. */
export class FakeModel implements WidgetModel {
  readonly sent: ClientMessage[] = [];
  private readonly handlers = new Map<string, Set<Handler>>();
  constructor(private readonly state: ModelState) {}

  get<K extends keyof ModelState>(key: K): ModelState[K] {
    return this.state[key];
  }
  set<K extends keyof ModelState>(key: K, value: ModelState[K]): void {
    this.state[key] = value;
    this.emit(`change:${key}`, value);
  }
  on(event: string, callback: Handler): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(callback);
  }
  off(event?: string | null, callback?: Handler | null): void {
    if (event && callback) this.handlers.get(event)?.delete(callback);
  }
  send(message: ClientMessage): void {
    this.sent.push(message);
  }
  save_changes(): void {}
  readonly widget_manager: WidgetModel["widget_manager"] = {
    get_model: () => Promise.reject(new Error("FakeModel has no widget manager")),
  };
  emit(event: string, ...args: unknown[]): void {
    for (const handler of this.handlers.get(event) ?? []) handler(...args);
  }
  listenerCount(): number {
    let total = 0;
    for (const set of this.handlers.values()) total += set.size;
    return total;
  }
}

/**
 * The replay replay.py records for seedSnapshot's backward: the outer Add (f2) first, then the
 * inner one (f1); x (v1) gets 1.0 at step 1 and two more at step 2. `before`: x's grad before
 * this backward (a second Backward without Reset), added to every total of x.
 */
export function seedReplay(before: number | null = null): Replay {
  const s = scalar;
  const offset = before ?? 0;
  return {
    output: "v3",
    steps: [
      { function: "f2", gys: [s(1)], gxs: [s(1), s(1)] },
      { function: "f1", gys: [s(1)], gxs: [s(1), s(1)] },
    ],
    variables: {
      v3: { before: null, terms: [{ step: 0, source: "", value: s(1), total: s(1) }] },
      v2: { before: null, terms: [{ step: 1, source: "f2", value: s(1), total: s(1) }] },
      v1: {
        before: before === null ? null : s(before),
        terms: [
          { step: 1, source: "f2", value: s(1), total: s(offset + 1) },
          { step: 2, source: "f1", value: s(1), total: s(offset + 2) },
          { step: 2, source: "f1", value: s(1), total: s(offset + 3) },
        ],
      },
    },
    accumulated: before === null ? [] : ["v1"],
  };
}

/**
 * The element a test file mounts its views on (in the page, for layout), emptied after each test,
 * and the views to dispose then: push every view made.
 */
export function viewHost(): { host: HTMLDivElement; views: GraphView[] } {
  const host = document.createElement("div");
  document.body.appendChild(host);
  const views: GraphView[] = [];
  afterEach(() => {
    for (const view of views.splice(0)) view.dispose();
    host.replaceChildren();
  });
  return { host, views };
}
