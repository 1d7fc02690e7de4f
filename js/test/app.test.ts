// @vitest-environment jsdom
// GraphView in jsdom: the DOM hooks, value updates, inspector, messages and the kernel handshake.
import { afterEach, describe, expect, it, vi } from "vitest";
import { GraphView } from "../src/app";
import { KERNEL_MISSING_NOTE } from "../src/format";
import type { LayoutRunner } from "../src/layoutRunner";
import type { Snapshot, VariableNode } from "../src/protocol";
import widget from "../src/widget";
import { arraySummary, chainSnapshot, FakeModel, scalar, seedSnapshot, state, viewHost } from "./fixtures";

async function rendered(root: Element): Promise<void> {
  await vi.waitFor(() => expect(root.getAttribute("data-state")).toBe("ready"), { timeout: 3000, interval: 5 });
}

const { host, views } = viewHost();
afterEach(() => vi.useRealTimers());

function mount(model: FakeModel, welcomeTimeoutMs = 4000): GraphView {
  const view = new GraphView(model, host, { welcomeTimeoutMs });
  views.push(view);
  return view;
}

const q = (selector: string) => host.querySelector(selector) as HTMLElement;

describe("DOM hooks and values", () => {
  it("grows a node around its centre when a new value needs more room, moving nothing else", async () => {
    const model = new FakeModel(state(seedSnapshot(true)));
    const view = mount(model);
    await rendered(view.root);
    const x = q('[data-node-id="v1"]');
    const y = q('[data-node-id="v3"]');
    const ellipse = x.querySelector("ellipse")!;
    const centre = [ellipse.getAttribute("cx"), ellipse.getAttribute("cy")];
    const rx = Number(ellipse.getAttribute("rx"));
    const yEllipse = y.querySelector("ellipse")!.outerHTML;

    const wider = seedSnapshot(true);
    const node = wider.nodes.find((n) => n.id === "v1") as VariableNode;
    node.data = arraySummary([2, 3], [1, 2, 3, 4, 5, 6]);
    node.grad = arraySummary([2, 3], [0.5, -1, 0, 2, -2, 1], true);
    model.set("snapshot", wider);

    expect(x.querySelector('[data-role="data"]')!.textContent).toBe("[1 … 6]");
    expect(x.querySelector('[data-role="grad"]')!.textContent).toBe("‖g‖ 3.2");
    expect(x.querySelectorAll('[data-role="thumbnail"]').length).toBe(2);
    expect([ellipse.getAttribute("cx"), ellipse.getAttribute("cy")]).toEqual(centre);
    expect(Number(ellipse.getAttribute("rx"))).toBeGreaterThan(rx);
    expect(y.querySelector("ellipse")!.outerHTML).toBe(yEllipse);
  });

  it("draws every node with its hooks and values as text", async () => {
    const view = mount(new FakeModel(state(seedSnapshot())));
    await rendered(view.root);
    expect(view.root.getAttribute("data-testid")).toBe("autodiff-graph");
    const variables = host.querySelectorAll('[data-node-kind="variable"]');
    expect(Array.from(variables, (el) => el.getAttribute("data-node-name"))).toEqual(["x", "out of Add", "y"]);
    const labels = Array.from(variables, (el) => el.querySelector('[data-role="label"]')!.textContent);
    expect(labels).toEqual(["x", "out of Add", "y"]);
    const functions = host.querySelectorAll('[data-node-kind="function"]');
    expect(Array.from(functions, (el) => el.getAttribute("data-op"))).toEqual(["Add", "Add"]);
    const x = q('[data-node-id="v1"]');
    expect(x.querySelector('[data-role="grad"]')!.textContent).toBe("3.0");
    expect(x.querySelector('[data-role="data"]')!.textContent).toBe("3.0");
    expect(view.root.getAttribute("data-engine")).toBe("dagre");
  });

  it("shows None for missing grads", async () => {
    const view = mount(new FakeModel(state(seedSnapshot(false))));
    await rendered(view.root);
    const grads = Array.from(host.querySelectorAll('[data-role="grad"]'), (el) => el.textContent);
    expect(grads).toEqual(["None", "None", "None"]);
  });

  it("updates values in place when only values change, and re-lays out on structure changes", async () => {
    const model = new FakeModel(state(seedSnapshot(false)));
    const view = mount(model);
    await rendered(view.root);
    const before = q('[data-node-id="v1"]');
    const transform = before.getAttribute("transform");

    model.set("snapshot", seedSnapshot(true));
    const after = q('[data-node-id="v1"]');
    expect(after).toBe(before);
    expect(after.getAttribute("transform")).toBe(transform);
    expect(after.querySelector('[data-role="grad"]')!.textContent).toBe("3.0");

    const grown = seedSnapshot(true);
    grown.nodes.push({ id: "f3", kind: "function", op: "Square", generation: 2 });
    grown.edges.push({ source: "v3", target: "f3", index: 0 });
    model.set("snapshot", grown);
    await vi.waitFor(() => expect(host.querySelector('[data-node-id="f3"]')).not.toBeNull(), {
      timeout: 3000,
      interval: 5,
    });
    expect(q('[data-node-id="v1"]')).not.toBe(before);
  });

  it("shows arrays on one line each, with a thumbnail per summary that has one", async () => {
    const model = new FakeModel(state(seedSnapshot()));
    const view = mount(model);
    await rendered(view.root);
    const next = seedSnapshot();
    const x = next.nodes[0] as VariableNode;
    x.shape = [100, 1];
    x.data = { ...arraySummary([4, 1], [-1.2345, 0.5, 3.4, 2]), shape: [100, 1], size: 100, preview: "[[-1.2345], …]" };
    x.grad = null;
    model.set("snapshot", next);
    const node = q('[data-node-id="v1"]');
    expect(node.querySelector('[data-role="label"]')!.textContent).toBe("x");
    expect(node.querySelector(".dzw-detail")!.textContent).toBe(" (100, 1)");
    expect(node.querySelector('[data-role="data"]')!.textContent).toBe("[-1.23 … 3.4]");
    expect(node.querySelector('[data-role="grad"]')!.textContent).toBe("None");
    const thumbnails = () => Array.from(node.querySelectorAll('[data-role="thumbnail"]'));
    expect(thumbnails().map((el) => el.getAttribute("data-of"))).toEqual(["data"]);
    expect(thumbnails()[0].getAttribute("href")).toMatch(/^data:image\/bmp;base64,/);

    x.grad = arraySummary([4, 1], [0.1, -0.2, 0.3, 0], true);
    model.set("snapshot", { ...next });
    expect(node.querySelector('[data-role="grad"]')!.textContent).toBe("‖g‖ 0.374");
    expect(thumbnails().map((el) => el.getAttribute("data-of"))).toEqual(["data", "grad"]);
    const [data, grad] = thumbnails();
    expect(Number(grad.getAttribute("x"))).toBeGreaterThan(Number(data.getAttribute("x")));

    x.grad = null;
    model.set("snapshot", { ...next });
    expect(node.querySelector('[data-role="grad"]')!.textContent).toBe("None");
    expect(thumbnails().map((el) => el.getAttribute("data-of"))).toEqual(["data"]);
  });

  it("labels an unnamed input by nothing but its shape, on a secondary line", async () => {
    const snapshot = seedSnapshot();
    const x = snapshot.nodes[0] as VariableNode;
    x.label = "";
    x.shape = [5, 3];
    x.dtype = "float32";
    const view = mount(new FakeModel(state(snapshot)));
    await rendered(view.root);
    const node = q('[data-node-id="v1"]');
    expect(node.getAttribute("data-node-name")).toBe("");
    expect(node.querySelector('[data-role="label"]')!.textContent).toBe("");
    expect(node.querySelector(".dzw-detail")!.textContent).toBe("(5, 3) float32");
    const derived = q('[data-node-id="v2"] [data-role="label"]');
    expect(derived.classList.contains("dzw-derived")).toBe(true);
  });

  it("sets user labels as text, never as markup", async () => {
    const snapshot = seedSnapshot();
    (snapshot.nodes[0] as VariableNode).label = '<img src=x onerror="window.pwned=1">';
    (snapshot.nodes[0] as VariableNode).data = { ...scalar(1), preview: "<b>bold</b>" };
    const view = mount(new FakeModel(state(snapshot)));
    await rendered(view.root);
    expect(host.querySelector("img")).toBeNull();
    expect(host.querySelector("b")).toBeNull();
    expect(q('[data-node-id="v1"]').getAttribute("data-node-name")).toBe('<img src=x onerror="window.pwned=1">');
    expect(q('[data-node-id="v1"] [data-role="data"]').textContent).toBe("<b>bold</b>");
  });

  it("notes truncation and marks the grad graph", async () => {
    const snapshot = seedSnapshot();
    snapshot.truncated = true;
    snapshot.omitted = 7;
    snapshot.nodes[3] = { id: "f2", kind: "function", op: "Add", generation: 1, subgraph: "grad" };
    const view = mount(new FakeModel(state(snapshot)));
    await rendered(view.root);
    const note = q('[data-role="truncated"]');
    expect(note.hidden).toBe(false);
    expect(note.textContent).toBe("Showing 5 nodes; 7 nodes left out (max_nodes)");
    expect(q('[data-node-id="f2"]').classList.contains("dzw-sub-grad")).toBe(true);
    view.dispose();
    views.pop();
    const counted = mount(new FakeModel(state({ ...snapshot, omittedAtLeast: true })));
    await rendered(counted.root);
    expect(q('[data-role="truncated"]').textContent).toBe("Showing 5 nodes; at least 7 more left out (max_nodes)");
    expect(q('[data-node-id="f2"]').classList.contains("dzw-sub-grad")).toBe(true);
    expect(q('[data-node-id="f2"]').textContent).toContain("grad graph");
  });

  it("shows an empty graph while the snapshot trait is still {}", async () => {
    const view = mount(new FakeModel(state({} as Snapshot)));
    await rendered(view.root);
    expect(host.querySelectorAll("[data-node-id]").length).toBe(0);
    expect(q('[data-role="output-select"]').hidden).toBe(true);
  });

  it("lays out again, top to bottom, when the direction changes", async () => {
    const model = new FakeModel(state(seedSnapshot()));
    const view = mount(model);
    await rendered(view.root);
    const cy = () => Number(q('[data-node-id="v3"] ellipse').getAttribute("cy"));
    const cx = () => Number(q('[data-node-id="v3"] ellipse').getAttribute("cx"));
    expect(cx()).toBeGreaterThan(cy());
    model.set("direction", "TB");
    await vi.waitFor(() => expect(cy()).toBeGreaterThan(cx()), { timeout: 3000, interval: 5 });
  });

  it("uses the layered layout past the dagre threshold", async () => {
    const view = mount(new FakeModel(state(chainSnapshot(300))));
    await rendered(view.root);
    expect(view.root.getAttribute("data-engine")).toBe("layered");
    expect(host.querySelectorAll("[data-node-id]").length).toBe(601);
  });

  it("shows a clicked node in the inspector", async () => {
    const view = mount(new FakeModel(state(seedSnapshot())));
    await rendered(view.root);
    const inspector = q('[data-role="inspector"]');
    expect(inspector.hidden).toBe(true);
    q('[data-node-id="v3"] [data-role="grad"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(inspector.hidden).toBe(false);
    expect(inspector.textContent).toContain("creator");
    expect(inspector.textContent).toContain("Add (f2)");
    expect(inspector.querySelector('[data-role="inspector-grad"]')!.textContent).toContain("float64");
    expect(q('[data-node-id="v3"]').classList.contains("dzw-selected")).toBe(true);
    (inspector.querySelector('[data-action="close-inspector"]') as HTMLElement).click();
    expect(inspector.hidden).toBe(true);
  });

  it("highlights the selected node's incident edges and lists its neighbours", async () => {
    const view = mount(new FakeModel(state(seedSnapshot())));
    await rendered(view.root);
    const highlighted = () => host.querySelector(".dzw-edge-hl")?.getAttribute("d")?.match(/M/g)?.length ?? 0;
    q('[data-node-id="f2"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(highlighted()).toBe(3); // v2 > f2, v1 > f2, f2 > y
    expect(host.querySelectorAll(".dzw-arrow-hl").length).toBe(1);
    expect(q('[data-role="inspector"]').textContent).toContain("inputsout of Add (v2), x (v1)");
    q('[data-node-id="v1"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(highlighted()).toBe(3); // x > f1 twice, x > f2
    expect(q('[data-node-id="f2"]').classList.contains("dzw-selected")).toBe(false);
    (q('[data-role="inspector"]').querySelector('[data-action="close-inspector"]') as HTMLElement).click();
    expect(highlighted()).toBe(0);
  });

  it("reports a failed layout on the error line, not the connection note", async () => {
    const failing = { run: () => Promise.reject(new Error("boom")), dispose() {} } as unknown as LayoutRunner;
    const view = new GraphView(new FakeModel(state(seedSnapshot())), host, { layoutRunner: failing });
    views.push(view);
    await vi.waitFor(() => expect(view.root.getAttribute("data-state")).toBe("error"), { timeout: 3000, interval: 5 });
    const error = q('[data-role="error"]');
    expect(error.hidden).toBe(false);
    expect(error.textContent).toBe("Layout failed: Error: boom");
    expect(q('[data-role="connection"]').textContent).toBe("");
  });
});

describe("messages", () => {
  it("says hello, and enables the controls on welcome", () => {
    const model = new FakeModel(state(seedSnapshot()));
    mount(model);
    expect(model.sent).toEqual([{ type: "hello" }]);
    const reset = q('[data-action="reset"]') as HTMLButtonElement;
    const backward = q('[data-action="backward"]') as HTMLButtonElement;
    expect(reset.disabled).toBe(true);
    expect(backward.disabled).toBe(true);
    model.emit("msg:custom", { type: "welcome" });
    expect(reset.disabled).toBe(false);
    expect(backward.disabled).toBe(false);
  });

  it("sends reset and backward", () => {
    const model = new FakeModel(state(seedSnapshot()));
    mount(model);
    model.emit("msg:custom", { type: "welcome" });
    q('[data-action="reset"]').click();
    q('[data-action="backward"]').click();
    expect(model.sent.slice(1)).toEqual([{ type: "reset" }, { type: "backward" }]);
  });

  it("offers an output selector only for several outputs, and sends the choice", () => {
    const snapshot = seedSnapshot();
    const model = new FakeModel(state(snapshot));
    mount(model);
    const select = q('[data-role="output-select"]') as HTMLSelectElement;
    expect(select.hidden).toBe(true);
    model.set("snapshot", { ...snapshot, outputs: ["v3", "v2"] });
    expect(select.hidden).toBe(false);
    expect(Array.from(select.options, (option) => option.value)).toEqual(["v3", "v2"]);
    expect(Array.from(select.options, (option) => option.textContent)).toEqual(["y", "out of Add"]);
    const twins = seedSnapshot();
    (twins.nodes[2] as VariableNode).label = "y";
    model.set("snapshot", { ...twins, outputs: ["v3", "v2"] });
    expect(Array.from(select.options, (option) => option.textContent)).toEqual(["y", "y (2)"]);
    model.set("snapshot", { ...snapshot, outputs: ["v3", "v2"] });
    model.emit("msg:custom", { type: "welcome" });
    select.value = "v2";
    q('[data-action="backward"]').click();
    expect(model.sent.at(-1)).toEqual({ type: "backward", output: "v2" });
  });

  it("says the kernel is missing when no welcome comes, and recovers on a late one", () => {
    vi.useFakeTimers();
    const model = new FakeModel(state(seedSnapshot()));
    mount(model, 4000);
    const connection = q('[data-role="connection"]');
    vi.advanceTimersByTime(3900);
    expect(connection.textContent).toBe("");
    vi.advanceTimersByTime(200);
    expect(connection.textContent).toBe(KERNEL_MISSING_NOTE);
    expect((q('[data-action="reset"]') as HTMLButtonElement).disabled).toBe(true);
    model.emit("msg:custom", { type: "welcome" });
    expect(connection.textContent).toBe("");
    expect((q('[data-action="reset"]') as HTMLButtonElement).disabled).toBe(false);
  });

  it("shows the status trait and follows its changes", () => {
    const model = new FakeModel(state(seedSnapshot(), { status: "Traced 5 nodes." }));
    mount(model);
    expect(q('[data-role="status"]').textContent).toBe("Traced 5 nodes.");
    model.set("status", "Cleared 3 gradients.");
    expect(q('[data-role="status"]').textContent).toBe("Cleared 3 gradients.");
  });

  it("render() returns a cleanup that removes the view and its listeners", () => {
    const model = new FakeModel(state(seedSnapshot()));
    const cleanup = widget.render({ model, el: host });
    expect(host.querySelector('[data-testid="autodiff-graph"]')).not.toBeNull();
    // snapshot, direction, status, history, replay, checks, grad_graph, and the kernel's messages
    expect(model.listenerCount()).toBe(8);
    cleanup();
    expect(host.querySelector('[data-testid="autodiff-graph"]')).toBeNull();
    expect(model.listenerCount()).toBe(0);
  });
});
