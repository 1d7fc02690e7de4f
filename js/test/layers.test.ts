// @vitest-environment jsdom
// Layer boxes (snapshot.layers): the collapse transform, the layouts' boxes, the checks, and the view:
// collapsed by default past LAYER_COLLAPSE_ABOVE, a click opens or closes a box, values stay live.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { GraphView } from "../src/app";
import {
  defaultCollapsed,
  indexGraph,
  LAYER_COLLAPSE_ABOVE,
  type LayerNode,
  layoutInput,
  NONE_COLLAPSED,
  structureKey,
} from "../src/graph";
import {
  BOX_HEADER,
  computeLayout,
  dagreLayout,
  type LayoutInput,
  type LayoutResult,
  layeredLayout,
} from "../src/layout";
import {
  type ArraySummary,
  checkSnapshot,
  type GraphNode,
  type LayerBox,
  type Snapshot,
  type VariableNode,
} from "../src/protocol";
import { FakeModel, scalar, state } from "./fixtures";

function array(shape: number[], norm: number): ArraySummary {
  const size = shape.reduce((a, b) => a * b, 1);
  return { shape, dtype: "float32", size, preview: "[…]", min: -1, max: 1, mean: 0, norm };
}

function variable(
  id: string,
  label: string,
  role: VariableNode["role"],
  generation: number,
  shape: number[],
  grad: number | null,
): VariableNode {
  const data = shape.length === 0 ? scalar(1) : array(shape, 1);
  return {
    id,
    kind: "variable",
    label,
    shape,
    dtype: "float32",
    data,
    grad: grad === null ? null : shape.length === 0 ? scalar(grad) : array(shape, grad),
    role,
    generation,
  };
}

/**
 * One training step of the book's spiral MLP((10, 3)) as trace.py gives it under %%autodiff: the
 * model's box around two Linear boxes, 14 nodes. `grad` scales the parameters' grads (a later step).
 */
function spiralSnapshot(grad: number | null = 0.5): Snapshot {
  const nodes: GraphNode[] = [
    variable("v10", "loss", "output", 4, [], grad === null ? null : 1),
    { id: "f4", kind: "function", op: "SoftmaxCrossEntropy", generation: 3 },
    variable("v8", "", "intermediate", 3, [30, 3], null),
    variable("v9", "", "input", 0, [30], null),
    { id: "f3", kind: "function", op: "Linear", generation: 2 },
    variable("v5", "", "intermediate", 2, [30, 10], null),
    variable("v6", "W", "param", 0, [10, 3], grad),
    variable("v7", "b", "param", 0, [3], grad),
    { id: "f2", kind: "function", op: "Sigmoid", generation: 1 },
    variable("v4", "", "intermediate", 1, [30, 10], null),
    { id: "f1", kind: "function", op: "Linear", generation: 0 },
    variable("v1", "", "input", 0, [30, 2], null),
    variable("v2", "W", "param", 0, [2, 10], grad),
    variable("v3", "b", "param", 0, [10], grad),
  ];
  for (const node of nodes) {
    if (node.kind === "variable" && node.role !== "input" && node.role !== "param") {
      node.creator = { v10: "f4", v8: "f3", v5: "f2", v4: "f1" }[node.id];
    }
  }
  const edges = [
    ["v8", "f4", 0],
    ["v9", "f4", 1],
    ["f4", "v10", 0],
    ["v5", "f3", 0],
    ["v6", "f3", 1],
    ["v7", "f3", 2],
    ["f3", "v8", 0],
    ["v4", "f2", 0],
    ["f2", "v5", 0],
    ["v1", "f1", 0],
    ["v2", "f1", 1],
    ["v3", "f1", 2],
    ["f1", "v4", 0],
  ].map(([source, target, index]) => ({ source: source as string, target: target as string, index: index as number }));
  const layers: LayerBox[] = [
    { id: "l1", layer: "MLP", label: "model", members: ["v5", "f2", "v4"] },
    { id: "l2", layer: "Linear", label: "l1", members: ["f3", "v6", "v7"], parent: "l1" },
    { id: "l3", layer: "Linear", label: "l0", members: ["f1", "v2", "v3"], parent: "l1" },
  ];
  return { version: 1, nodes, edges, outputs: ["v10"], truncated: false, omitted: 0, layers };
}

describe("collapsing layer boxes", () => {
  it("collapses the innermost boxes by default past the threshold, and nothing below it", () => {
    const snapshot = spiralSnapshot();
    expect(snapshot.nodes.length).toBeGreaterThan(LAYER_COLLAPSE_ABOVE);
    expect([...defaultCollapsed(snapshot)].sort()).toEqual(["l2", "l3"]);
    const small = spiralSnapshot();
    small.nodes = small.nodes.slice(0, LAYER_COLLAPSE_ABOVE);
    expect(defaultCollapsed(small).size).toBe(0);
    expect(defaultCollapsed({ ...snapshot, layers: undefined }).size).toBe(0);
  });

  it("replaces a collapsed box's members by one layer node and reroutes their edges once", () => {
    const snapshot = spiralSnapshot();
    const graph = indexGraph(snapshot, new Set(["l3"]));
    const ids = graph.nodes.map((node) => node.id);
    for (const hidden of ["f1", "v2", "v3"]) {
      expect(ids).not.toContain(hidden);
      expect(graph.standIn.get(hidden)).toBe("l3");
    }
    expect(ids).toContain("l3");
    const layer = graph.nodes[graph.indexOf.get("l3") as number] as LayerNode;
    expect(layer).toMatchObject({ kind: "layer", layer: "Linear", title: "l0 · Linear", hidden: 3, generation: 0 });
    expect(layer.params.map((p) => p.name)).toEqual(["W", "b"]);
    expect(layer.rows).toEqual(["W (2, 10)  grad ‖g‖ 0.5", "b (10,)  grad ‖g‖ 0.5"]);
    const edges = Array.from(graph.edgeSource, (s, e) => `${graph.nodes[s].id}>${graph.nodes[graph.edgeTarget[e]].id}`);
    expect(edges.filter((edge) => edge.includes("l3")).sort()).toEqual(["l3>v4", "v1>l3"]);
    expect(new Set(edges).size).toBe(edges.length);
    // The output of the hidden Linear keeps its label.
    expect(graph.texts[graph.indexOf.get("v4") as number]?.label).toBe("out of Linear");
    expect(graph.texts[graph.indexOf.get("v4") as number]?.label).toBe(indexGraph(snapshot).texts[9]?.label);
    // The open model box holds the collapsed layer nodes and its own members.
    expect(graph.openBoxes.map((open) => open.box.id)).toEqual(["l1", "l2"]);
    const inModel = graph.nodes.filter((_, i) => graph.boxOf[i] === 0).map((node) => node.id);
    expect(inModel.sort()).toEqual(["f2", "l3", "v4", "v5"]);
  });

  it("hides nested boxes with their enclosing one and lists their parameters after its own", () => {
    const graph = indexGraph(spiralSnapshot(), new Set(["l1", "l2"]));
    expect(graph.openBoxes).toEqual([]);
    expect(graph.nodes.map((node) => node.id)).toEqual(["v10", "f4", "v8", "v9", "l1", "v1"]);
    const model = graph.nodes[4] as LayerNode;
    expect(model.hidden).toBe(9);
    expect(model.params.map((p) => p.name)).toEqual(["l1.W", "l1.b", "l0.W", "l0.b"]);
  });

  it("changes the structure key with the collapsed set, not with values", () => {
    const key = structureKey(spiralSnapshot(0.5), "LR", new Set(["l2"]));
    expect(structureKey(spiralSnapshot(0.25), "LR", new Set(["l2"]))).toBe(key);
    expect(structureKey(spiralSnapshot(0.5), "LR", new Set(["l3"]))).not.toBe(key);
    expect(structureKey(spiralSnapshot(0.5), "LR", NONE_COLLAPSED)).not.toBe(key);
  });
});

function expectBoxesHoldTheirMembers(input: LayoutInput, result: LayoutResult, graph: ReturnType<typeof indexGraph>) {
  const boxes = result.boxes as Float64Array;
  expect(boxes.length).toBe(4 * graph.openBoxes.length);
  const inside = (i: number, b: number) =>
    result.x[i] - input.width[i] / 2 >= boxes[4 * b] - 1e-6 &&
    result.x[i] + input.width[i] / 2 <= boxes[4 * b] + boxes[4 * b + 2] + 1e-6 &&
    result.y[i] - input.height[i] / 2 >= boxes[4 * b + 1] + BOX_HEADER - 1e-6 &&
    result.y[i] + input.height[i] / 2 <= boxes[4 * b + 1] + boxes[4 * b + 3] + 1e-6;
  const within = (b: number, outer: number) =>
    boxes[4 * b] >= boxes[4 * outer] && boxes[4 * b + 1] >= boxes[4 * outer + 1];
  for (let i = 0; i < input.width.length; i++) {
    for (let b = graph.boxOf[i]; b >= 0; b = graph.openBoxes[b].parent)
      expect(inside(i, b), `node ${i} in box ${b}`).toBe(true);
  }
  graph.openBoxes.forEach((open, b) => {
    if (open.parent >= 0) expect(within(b, open.parent)).toBe(true);
    expect(boxes[4 * b]).toBeGreaterThanOrEqual(0);
    expect(boxes[4 * b + 1]).toBeGreaterThanOrEqual(0);
    expect(boxes[4 * b] + boxes[4 * b + 2]).toBeLessThanOrEqual(result.width + 1e-6);
    expect(boxes[4 * b + 1] + boxes[4 * b + 3]).toBeLessThanOrEqual(result.height + 1e-6);
  });
}

describe("laying out open boxes", () => {
  it.each([
    ["dagre, every box open", dagreLayout, NONE_COLLAPSED],
    ["dagre, the layers collapsed", dagreLayout, new Set(["l2", "l3"])],
    ["layered, every box open", layeredLayout, NONE_COLLAPSED],
  ] as const)("puts every member inside its boxes, below the title (%s)", (_name, layout, collapsed) => {
    const graph = indexGraph(spiralSnapshot(), collapsed);
    const input = layoutInput(graph, "LR");
    expectBoxesHoldTheirMembers(input, layout(input), graph);
  });

  it("keeps the nodes outside a box out of it (dagre clusters)", () => {
    const graph = indexGraph(spiralSnapshot(), NONE_COLLAPSED);
    const input = layoutInput(graph, "TB");
    const result = computeLayout(input);
    const boxes = result.boxes as Float64Array;
    const l0 = graph.openBoxes.findIndex((open) => open.box.id === "l3");
    for (const id of ["v1", "v9", "v10", "f4", "f3"]) {
      const i = graph.indexOf.get(id) as number;
      const apartX =
        result.x[i] + input.width[i] / 2 <= boxes[4 * l0] ||
        result.x[i] - input.width[i] / 2 >= boxes[4 * l0] + boxes[4 * l0 + 2];
      const apartY =
        result.y[i] + input.height[i] / 2 <= boxes[4 * l0 + 1] ||
        result.y[i] - input.height[i] / 2 >= boxes[4 * l0 + 1] + boxes[4 * l0 + 3];
      expect(apartX || apartY, `${id} is outside l0's box`).toBe(true);
    }
  });

  it("keeps each box's nodes together within a rank in the layered layout", () => {
    // Two parallel models of many layers: past the dagre threshold, members must not interleave.
    const nodes: GraphNode[] = [];
    const edges: Snapshot["edges"] = [];
    const layers: LayerBox[] = [];
    for (let k = 0; k < 120; k++) {
      nodes.push(variable(`w${k}`, "W", "param", 0, [2], 1), variable(`x${k}`, "", "input", 0, [2], null));
      nodes.push({ id: `f${k}`, kind: "function", op: "Linear", generation: 0 });
      edges.push({ source: `w${k}`, target: `f${k}`, index: 1 }, { source: `x${k % 7}`, target: `f${k}`, index: 0 });
      layers.push({ id: `l${k}`, layer: "Linear", label: `l${k}`, members: [`w${k}`, `f${k}`] });
    }
    const snapshot: Snapshot = { version: 1, nodes, edges, outputs: [], truncated: false, omitted: 0, layers };
    const graph = indexGraph(snapshot, NONE_COLLAPSED);
    const input = layoutInput(graph, "LR");
    const result = layeredLayout(input);
    expectBoxesHoldTheirMembers(input, result, graph);
  });
});

describe("checkSnapshot on layers", () => {
  it("accepts the spiral snapshot and names what is wrong in bad boxes", () => {
    expect(checkSnapshot(spiralSnapshot())).toEqual([]);
    const cases: Array<[string, (layers: LayerBox[]) => void]> = [
      ['member "v99" is not a node', (layers) => layers[1].members.push("v99")],
      ["is in another box too", (layers) => layers[2].members.push("f3")],
      ["is not a box listed before it", (layers) => layers.reverse()],
      ["duplicate id", (layers) => (layers[2].id = "l2")],
      ["duplicate id", (layers) => (layers[2].id = "f1")],
      ['missing required field "members"', (layers) => delete (layers[0] as Partial<LayerBox>).members],
    ];
    for (const [problem, spoil] of cases) {
      const snapshot = spiralSnapshot();
      spoil(snapshot.layers as LayerBox[]);
      expect(checkSnapshot(snapshot).join("\n")).toContain(problem);
    }
  });
});

describe("the view", () => {
  let host: HTMLDivElement;
  let view: GraphView | null = null;
  beforeEach(() => {
    host = document.createElement("div");
    document.body.appendChild(host);
  });
  afterEach(() => {
    view?.dispose();
    host.remove();
  });

  async function ready(root: Element, mode?: "layout" | "values") {
    await vi.waitFor(() => expect(root.getAttribute("data-state")).toBe("ready"), { timeout: 3000, interval: 5 });
    return mode;
  }
  const layer = (id: string) => host.querySelector(`[data-node-kind="layer"][data-node-id="${id}"]`) as SVGGElement;

  it("draws the layers collapsed, opens one on a click with its function and parameters inside, and closes it", async () => {
    const model = new FakeModel(state(spiralSnapshot()));
    view = new GraphView(model, host, { welcomeTimeoutMs: 50 });
    await ready(view.root);
    const linears = host.querySelectorAll('[data-node-kind="layer"][data-layer="Linear"]');
    expect(Array.from(linears, (el) => el.getAttribute("data-collapsed"))).toEqual(["true", "true"]);
    expect(layer("l1").getAttribute("data-collapsed")).toBe("false");
    expect(host.querySelectorAll('[data-op="Linear"]').length).toBe(0);
    expect(layer("l3").textContent).toContain("▸ l0 · Linear");
    expect(Array.from(layer("l3").querySelectorAll('[data-role="layer-param"]'), (row) => row.textContent)).toEqual([
      "W (2, 10)  grad ‖g‖ 0.5",
      "b (10,)  grad ‖g‖ 0.5",
    ]);
    // The model's open box holds the collapsed layers and the Sigmoid.
    expect(layer("l1").querySelector('[data-node-id="l3"]')).not.toBeNull();
    expect(layer("l1").querySelector('[data-op="Sigmoid"]')).not.toBeNull();

    layer("l3").dispatchEvent(new MouseEvent("click", { bubbles: true }));
    await vi.waitFor(() => expect(layer("l3").getAttribute("data-collapsed")).toBe("false"), { timeout: 3000 });
    await ready(view.root);
    const open = layer("l3");
    expect(open.querySelectorAll('[data-op="Linear"]').length).toBe(1);
    const params = Array.from(open.querySelectorAll('[data-node-kind="variable"]'), (el) =>
      el.getAttribute("data-node-name"),
    );
    expect(params.sort()).toEqual(["W", "b"]);
    expect(layer("l2").getAttribute("data-collapsed")).toBe("true");
    expect(open.textContent).toContain("▾ l0 · Linear");

    // A training loop's next step: values in place, the user's choice kept, the rows live.
    const drawn = open.querySelector('[data-op="Linear"]');
    model.set("snapshot", spiralSnapshot(0.25));
    await ready(view.root);
    expect(open.querySelector('[data-op="Linear"]')).toBe(drawn);
    expect(open.querySelector('[data-node-name="W"] [data-role="grad"]')?.textContent).toBe("‖g‖ 0.25");
    expect(layer("l2").querySelector('[data-role="layer-param"]')?.textContent).toBe("W (10, 3)  grad ‖g‖ 0.25");

    // A click on the open box's title closes it again; a click on a member only selects it.
    (open.querySelector('[data-node-name="W"]') as Element).dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(layer("l3").getAttribute("data-collapsed")).toBe("false");
    (open.querySelector(".dzw-layer-title") as Element).dispatchEvent(new MouseEvent("click", { bubbles: true }));
    await vi.waitFor(() => expect(layer("l3").getAttribute("data-collapsed")).toBe("true"), { timeout: 3000 });
    expect(host.querySelectorAll('[data-op="Linear"]').length).toBe(0);
  });

  it("shows a small model's layers open, and sets titles as text", async () => {
    const snapshot = spiralSnapshot();
    snapshot.nodes = snapshot.nodes.filter((node) => !["v10", "f4", "v9"].includes(node.id));
    snapshot.edges = snapshot.edges.filter(
      (edge) => !["v10", "f4", "v9"].includes(edge.source) && edge.target !== "f4",
    );
    snapshot.outputs = ["v8"];
    (snapshot.layers as LayerBox[])[2].label = "<img src=x onerror=alert(1)>";
    view = new GraphView(new FakeModel(state(snapshot)), host, { welcomeTimeoutMs: 50 });
    await ready(view.root);
    const boxes = host.querySelectorAll('[data-node-kind="layer"]');
    expect(Array.from(boxes, (el) => el.getAttribute("data-collapsed"))).toEqual(["false", "false", "false"]);
    expect(host.querySelectorAll('[data-op="Linear"]').length).toBe(2);
    expect(host.querySelector("img")).toBeNull();
    expect(layer("l3").textContent).toContain("<img src=x onerror=alert(1)> · Linear");
  });
});
