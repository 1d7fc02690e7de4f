// Benchmark harness: mounts the built widget (./widget.js) with a fake anywidget model and
// synthetic autodiff-shaped snapshots, and times it. Driven by benchmarks/bench_layout.py.
import widget from "./widget.js";

const longTasks = [];
new PerformanceObserver((list) => longTasks.push(...list.getEntries())).observe({ type: "longtask", buffered: true });

class FakeModel {
  constructor(state) {
    this.state = state;
    this.handlers = new Map();
    this.sent = [];
  }
  get(key) { return this.state[key]; }
  set(key, value) {
    this.state[key] = value;
    for (const handler of this.handlers.get(`change:${key}`) ?? []) handler(value);
  }
  on(event, handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event).add(handler);
  }
  off(event, handler) { this.handlers.get(event)?.delete(handler); }
  save_changes() {}
  send(message) {
    this.sent.push(message);
    if (message.type === "hello" && this.kernel) setTimeout(() => this.emit("msg:custom", { type: "welcome" }), 20);
  }
  emit(event, ...args) { for (const handler of this.handlers.get(event) ?? []) handler(...args); }
}

// ---- synthetic snapshots (the shapes dezero_widget/trace.py produces) ----
function summary(value, size = 1, shape = []) {
  if (size === 1) return { shape, dtype: "float64", size: 1, preview: value.toFixed(4).replace(/0+$/, "0") };
  const head = [value, value + 0.5, value + 1].map((v) => v.toFixed(3)).join(" ");
  const tail = [value + 2, value + 3].map((v) => v.toFixed(3)).join(" ");
  return {
    shape, dtype: "float64", size, preview: `[${head} ... ${tail}]`, min: value, max: value + 3, mean: value + 1.5,
    norm: Math.sqrt(size) * (value + 1.5), thumbnail: thumbnail(value, shape),
  };
}

/** A heatmap thumbnail of a 1-D or 2-D array (as summary.py makes them), different per value. */
function thumbnail(value, shape) {
  const rows = shape.length === 2 ? Math.min(16, shape[0]) : 1;
  const cols = Math.min(16, shape[shape.length - 1]);
  const seed = Math.round(value * 1000);
  let bytes = "";
  for (let k = 0; k < rows * cols; k++) bytes += String.fromCharCode((seed * 37 + k * 31) % 251);
  return { rows, cols, lo: value, hi: value + 3, cells: btoa(bytes) };
}

class Builder {
  constructor() { this.nodes = []; this.edges = []; this.count = 0; }
  variable(generation, { label = "", size = 1, role = "intermediate", creator } = {}) {
    const id = `v${this.count++}`;
    const shape = size === 1 ? [] : [size];
    this.nodes.push({ id, kind: "variable", label, shape, dtype: "float64", data: summary(this.count * 0.01, size, shape), grad: null, role, generation, ...(creator ? { creator } : {}) });
    return id;
  }
  apply(op, inputs, generations, outSize = 1) {
    const generation = Math.max(...generations);
    const id = `f${this.count++}`;
    this.nodes.push({ id, kind: "function", op, generation });
    inputs.forEach((source, index) => this.edges.push({ source, target: id, index }));
    const out = this.variable(generation + 1, { creator: id, size: outSize });
    this.edges.push({ source: id, target: out, index: 0 });
    return [out, generation + 1];
  }
  snapshot(outputs) {
    return { version: 1, nodes: this.nodes, edges: this.edges, outputs, truncated: false, omitted: 0 };
  }
}

/** x -> Sin -> Exp -> Square -> ... : two nodes per step. */
function chain(total) {
  const b = new Builder();
  let v = b.variable(0, { label: "x", role: "input" });
  let g = 0;
  const ops = ["Sin", "Exp", "Square", "Tanh"];
  for (let i = 0; b.nodes.length + 2 <= total; i++) [v, g] = b.apply(ops[i % 4], [v], [g]);
  return b.snapshot([v]);
}

/** Many leaves, each squared, all reduced by additions in a balanced tree (wide fan-in). */
function fanIn(total) {
  const b = new Builder();
  const leaves = Math.max(2, Math.floor((total + 2) / 5));
  let level = [];
  for (let i = 0; i < leaves; i++) {
    const x = b.variable(0, { label: `x${i}`, role: "input" });
    level.push(b.apply("Square", [x], [0]));
  }
  while (level.length > 1) {
    const next = [];
    for (let i = 0; i + 1 < level.length; i += 2) {
      next.push(b.apply("Add", [level[i][0], level[i + 1][0]], [level[i][1], level[i + 1][1]]));
    }
    if (level.length % 2) next.push(level[level.length - 1]);
    level = next;
  }
  return b.snapshot([level[0][0]]);
}

/** A per-neuron MLP: each unit does MatMul(h, W), Add(., b), Sigmoid; then a loss. */
function mlp(total) {
  const b = new Builder();
  const width = Math.max(2, Math.round(Math.sqrt(total / 10)));
  let layer = [[b.variable(0, { label: "x", role: "input", size: 8 }), 0]];
  let l = 0;
  while (b.nodes.length + width * 8 + 8 < total) {
    const inputs = layer.map(([v]) => v);
    const gens = layer.map(([, g]) => g);
    layer = [];
    for (let u = 0; u < width; u++) {
      const w = b.variable(0, { label: `W${l}_${u}`, role: "param", size: 8 });
      const bias = b.variable(0, { label: `b${l}_${u}`, role: "param" });
      const [h, hGen] = b.apply("MatMul", [...inputs, w], [...gens, 0]);
      const [a, aGen] = b.apply("Add", [h, bias], [hGen, 0]);
      layer.push(b.apply("Sigmoid", [a], [aGen]));
    }
    l++;
  }
  const [sum, sumGen] = b.apply("Sum", layer.map(([v]) => v), layer.map(([, g]) => g));
  const [loss] = b.apply("MeanSquaredError", [sum], [sumGen]);
  return b.snapshot([loss]);
}

/** The seed: y = add(add(x, x), x) at x = 3, after y.backward(). */
function seed() {
  const s = (v) => summary(v);
  return {
    version: 1,
    nodes: [
      { id: "v1", kind: "variable", label: "x", shape: [], dtype: "float64", data: s(3), grad: s(3), role: "input", generation: 0 },
      { id: "f1", kind: "function", op: "Add", generation: 0 },
      { id: "v2", kind: "variable", label: "", shape: [], dtype: "float64", data: s(6), grad: s(1), role: "intermediate", generation: 1, creator: "f1" },
      { id: "f2", kind: "function", op: "Add", generation: 1 },
      { id: "v3", kind: "variable", label: "y", shape: [], dtype: "float64", data: s(9), grad: s(1), role: "output", generation: 2, creator: "f2" },
    ],
    edges: [
      { source: "v1", target: "f1", index: 0 }, { source: "v1", target: "f1", index: 1 },
      { source: "f1", target: "v2", index: 0 }, { source: "v2", target: "f2", index: 0 },
      { source: "v1", target: "f2", index: 1 }, { source: "f2", target: "v3", index: 0 },
    ],
    outputs: ["v3"], truncated: false, omitted: 0,
  };
}

/** The same structure with every grad set: what a backward() refresh sends. */
function withGrads(snapshot, value) {
  return {
    ...snapshot,
    nodes: snapshot.nodes.map((node) => (node.kind === "variable" ? { ...node, grad: summary(value, node.data.size, node.data.shape) } : node)),
  };
}

const SHAPES = { chain, fanIn, mlp };
const EMPTY_HISTORY = { label: "", values: [], steps: [], total: 0 };
const host = document.getElementById("host");
let current = null;

function nextEvent(root, mode) {
  return new Promise((resolve) => {
    const listener = (event) => {
      if (event.detail.mode !== mode) return;
      root.removeEventListener("dzw-rendered", listener);
      resolve(performance.now());
    };
    root.addEventListener("dzw-rendered", listener);
  });
}

function longestTaskBetween(start, end) {
  return longTasks.filter((t) => t.startTime + t.duration >= start && t.startTime <= end).reduce((m, t) => Math.max(m, t.duration), 0);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

window.bench = {
  /** Mounts a fresh widget on a generated graph; times first render and a values-only refresh. */
  async run(shape, total) {
    current?.cleanup();
    host.replaceChildren();
    const snapshot = shape === "seed" ? seed() : SHAPES[shape](total);
    const model = new FakeModel({ snapshot, direction: "LR", status: "", history: EMPTY_HISTORY });
    model.kernel = true;
    await settle();
    const t0 = performance.now();
    const cleanup = widget.render({ model, el: host });
    const root = host.querySelector('[data-testid="autodiff-graph"]');
    const drawn = await nextEvent(root, "layout");
    await settle();
    const firstLongest = longestTaskBetween(t0, drawn);

    const refreshed = withGrads(snapshot, 0.25);
    const t1 = performance.now();
    const valuesDone = nextEvent(root, "values");
    model.set("snapshot", refreshed);
    const t2 = await valuesDone;
    await settle();
    const gradOk = root.querySelector('[data-role="grad"]').textContent !== "None";
    current = { cleanup, model };
    return {
      shape, nodes: snapshot.nodes.length, edges: snapshot.edges.length,
      engine: root.getAttribute("data-engine"),
      drawnNodes: root.querySelectorAll("[data-node-id]").length,
      firstRenderMs: drawn - t0, longestTaskMs: Math.max(firstLongest, longestTaskBetween(t1, t2)),
      refreshMs: t2 - t1, gradOk,
    };
  },
  /** Shows the seed graph for a screenshot, in the light or dark theme. */
  async showSeed(dark) {
    current?.cleanup();
    host.replaceChildren();
    document.body.setAttribute("data-jp-theme-light", dark ? "false" : "true");
    const model = new FakeModel({ snapshot: seed(), direction: "LR", status: "Backward done: 3 gradients.", history: EMPTY_HISTORY });
    model.kernel = true;
    const cleanup = widget.render({ model, el: host });
    const root = host.querySelector('[data-testid="autodiff-graph"]');
    await nextEvent(root, "layout");
    current = { cleanup, model };
  },
};
/** Shows any snapshot (and history) for a screenshot: the widget as a notebook would show it. */
window.bench.show = async function show(snapshot, { dark = false, history, direction = "LR", status = "", width = 1000 } = {}) {
  current?.cleanup();
  host.replaceChildren();
  host.style.width = `${width}px`;
  document.body.setAttribute("data-jp-theme-light", dark ? "false" : "true");
  const model = new FakeModel({ snapshot, direction, status, history: history ?? EMPTY_HISTORY });
  model.kernel = true;
  const cleanup = widget.render({ model, el: host });
  const root = host.querySelector('[data-testid="autodiff-graph"]');
  await nextEvent(root, "layout");
  current = { cleanup, model };
};
window.benchReady = true;
