// Test fixtures: snapshots shaped like dezero_widget/trace.py output, and a fake anywidget model.
import type {
  ArraySummary,
  ClientMessage,
  Edge,
  GraphNode,
  ModelState,
  Snapshot,
  VariableNode,
  WidgetModel,
} from "../src/protocol";

export function scalar(value: number): ArraySummary {
  return { shape: [], dtype: "float64", size: 1, preview: value.toFixed(1) };
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
