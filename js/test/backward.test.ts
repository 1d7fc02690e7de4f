// @vitest-environment jsdom
// Issue 11 in jsdom: stepping through a replayed backward, contributions, the accumulation note,
// None vs 0 and changed values, gradient checks, predict mode and the grad-graph toggle.
import { describe, expect, it, vi } from "vitest";
import { GraphView } from "../src/app";
import type { GraphNode, Snapshot, VariableNode } from "../src/protocol";
import { FakeModel, scalar, seedReplay, seedSnapshot, state, viewHost } from "./fixtures";

const { host, views } = viewHost();

async function mount(model: FakeModel): Promise<GraphView> {
  const view = new GraphView(model, host);
  views.push(view);
  await vi.waitFor(() => expect(view.root.getAttribute("data-state")).toBe("ready"), { timeout: 5000, interval: 5 });
  return view;
}

const q = (selector: string) => host.querySelector(selector) as HTMLElement;
const all = (selector: string) => [...host.querySelectorAll(selector)] as HTMLElement[];
const grad = (id: string) => q(`[data-node-id="${id}"] [data-role="grad"]`);
const click = (selector: string) => q(selector).click();
const active = () => all('[data-state="active"]').map((element) => element.getAttribute("data-node-id"));
const step = () => [
  q('[data-role="step"]').getAttribute("data-step"),
  q('[data-role="step"]').getAttribute("data-steps"),
];
const edgeGradTexts = () => all('[data-role="edge-grad"] text').map((text) => text.textContent);

function withGrads(snapshot: Snapshot, grads: Record<string, number | null>): Snapshot {
  const copy = structuredClone(snapshot);
  for (const node of copy.nodes) {
    if (node.kind === "variable" && node.id in grads) {
      const value = grads[node.id];
      node.grad = value === null ? null : scalar(value);
    }
  }
  return copy;
}

describe("stepping through the seed's backward", () => {
  it("starts at the end with nothing active, then shows each step's function, edges and grads", async () => {
    const model = new FakeModel(state(seedSnapshot(true), { replay: seedReplay() }));
    const view = await mount(model);
    expect(q('[data-role="step-bar"]').hidden).toBe(false);
    expect(step()).toEqual(["2", "2"]);
    expect(active()).toEqual([]);
    expect(grad("v1").textContent).toBe("3.0");
    expect((q('[data-action="step-forward"]') as HTMLButtonElement).disabled).toBe(false); // ▶ replays from step 1

    click('[data-action="step-back"]');
    expect(step()).toEqual(["1", "2"]);
    expect(q('[data-role="step"]').textContent).toBe("Step 1 of 2 · Add.backward");
    expect(active()).toEqual(["f2"]); // the outer Add, generation 1
    expect(grad("v1").textContent).toBe("1.0");
    expect(grad("v2").textContent).toBe("1.0");
    expect(grad("v3").textContent).toBe("1.0");
    expect(edgeGradTexts().sort()).toEqual(["gx 1.0", "gx 1.0", "gy 1.0"]);
    expect(view.root.classList.contains("dzw-stepping")).toBe(true);

    click('[data-action="step-back"]');
    expect(step()).toEqual(["0", "2"]);
    expect(active()).toEqual([]);
    expect(grad("v1").textContent).toBe("None");
    expect(grad("v1").classList.contains("dzw-none")).toBe(true);
    expect(q('[data-node-id="v1"] .dzw-none-pill')).not.toBeNull();
    expect(grad("v3").textContent).toBe("1.0"); // the seed
    expect(edgeGradTexts()).toEqual([]);
    expect((q('[data-action="step-back"]') as HTMLButtonElement).disabled).toBe(true);

    click('[data-action="step-forward"]');
    click('[data-action="step-forward"]');
    expect(step()).toEqual(["2", "2"]);
    expect(active()).toEqual(["f1"]);
    expect(grad("v1").textContent).toBe("3.0");
    // x is used twice by the inner Add: one label for the two edges, each input by its index.
    expect(edgeGradTexts().sort()).toEqual(["gx₀ 1.0 gx₁ 1.0", "gy 1.0"]);
    expect(all('[data-role="edge-grad"] tspan').map((line) => line.textContent?.trim())).toContain("gx₁ 1.0");
    expect(q('[data-node-id="v1"] .dzw-none-pill')).toBeNull();
  });

  it("plays from the first step when ▶ is pressed at the end, as a player does", async () => {
    const model = new FakeModel(state(seedSnapshot(true), { replay: seedReplay() }));
    await mount(model);
    click('[data-action="step-forward"]');
    expect(step()).toEqual(["1", "2"]);
    expect(active()).toEqual(["f2"]);
    expect(grad("v1").textContent).toBe("1.0");
    click('[data-action="step-forward"]');
    expect(step()).toEqual(["2", "2"]);
    expect(active()).toEqual(["f1"]);
    expect(grad("v1").textContent).toBe("3.0");
    click('[data-action="step-forward"]');
    expect(step()).toEqual(["1", "2"]);
  });

  it("marks the layer's node when the function applied is inside a collapsed layer", async () => {
    const snapshot: Snapshot = {
      ...seedSnapshot(true),
      layers: [{ id: "l1", layer: "Block", label: "block", members: ["f1", "v2"] }],
    };
    const model = new FakeModel(state(snapshot, { replay: seedReplay() }));
    await mount(model);
    const box = () => q('[data-node-kind="layer"][data-node-id="l1"]');
    expect(box().getAttribute("data-collapsed")).toBe("false"); // a small graph opens its layers
    box()
      .querySelector(".dzw-layer-title")
      ?.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    await vi.waitFor(() => expect(box().getAttribute("data-collapsed")).toBe("true"), { timeout: 3000 });
    await vi.waitFor(() => expect(q('[data-node-id="v1"] [data-role="grad"]')).not.toBeNull(), { timeout: 3000 });
    click('[data-action="step-back"]');
    expect(active()).toEqual(["f2"]); // the outer Add is drawn
    click('[data-action="step-forward"]');
    expect(step()).toEqual(["2", "2"]);
    expect(active()).toEqual(["l1"]); // the inner Add is inside the collapsed box
  });

  it("moves with the arrow keys and the slider, but not while typing in an input", async () => {
    const model = new FakeModel(state(seedSnapshot(true), { replay: seedReplay() }));
    const view = await mount(model);
    const key = (target: EventTarget, name: string) => {
      const event = new KeyboardEvent("keydown", { key: name, bubbles: true, cancelable: true });
      target.dispatchEvent(event);
      return event;
    };
    expect(key(view.root, "ArrowLeft").defaultPrevented).toBe(true);
    expect(step()).toEqual(["1", "2"]);
    key(view.root, "ArrowLeft");
    key(view.root, "ArrowLeft");
    expect(step()).toEqual(["0", "2"]);
    key(view.root, "ArrowRight");
    expect(active()).toEqual(["f2"]);

    const slider = q('[data-role="step-slider"]') as HTMLInputElement;
    slider.value = "2";
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    expect(step()).toEqual(["2", "2"]);
    expect(active()).toEqual(["f1"]);

    click('[data-action="predict"]');
    const input = q('[data-role="guess"]');
    expect(key(input, "ArrowLeft").defaultPrevented).toBe(false);
    expect(step()).toEqual(["2", "2"]);
  });

  it("hides the bar for an empty replay, and a new replay starts at its end again", async () => {
    const model = new FakeModel(state(seedSnapshot(true), { replay: seedReplay() }));
    await mount(model);
    click('[data-action="step-back"]');
    expect(active()).toEqual(["f2"]);

    model.set("replay", { output: "", steps: [], variables: {}, accumulated: [] });
    model.set("snapshot", seedSnapshot(false));
    expect(q('[data-role="step-bar"]').hidden).toBe(true);
    expect(active()).toEqual([]);
    expect(grad("v1").textContent).toBe("None");

    model.set("replay", seedReplay());
    model.set("snapshot", seedSnapshot(true));
    expect(q('[data-role="step-bar"]').hidden).toBe(false);
    expect(step()).toEqual(["2", "2"]);
    expect(active()).toEqual([]);
    expect(grad("v1").textContent).toBe("3.0");
  });

  it("shows an invalid replay nowhere and says why", async () => {
    const model = new FakeModel(state(seedSnapshot(true)));
    await mount(model);
    model.set("replay", { output: "v3", steps: "all" } as never);
    expect(q('[data-role="step-bar"]').hidden).toBe(true);
    expect(q('[data-role="error"]').textContent).toContain("Replay ignored");
  });
});

describe("accumulation", () => {
  it("lists the contributions to x's grad in its inspector, each from its function", async () => {
    const model = new FakeModel(state(seedSnapshot(true), { replay: seedReplay() }));
    await mount(model);
    q('[data-node-id="v1"] ellipse').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    const terms = q('[data-role="contributions"]');
    expect([...terms.children].map((child) => child.textContent)).toEqual([
      "1.0 from Add (f2)",
      "1.0 from Add (f1)",
      "1.0 from Add (f1)",
    ]);
    expect(terms.textContent).toBe("1.0 from Add (f2)+1.0 from Add (f1)+1.0 from Add (f1)"); // signs as text
    expect(terms.parentElement?.textContent).toContain("= 3.0");

    // Stepping dims the terms still to come.
    click('[data-action="step-back"]');
    const later = all('[data-role="contributions"] .dzw-term-later');
    expect(later.length).toBe(2);
  });

  it("says in words that a second backward added onto the earlier grad", async () => {
    const model = new FakeModel(state(withGrads(seedSnapshot(true), { v1: 6 }), { replay: seedReplay(3) }));
    await mount(model);
    const note = q('[data-role="accumulated"]');
    expect(note.hidden).toBe(false);
    expect(note.textContent).toBe(
      "x.grad: 3.0 + 3.0 = 6.0 — added to the grad from an earlier backward(); Reset clears it.",
    );
    q('[data-node-id="v1"] ellipse').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(q('[data-role="contributions"]').children.length).toBe(4);
    expect(q('[data-role="contributions"]').firstElementChild?.textContent).toBe("3.0 earlier grad");

    model.set("replay", { output: "", steps: [], variables: {}, accumulated: [] });
    expect(note.hidden).toBe(true);
  });
});

describe("None is not 0, and changes show", () => {
  it("draws None in a dashed pill, a zero grad plainly, and highlights what changed", async () => {
    const model = new FakeModel(state(seedSnapshot(false)));
    await mount(model);
    expect(all(".dzw-none-pill").length).toBe(3);
    q('[data-node-id="v1"] ellipse').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(q('[data-role="change"]')).toBeNull();

    model.set("snapshot", withGrads(seedSnapshot(false), { v1: 0 }));
    expect(grad("v1").textContent).toBe("0.0");
    expect(grad("v1").classList.contains("dzw-none")).toBe(false);
    expect(all(".dzw-none-pill").length).toBe(2);
    expect(grad("v1").classList.contains("dzw-changed")).toBe(true);
    expect(q('[data-node-id="v1"]').classList.contains("dzw-flash-a")).toBe(true);
    expect(q('[data-node-id="v3"]').classList.contains("dzw-flash-a")).toBe(false);
    expect(q('[data-role="change"]').textContent).toContain("None → 0.0");

    // A second change restarts the highlight (the other class).
    model.set("snapshot", withGrads(seedSnapshot(false), { v1: 3 }));
    expect(q('[data-node-id="v1"]').classList.contains("dzw-flash-b")).toBe(true);
    expect(q('[data-node-id="v1"]').classList.contains("dzw-flash-a")).toBe(false);
    expect(q('[data-role="change"]').textContent).toContain("0.0 → 3.0");
  });
});

describe("gradient check", () => {
  it("asks the kernel from the inspector and marks the node with the result", async () => {
    const model = new FakeModel(state(seedSnapshot(true), { replay: seedReplay() }));
    await mount(model);
    model.emit("msg:custom", { type: "welcome" });
    q('[data-node-id="v1"] ellipse').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    click('[data-role="inspector"] [data-action="grad-check"]');
    expect(model.sent.at(-1)).toEqual({ type: "grad-check", node: "v1", output: "v3" });
    expect(q('[data-role="inspector"] [data-action="grad-check"]').textContent).toBe("Checking…");

    const check = { ok: false, maxAbs: 1.5, maxRel: 0.5, checked: 1, size: 1, output: "v3", message: "" };
    expect(q('[data-role="grad-check"]')).toBeNull();
    model.set("checks", { v1: check });
    const result = q('[data-role="grad-check"]');
    expect(result.getAttribute("data-ok")).toBe("false");
    expect(result.textContent).toBe(
      "✗ Gradient check failedlargest abs. error1.5largest rel. error0.5elements checked1 of 1outputy",
    );
    expect(q('[data-node-id="v1"]').getAttribute("data-check")).toBe("fail");
    expect(q('[data-node-id="v1"] [data-role="check-badge"] text').textContent).toBe("✗");

    model.set("checks", { v1: { ...check, ok: true, maxAbs: 0, maxRel: 0 } });
    expect(q('[data-role="grad-check"]').getAttribute("data-ok")).toBe("true");
    expect(q('[data-node-id="v1"]').getAttribute("data-check")).toBe("pass");
    expect(all('[data-role="check-badge"]').length).toBe(1);
  });

  it("sends no output when there is no replay", async () => {
    const model = new FakeModel(state(seedSnapshot(true)));
    await mount(model);
    model.emit("msg:custom", { type: "welcome" });
    q('[data-node-id="v1"] ellipse').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    click('[data-role="inspector"] [data-action="grad-check"]');
    expect(model.sent.at(-1)).toEqual({ type: "grad-check", node: "v1" });
  });
});

describe("predict mode", () => {
  it("hides the grads, takes guesses, and marks them when Backward's snapshot comes", async () => {
    const model = new FakeModel(state(seedSnapshot(false)));
    const view = await mount(model);
    model.emit("msg:custom", { type: "welcome" });
    click('[data-action="predict"]');
    expect(q('[data-action="predict"]').getAttribute("aria-pressed")).toBe("true");
    expect(all('[data-node-kind="variable"] [data-role="grad"]').map((text) => text.textContent)).toEqual([
      "?",
      "?",
      "?",
    ]);
    const guesses = all('[data-role="guess"]') as HTMLInputElement[];
    expect(guesses.length).toBe(3);
    const guess = (id: string, text: string) => {
      const input = q(`[data-role="guess"][data-node-id="${id}"]`) as HTMLInputElement;
      input.value = text;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    };
    guess("v1", "2");
    guess("v3", "1");

    // A refresh that is not Backward's reveals nothing.
    model.set("snapshot", seedSnapshot(false));
    expect(grad("v1").textContent).toBe("?");

    click('[data-action="backward"]');
    expect(model.sent.at(-1)).toEqual({ type: "backward" });
    model.set("snapshot", seedSnapshot(true));
    expect(grad("v1").textContent).toBe("3.0");
    expect(q('[data-node-id="v1"]').getAttribute("data-guess")).toBe("wrong");
    expect(q('[data-node-id="v3"]').getAttribute("data-guess")).toBe("right");
    expect(q('[data-node-id="v2"]').hasAttribute("data-guess")).toBe(false);
    expect(view.root.classList.contains("dzw-predicting")).toBe(false);

    // Off: guesses and marks go.
    click('[data-action="predict"]');
    expect(all('[data-role="guess"]').length).toBe(0);
    expect(all("[data-guess]").length).toBe(0);
  });

  it("hides the grad in the inspector while guessing", async () => {
    const model = new FakeModel(state(seedSnapshot(true), { replay: seedReplay() }));
    await mount(model);
    click('[data-action="predict"]');
    q('[data-node-id="v1"] ellipse').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(q('[data-role="inspector-grad"]').hidden).toBe(true);
    expect(q('[data-role="contributions"]')).toBeNull();
  });
});

describe("the grad graph", () => {
  function gradGraphSnapshot(): Snapshot {
    const snapshot = seedSnapshot(true);
    const gx: VariableNode = {
      id: "v9",
      kind: "variable",
      label: "",
      shape: [],
      dtype: "float64",
      data: scalar(3),
      grad: null,
      role: "intermediate",
      subgraph: "grad",
      gradOf: "v1",
      creator: "f9",
    };
    const nodes: GraphNode[] = [{ id: "f9", kind: "function", op: "Add", subgraph: "grad" }, gx];
    snapshot.nodes.push(...nodes);
    snapshot.edges.push({ source: "v3", target: "f9", index: 0 }, { source: "f9", target: "v9", index: 0 });
    snapshot.gradsWithGraph = 1;
    return snapshot;
  }

  it("is enabled only when a grad has a graph, and sets the trait", async () => {
    const model = new FakeModel(state(seedSnapshot(true)));
    await mount(model);
    model.emit("msg:custom", { type: "welcome" });
    const toggle = q('[data-action="grad-graph"]') as HTMLButtonElement;
    expect(toggle.disabled).toBe(true);
    model.set("snapshot", { ...seedSnapshot(true), gradsWithGraph: 2 });
    expect(toggle.disabled).toBe(false);
    toggle.click();
    expect(model.get("grad_graph")).toBe(true);
    expect(toggle.getAttribute("aria-pressed")).toBe("true");
  });

  it("draws the grad graph's nodes set apart, with a dashed link from a variable to its grad", async () => {
    const model = new FakeModel(state(gradGraphSnapshot(), { grad_graph: true }));
    await mount(model);
    expect(q('[data-node-id="v9"]').classList.contains("dzw-sub-grad")).toBe(true);
    const links = all(".dzw-grad-link");
    expect(links.length).toBe(1);
    expect(all(".dzw-grad-link-label").map((label) => label.textContent)).toEqual(["grad"]);
  });
});
