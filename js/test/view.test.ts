// @vitest-environment jsdom
// The view in jsdom: the default zoom (legible, around the outputs), wheel and zoom controls, the
// minimap, nodes far from the view, and the history chart. jsdom lays nothing out, so the canvas
// counts as 600 x 400 px (PanZoom's default).
import { describe, expect, it, vi } from "vitest";
import { GraphView } from "../src/app";
import { LEGIBLE_SCALE, TEXT } from "../src/graph";
import { LayoutRunner } from "../src/layoutRunner";
import type { History, Snapshot, VariableNode } from "../src/protocol";
import { chainSnapshot, FakeModel, lossHistory, seedSnapshot, state, viewHost } from "./fixtures";

const VIEW = { width: 600, height: 400 };

const { host, views } = viewHost();

async function show(snapshot: Snapshot, extra: Parameters<typeof state>[1] = {}, runner?: LayoutRunner) {
  const model = new FakeModel(state(snapshot, extra));
  const view = new GraphView(model, host, { layoutRunner: runner });
  views.push(view);
  await vi.waitFor(() => expect(view.root.getAttribute("data-state")).toBe("ready"), { timeout: 5000, interval: 5 });
  return { model, view };
}

const q = (selector: string) => host.querySelector(selector) as HTMLElement;
const canvas = () => q("svg.dzw-canvas");

/** The drawing group's transform: translate(x,y) scale(s). */
function transform(): { x: number; y: number; scale: number } {
  const text = q("svg.dzw-canvas > g").getAttribute("transform") ?? "";
  const [, x, y, scale] = /translate\(([-\d.e]+),([-\d.e]+)\) scale\(([-\d.e]+)\)/.exec(text) ?? [];
  return { x: Number(x), y: Number(y), scale: Number(scale) };
}

/** Where node `id`'s centre is on the canvas (px). */
function onScreen(id: string): { x: number; y: number } {
  const ellipse = q(`[data-node-id="${id}"] ellipse`);
  const { x, y, scale } = transform();
  return { x: Number(ellipse.getAttribute("cx")) * scale + x, y: Number(ellipse.getAttribute("cy")) * scale + y };
}

function wheel(options: WheelEventInit): WheelEvent {
  const event = new WheelEvent("wheel", { bubbles: true, cancelable: true, deltaY: -100, ...options });
  canvas().dispatchEvent(event);
  return event;
}

const press = (target: EventTarget, init: MouseEventInit = {}) =>
  target.dispatchEvent(new MouseEvent("pointerdown", { bubbles: true, button: 0, ...init }));

/** Sixty inputs added pairwise: a tall, wide graph whose output sits at its right edge. */
function fanSnapshot(inputs: number): Snapshot {
  const snapshot = chainSnapshot(1);
  snapshot.nodes = [];
  snapshot.edges = [];
  for (let i = 0; i < inputs; i++) {
    snapshot.nodes.push({
      id: `x${i}`,
      kind: "variable",
      label: `x${i}`,
      shape: [],
      dtype: "float64",
      data: null,
      grad: null,
      role: "input",
      generation: 0,
    });
    snapshot.nodes.push({ id: `f${i}`, kind: "function", op: "Add", generation: 0 });
    snapshot.edges.push({ source: `x${i}`, target: `f${i}`, index: 0 });
    if (i > 0) snapshot.edges.push({ source: `x${i - 1}`, target: `f${i}`, index: 1 });
  }
  const last = snapshot.nodes.at(-1)?.id ?? "";
  snapshot.nodes.push({
    id: "out",
    kind: "variable",
    label: "loss",
    shape: [],
    dtype: "float64",
    data: null,
    grad: null,
    role: "output",
    generation: 1,
    creator: last,
  } satisfies VariableNode);
  snapshot.edges.push({ source: last, target: "out", index: 0 });
  snapshot.outputs = ["out"];
  return snapshot;
}

describe("the default view", () => {
  it("opens a graph that fits whole, its labels legible, with no minimap", async () => {
    await show(seedSnapshot());
    const { scale } = transform();
    expect(scale).toBeGreaterThanOrEqual(LEGIBLE_SCALE);
    for (const id of ["v1", "v2", "v3"]) {
      const { x, y } = onScreen(id);
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(VIEW.width);
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(VIEW.height);
    }
    expect(q('[data-role="minimap"]').hidden).toBe(true);
  });

  it("opens a graph too big to fit at the legible scale, centred on its outputs", async () => {
    const snapshot = chainSnapshot(300);
    snapshot.outputs = ["v150"];
    await show(snapshot);
    expect(transform().scale).toBe(LEGIBLE_SCALE);
    const centre = onScreen("v150");
    expect(centre.x).toBeCloseTo(VIEW.width / 2, 0);
    // Vertically: centred in the room above the minimap (its box and its margins).
    expect(q('[data-role="minimap"]').hidden).toBe(false);
    const minimapRoom = Number(q('[data-role="minimap"] svg').getAttribute("height")) + 16;
    expect(centre.y).toBeCloseTo((VIEW.height - minimapRoom) / 2, 0);
  });

  it("keeps an output at the drawing's edge on screen, with no empty room past the edge", async () => {
    await show(chainSnapshot(300));
    const output = onScreen("v300");
    expect(output.x).toBeGreaterThan(VIEW.width / 2);
    expect(output.x).toBeLessThan(VIEW.width);
    const right = Number(q('[data-node-id="v300"] ellipse').getAttribute("rx")) * transform().scale + output.x;
    expect(right).toBeLessThanOrEqual(VIEW.width);
  });

  it.each([
    ["the seed", seedSnapshot()],
    ["a 40-step chain", chainSnapshot(40)],
    ["a 300-step chain", chainSnapshot(300)],
    ["60 inputs added up", fanSnapshot(60)],
  ])("never shows %s with labels under 10 px", async (_name, snapshot) => {
    await show(snapshot);
    expect(TEXT.labelSize * transform().scale).toBeGreaterThanOrEqual(10);
  });

  it("lets Fit shrink the drawing below the legible scale, and zoom buttons step the scale", async () => {
    await show(chainSnapshot(300));
    q('[data-action="fit"]').click();
    const fitted = transform().scale;
    expect(fitted).toBeLessThan(LEGIBLE_SCALE);
    q('[data-action="zoom-in"]').click();
    expect(transform().scale).toBeCloseTo(fitted * 1.25, 6);
    q('[data-action="zoom-out"]').click();
    q('[data-action="zoom-out"]').click();
    expect(transform().scale).toBeCloseTo(fitted / 1.25, 6);
  });

  it("gives the canvas the graph's height, within bounds", async () => {
    const { view } = await show(seedSnapshot());
    const small = Number.parseFloat(q(".dzw-body").style.height);
    view.dispose();
    views.pop();
    await show(fanSnapshot(60));
    const tall = Number.parseFloat(q(".dzw-body").style.height);
    expect(small).toBeLessThan(tall);
    expect(small).toBeGreaterThanOrEqual(160);
    expect(tall).toBeLessThanOrEqual(520);
  });
});

describe("the inspector beside the drawing", () => {
  const PANEL = { width: 296, height: 330 };
  /** jsdom lays nothing out: the panel gets the size a browser gives it. */
  function sizePanel(): HTMLElement {
    const panel = q('[data-role="inspector"]');
    Object.defineProperty(panel, "offsetWidth", { configurable: true, value: PANEL.width });
    Object.defineProperty(panel, "scrollHeight", { configurable: true, value: PANEL.height });
    return panel;
  }
  const free = VIEW.width - PANEL.width - 16;
  const rightEdge = (id: string) =>
    onScreen(id).x + Number(q(`[data-node-id="${id}"] ellipse`).getAttribute("rx")) * transform().scale;

  it("moves a default view beside the open panel, grows the canvas to its height, and restores both", async () => {
    await show(seedSnapshot());
    sizePanel();
    const before = transform();
    const height = q(".dzw-body").style.height;
    q('[data-node-id="v1"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(q('[data-role="inspector"]').hidden).toBe(false);
    for (const id of ["v1", "v2", "v3"]) expect(rightEdge(id)).toBeLessThanOrEqual(free);
    expect(Number.parseFloat(q(".dzw-body").style.height)).toBe(PANEL.height + 16);
    q('[data-role="inspector"] [data-action="close-inspector"]').click();
    expect(transform()).toEqual(before);
    expect(q(".dzw-body").style.height).toBe(height);
  });

  it("keeps the clicked node in view when a default view too big to fit is made again beside the panel", async () => {
    await show(chainSnapshot(300));
    sizePanel();
    // The leftmost node the default view (legible, around the output at the right) shows whole.
    const ids = Array.from({ length: 300 }, (_, i) => `v${i + 1}`);
    const leftmost = ids.find((id) => onScreen(id).x > 40) ?? "";
    const before = transform();
    q(`[data-node-id="${leftmost}"]`).dispatchEvent(new MouseEvent("click", { bubbles: true }));
    const rx = Number(q(`[data-node-id="${leftmost}"] ellipse`).getAttribute("rx")) * transform().scale;
    expect(onScreen(leftmost).x - rx).toBeGreaterThanOrEqual(0);
    expect(rightEdge(leftmost)).toBeLessThanOrEqual(free);
    expect(transform().scale).toBe(LEGIBLE_SCALE);
    q('[data-role="inspector"] [data-action="close-inspector"]').click();
    expect(transform()).toEqual(before); // the default view again
  });

  it("moves a view the user zoomed only as far as the clicked node needs, at the same zoom", async () => {
    await show(chainSnapshot(300));
    sizePanel();
    wheel({ ctrlKey: true, clientX: 300, clientY: 200 });
    const zoomed = transform();
    expect(rightEdge("v300")).toBeGreaterThan(free);
    q('[data-node-id="v300"]').dispatchEvent(new MouseEvent("click", { bubbles: true }));
    expect(transform().scale).toBe(zoomed.scale);
    expect(rightEdge("v300")).toBeCloseTo(free - 12, 0); // the view's margin (FIT_MARGIN)
  });
});

describe("wheel and focus", () => {
  it("leaves a plain wheel to the page (no zoom, not prevented) and hints how to zoom", async () => {
    await show(seedSnapshot());
    const before = transform();
    const hint = q('[data-role="hint"]');
    expect(hint.hidden).toBe(true);
    const event = wheel({});
    expect(event.defaultPrevented).toBe(false);
    expect(transform()).toEqual(before);
    expect(hint.hidden).toBe(false);
    expect(hint.textContent).toMatch(/wheel to zoom/);
  });

  it("hints only the first few times, not on every scroll past the widget", async () => {
    await show(seedSnapshot());
    const hint = q('[data-role="hint"]');
    vi.useFakeTimers();
    try {
      const shown: boolean[] = [];
      for (let k = 0; k < 5; k++) {
        wheel({});
        shown.push(!hint.hidden);
        vi.advanceTimersByTime(5000);
        expect(hint.hidden).toBe(true);
      }
      expect(shown).toEqual([true, true, true, false, false]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("zooms on Ctrl/⌘ + wheel (and a pinch, which is a ctrlKey wheel)", async () => {
    await show(seedSnapshot());
    const before = transform().scale;
    const event = wheel({ ctrlKey: true });
    expect(event.defaultPrevented).toBe(true);
    expect(transform().scale).toBeGreaterThan(before);
    const zoomedIn = transform().scale;
    expect(wheel({ metaKey: true, deltaY: 100 }).defaultPrevented).toBe(true);
    expect(transform().scale).toBeLessThan(zoomedIn);
  });

  it("zooms on a plain wheel after a click in the graph, until Escape or a click outside", async () => {
    const { view } = await show(seedSnapshot());
    expect(view.root.getAttribute("data-wheel-zoom")).toBe("off");
    press(canvas());
    expect(view.root.getAttribute("data-wheel-zoom")).toBe("on");
    let before = transform().scale;
    expect(wheel({}).defaultPrevented).toBe(true);
    expect(transform().scale).toBeGreaterThan(before);

    document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" }));
    expect(view.root.getAttribute("data-wheel-zoom")).toBe("off");
    before = transform().scale;
    expect(wheel({}).defaultPrevented).toBe(false);
    expect(transform().scale).toBe(before);

    press(canvas());
    expect(view.root.getAttribute("data-wheel-zoom")).toBe("on");
    press(q('[data-action="fit"]'));
    expect(view.root.getAttribute("data-wheel-zoom")).toBe("on"); // still inside the widget
    press(document.body);
    expect(view.root.getAttribute("data-wheel-zoom")).toBe("off");
  });
});

describe("minimap and nodes far from the view", () => {
  it("moves the view to the point pressed on the minimap", async () => {
    await show(chainSnapshot(300));
    const minimap = q('[data-role="minimap"] svg');
    const width = Number(minimap.getAttribute("width"));
    const height = Number(minimap.getAttribute("height"));
    const [, , layoutWidth, layoutHeight] = (minimap.getAttribute("viewBox") ?? "").split(" ").map(Number);
    press(minimap, { clientX: width / 4, clientY: height / 2 });
    const { x, y, scale } = transform();
    expect((VIEW.width / 2 - x) / scale).toBeCloseTo(layoutWidth / 4, 0);
    expect((VIEW.height / 2 - y) / scale).toBeCloseTo(layoutHeight / 2, 0);
  });

  it("keeps every node and its texts in the DOM, laying out texts only near the view", async () => {
    const { model } = await show(chainSnapshot(300));
    const far = host.querySelectorAll(".dzw-far");
    expect(far.length).toBeGreaterThan(0);
    expect(host.querySelectorAll("[data-node-id]").length).toBe(601);
    expect(q('[data-node-id="v300"]').classList.contains("dzw-far")).toBe(false);
    expect(q('[data-node-id="v1"]').classList.contains("dzw-far")).toBe(true);
    const refreshed = chainSnapshot(300);
    (refreshed.nodes[2] as VariableNode).grad = { shape: [], dtype: "float64", size: 1, preview: "0.5" };
    model.set("snapshot", refreshed);
    expect(q('[data-node-id="v1"] [data-role="grad"]').textContent).toBe("0.5");
    // Moving the view there brings the node near.
    const minimap = q('[data-role="minimap"] svg');
    press(minimap, { clientX: 1, clientY: Number(minimap.getAttribute("height")) / 2 });
    await vi.waitFor(() => expect(q('[data-node-id="v1"]').classList.contains("dzw-far")).toBe(false), {
      timeout: 1000,
      interval: 5,
    });
  });
});

describe("history chart", () => {
  const chart = () => q('[data-role="history"]');

  it("is hidden with no history, or a single value", async () => {
    const { model } = await show(seedSnapshot());
    expect(chart().hidden).toBe(true);
    expect(chart().getAttribute("data-count")).toBe("0");
    model.set("history", lossHistory(1));
    expect(chart().hidden).toBe(true);
    expect(chart().getAttribute("data-count")).toBe("1");
  });

  it("charts every value recorded, labelled with the newest and the count", async () => {
    await show(seedSnapshot(), { history: lossHistory(300) });
    expect(chart().hidden).toBe(false);
    expect(chart().getAttribute("data-count")).toBe("200");
    expect(chart().textContent).toContain("loss 0.00333 after 300 steps");
    const path = chart().querySelector(".dzw-history-line")!.getAttribute("d") ?? "";
    expect(path.match(/M/g)?.length).toBe(1);
    expect(path.match(/L/g)?.length).toBe(199);
  });

  it("leaves gaps for values that were not finite, and says 'loss' when unlabelled", async () => {
    const history: History = { label: "", values: [3, 2, null, 1, 0.5], steps: [1, 2, 3, 4, 5], total: 5 };
    await show(seedSnapshot(), { history });
    const path = chart().querySelector(".dzw-history-line")!.getAttribute("d") ?? "";
    expect(path.match(/M/g)?.length).toBe(2);
    expect(chart().textContent).toContain("loss 0.5 after 5 steps");
  });

  it("follows the history trait live, without laying the graph out again", async () => {
    const runner = new LayoutRunner();
    const run = vi.spyOn(runner, "run");
    const { model } = await show(seedSnapshot(), {}, runner);
    const node = q('[data-node-id="v1"]');
    expect(run).toHaveBeenCalledTimes(1);
    for (const count of [2, 10, 50, 250]) {
      model.set("history", lossHistory(count));
      expect(chart().getAttribute("data-count")).toBe(String(Math.min(count, 200)));
    }
    expect(chart().textContent).toContain("after 250 steps");
    model.set("history", { label: "", values: [], steps: [], total: 0 });
    expect(chart().hidden).toBe(true);
    expect(run).toHaveBeenCalledTimes(1);
    expect(q('[data-node-id="v1"]')).toBe(node);
    runner.dispose();
  });
});
