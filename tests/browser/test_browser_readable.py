"""Issue 9 as a learner sees it, in a real JupyterLab in headless Chromium.

* The book's step-43 MLP under ``%%autodiff -b loss`` is legible at the default view: every
  variable label on screen is at least 10 px tall and the output (``loss``) is on the canvas.
* A plain mouse wheel over a widget scrolls the notebook and leaves the drawing alone;
  Ctrl+wheel and the zoom buttons zoom.
* A training loop under ``%%autodiff`` shows one step (its functions once, each parameter once)
  and a history chart of the loss with one point per ``backward()`` up to its cap.
* The widget follows the loop while it runs: the chart grows before the cell ends.

Screenshots go to test-artifacts/readable_*.png.
"""

import numpy as np
from playwright.sync_api import expect

from dezero_widget import Variable
from dezero_widget import functions as F
from dezero_widget.protocol import HISTORY_POINTS
from dezero_widget.trace import trace
from tests.fixtures import dom
from tests.fixtures.paths import ARTIFACTS

# The first widget of a page loads the bundle and starts the layout worker.
FIRST_RENDER_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 30_000
# The floor for label text on screen, in CSS pixels.
MIN_LABEL_PX = 10.0

# The book's step 43 (a 2-layer MLP on a noisy sine), as a learner types it: plain ndarrays for
# the data, unnamed Variables for the parameters (they are labelled by their notebook names).
SETUP = """\
%load_ext dezero_widget
import time
import numpy as np
from dezero_widget import Variable
import dezero_widget.functions as F

np.random.seed(0)
x = np.random.rand(100, 1)
y = np.sin(2 * np.pi * x) + np.random.rand(100, 1)

I, H, O = 1, 10, 1
W1 = Variable(0.01 * np.random.randn(I, H))
b1 = Variable(np.zeros(H))
W2 = Variable(0.01 * np.random.randn(H, O))
b2 = Variable(np.zeros(O))


def predict(x):
    y = F.linear(x, W1, b1)
    y = F.sigmoid(y)
    y = F.linear(y, W2, b2)
    return y"""

FORWARD = """\
y_pred = predict(x)
loss = F.mean_squared_error(y, y_pred)"""

PARAMETERS = ("W1", "b1", "W2", "b2")


def training_loop(steps: int, options: str = "", pause: float = 0.0) -> str:
    """A ``%%autodiff`` cell: the book's training loop, as printed, for ``steps`` steps
    (``pause`` s each)."""
    sleep = f"\n    time.sleep({pause})" if pause else ""
    return f"""\
%%autodiff {options}
lr = 0.2
for i in range({steps}):
    y_pred = predict(x)
    loss = F.mean_squared_error(y, y_pred)

    W1.cleargrad()
    b1.cleargrad()
    W2.cleargrad()
    b2.cleargrad()
    loss.backward()

    W1.data -= lr * W1.grad.data
    b1.data -= lr * b1.grad.data
    W2.data -= lr * W2.grad.data
    b2.data -= lr * b2.grad.data{sleep}
print(f"loss after {steps} steps: {{float(loss.data):.3f}}")"""


def one_step() -> dict:
    """The graph of one step of the loop, built here with the same engine: the sorted ops of its
    function nodes and its number of variables."""
    rng = np.random.default_rng(0)
    x = rng.random((100, 1))
    y = np.sin(2 * np.pi * x) + rng.random((100, 1))
    W1, b1 = Variable(0.01 * rng.standard_normal((1, 10))), Variable(np.zeros(10))
    W2, b2 = Variable(0.01 * rng.standard_normal((10, 1))), Variable(np.zeros(1))
    loss = F.mean_squared_error(y, F.linear(F.sigmoid(F.linear(x, W1, b1)), W2, b2))
    nodes = trace(loss).snapshot()["nodes"]
    return {
        "ops": sorted(node["op"] for node in nodes if node["kind"] == "function"),
        "variables": sum(node["kind"] == "variable" for node in nodes),
    }


# Measures every variable label in the drawing. The size asserted is the font size times the
# label's on-screen scale (getScreenCTM, which includes the pan/zoom group's scale(s) and
# anything above it): the em size of the text in screen pixels, what "12 px text" means. The
# bounding box height is reported too, but not asserted: it adds the font's ascent/descent
# padding (about 1.2 em), so it would let text slightly smaller than 10 px pass.
# A label is on screen when its box meets the canvas, clipped to the window.
LABEL_GEOMETRY = """
g => {
  const canvas = g.ownerSVGElement;
  const c = canvas.getBoundingClientRect();
  const view = {
    left: Math.max(c.left, 0), top: Math.max(c.top, 0),
    right: Math.min(c.right, window.innerWidth), bottom: Math.min(c.bottom, window.innerHeight),
  };
  const meets = r => r.width > 0 && r.height > 0 && r.right > view.left && r.left < view.right
    && r.bottom > view.top && r.top < view.bottom;
  const inside = r => r.width > 0 && r.left >= view.left - 0.5 && r.right <= view.right + 0.5
    && r.top >= view.top - 0.5 && r.bottom <= view.bottom + 0.5;
  const labels = [...g.querySelectorAll('[data-node-kind="variable"] [data-role="label"]')].map(el => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    // An HTML label (in a foreignObject) is scaled by its SVG ancestors' transforms.
    const svgElement = el instanceof SVGGraphicsElement ? el : el.closest('foreignObject');
    const ctm = svgElement ? svgElement.getScreenCTM() : null;
    const scale = ctm ? Math.hypot(ctm.a, ctm.b) : 1;
    const fontPx = parseFloat(style.fontSize);
    return {
      name: el.closest('[data-node-kind]').getAttribute('data-node-name'),
      text: el.textContent,
      fontPx, scale, screenPx: fontPx * scale, boxHeight: box.height,
      onScreen: style.display !== 'none' && style.visibility !== 'hidden' && Number(style.opacity) > 0
        && meets(box),
    };
  });
  const nodesInside = {};
  for (const node of g.querySelectorAll('[data-node-kind="variable"]')) {
    nodesInside[node.getAttribute('data-node-name')] = inside(node.getBoundingClientRect());
  }
  return { canvas: { width: c.width, height: c.height }, labels, nodesInside };
}
"""

# The nearest ancestor that scrolls vertically: the notebook's scroller.
SCROLLER = """
el => {
  for (let e = el.parentElement; e; e = e.parentElement) {
    const overflow = getComputedStyle(e).overflowY;
    if ((overflow === 'auto' || overflow === 'scroll') && e.scrollHeight > e.clientHeight) return e;
  }
  return document.scrollingElement;
}
"""


def centre_on_screen(locator) -> None:
    """Scrolls the notebook so that ``locator`` is in the middle of the window (not the drawing)."""
    locator.evaluate("e => e.scrollIntoView({block: 'center', inline: 'nearest'})")


def canvas_centre(graph) -> tuple[float, float]:
    box = dom.viewport(graph).evaluate(
        "g => { const r = g.ownerSVGElement.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }"
    )
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def test_step43_mlp_is_legible_at_the_default_view(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    jupyter.open_notebook(page, "readable_mlp.ipynb", [SETUP, f"%%autodiff -b loss\n{FORWARD}"])
    graph = dom.graph_in_cell(page, 1)
    expected = one_step()

    run_cell(page, 0)
    run_cell(page, 1)
    expect(dom.label(graph, "loss")).to_have_count(1, timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(graph).to_have_attribute("data-state", "ready", timeout=STEP_TIMEOUT_MS)
    expect(graph.locator(dom.variable())).to_have_count(expected["variables"])
    expect(graph.locator(dom.function())).to_have_count(len(expected["ops"]))
    for name in (*PARAMETERS, "x", "y", "loss"):
        expect(graph.locator(dom.variable(name))).to_have_count(1)
    # Arrays get a heatmap thumbnail (one for data, and one for a grad when there is one); the
    # scalar loss gets none.
    for name in ("x", "W1", "b1", "W2"):
        expect(graph.locator(f"{dom.variable(name)} {dom.THUMBNAIL}").first).to_be_visible()
    expect(graph.locator(f"{dom.variable('loss')} {dom.THUMBNAIL}")).to_have_count(0)

    # The default view: nothing in the widget touched, the notebook scrolled to show it.
    centre_on_screen(graph)
    geometry = dom.viewport(graph).evaluate(LABEL_GEOMETRY)
    on_screen = [label for label in geometry["labels"] if label["onScreen"]]
    summary = [
        (lb["name"], round(lb["screenPx"], 1), round(lb["boxHeight"], 1), lb["onScreen"])
        for lb in geometry["labels"]
    ]
    too_small = [lb for lb in on_screen if lb["screenPx"] < MIN_LABEL_PX]
    assert not too_small, (
        f"labels under {MIN_LABEL_PX} px at the default view (name, px, box, on screen): {summary}"
    )
    assert geometry["nodesInside"].get("loss"), f"the output's node is not inside the canvas: {geometry}"
    assert "loss" in [lb["name"] for lb in on_screen], f"the output's label is not on screen: {summary}"
    assert len(on_screen) >= 3, (
        f"only {len(on_screen)} labels on screen (name, px, box, on screen): {summary}"
    )

    print(f"labels at the default view (name, px, box height, on screen): {summary}")
    save_screenshot(page, "readable_mlp")
    ARTIFACTS.mkdir(exist_ok=True)
    graph.screenshot(path=str(ARTIFACTS / "readable_mlp_widget.png"))

    # The inspector opens beside the drawing: the node clicked stays in view, left of the panel,
    # whether it sat at the left (W2) or where the panel opens (the output, loss).
    inspector = graph.locator(dom.role("inspector"))
    canvas = dom.viewport(graph).locator("xpath=..").bounding_box()
    for name in ("W2", "loss"):
        graph.locator(dom.variable(name)).click()
        expect(inspector).to_be_visible()
        expect(inspector).to_contain_text(f"Variable {name}")
        node, panel = graph.locator(dom.variable(name)).bounding_box(), inspector.bounding_box()
        assert canvas["x"] <= node["x"] and node["x"] + node["width"] <= panel["x"], (name, node, panel)
        if name == "loss":
            graph.screenshot(path=str(ARTIFACTS / "readable_mlp_inspector.png"))
        inspector.locator(dom.action("close-inspector")).click()
        expect(inspector).to_be_hidden()


WHEEL_CELLS = [
    f"{SETUP}\nprint('\\n'.join(f'filler line {{i}}' for i in range(45)))",
    "print('\\n'.join(f'more filler {i}' for i in range(45)))",
    "%%autodiff\na = Variable(np.array(3.0))\nb = F.add(F.add(a, a), a)\nb.backward()",
    "print('\\n'.join(f'after the widget {i}' for i in range(45)))",
    "print('\\n'.join(f'the end {i}' for i in range(45)))",
]


def test_wheel_scrolls_the_notebook_and_ctrl_wheel_zooms(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    jupyter.open_notebook(page, "readable_wheel.ipynb", WHEEL_CELLS)
    graph = dom.graph_in_cell(page, 2)
    for index in range(3):
        run_cell(page, index)
    expect(graph).to_have_attribute("data-state", "ready", timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(graph.locator(dom.function("Add"))).to_have_count(2)
    for index in range(3, len(WHEEL_CELLS)):
        run_cell(page, index)
    expect(dom.output_area(page, len(WHEEL_CELLS) - 1)).to_contain_text("the end 44", timeout=STEP_TIMEOUT_MS)
    view = dom.viewport(graph)
    scroller = graph.evaluate_handle(SCROLLER).as_element()
    assert scroller.evaluate("s => s.scrollHeight - s.clientHeight") > 600, (
        "the notebook is too short to scroll"
    )

    # Control: a wheel over plain output scrolls this scroller.
    filler = dom.output_area(page, 1)
    centre_on_screen(filler)
    top = scroller.evaluate("s => s.scrollTop")
    box = filler.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, 100)
    page.wait_for_function("([s, top]) => s.scrollTop !== top", arg=[scroller, top], timeout=STEP_TIMEOUT_MS)

    # A plain wheel over the drawing: the notebook scrolls, the drawing stays as it was.
    centre_on_screen(graph)
    before = view.get_attribute("transform")
    top = scroller.evaluate("s => s.scrollTop")
    page.mouse.move(*canvas_centre(graph))
    page.mouse.wheel(0, 200)
    # A zoom would have happened in the wheel event itself, before the browser scrolled.
    page.wait_for_function("([s, top]) => s.scrollTop !== top", arg=[scroller, top], timeout=STEP_TIMEOUT_MS)
    assert view.get_attribute("transform") == before, "a plain wheel zoomed or panned the graph"

    # Ctrl+wheel (a trackpad pinch arrives the same way) zooms in.
    scale = dom.view_scale(graph)
    page.mouse.move(*canvas_centre(graph))
    page.keyboard.down("Control")
    try:
        page.mouse.wheel(0, -50)
    finally:
        page.keyboard.up("Control")
    expect(view).not_to_have_attribute("transform", before, timeout=STEP_TIMEOUT_MS)
    zoomed = dom.view_scale(graph)
    assert zoomed > scale, f"Ctrl+wheel up should zoom in: scale {scale} -> {zoomed}"

    # The buttons: out, then in.
    for action, grows in (("zoom-out", False), ("zoom-in", True)):
        transform = view.get_attribute("transform")
        graph.locator(dom.action(action)).click()
        expect(view).not_to_have_attribute("transform", transform, timeout=STEP_TIMEOUT_MS)
        now = dom.view_scale(graph)
        assert (now > zoomed) if grows else (now < zoomed), f"{action}: scale {zoomed} -> {now}"
        zoomed = now

    save_screenshot(page, "readable_wheel")


def test_training_loop_shows_one_step_and_the_loss_history(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    cells = [SETUP, training_loop(300), training_loop(50)]
    jupyter.open_notebook(page, "readable_loop.ipynb", cells)
    expected = one_step()

    for index, steps in ((1, 300), (2, 50)):
        if index == 1:
            run_cell(page, 0)
        run_cell(page, index)
        expect(dom.output_area(page, index)).to_contain_text(
            f"loss after {steps} steps", timeout=FIRST_RENDER_TIMEOUT_MS
        )
        expect(dom.input_prompt(page, index)).not_to_have_text(dom.RUNNING_PROMPT)
        graph = dom.graph_in_cell(page, index)
        expect(graph).to_have_attribute("data-state", "ready", timeout=STEP_TIMEOUT_MS)

        # One step: its function nodes exactly, each parameter once, nothing left out.
        functions = graph.locator(dom.function())
        expect(functions).to_have_count(len(expected["ops"]))
        ops = sorted(functions.evaluate_all("nodes => nodes.map(n => n.getAttribute('data-op'))"))
        assert ops == expected["ops"], f"cell {index}: drawn ops {ops}, one step has {expected['ops']}"
        expect(graph.locator(dom.variable())).to_have_count(expected["variables"])
        for name in PARAMETERS:
            expect(graph.locator(dom.variable(name))).to_have_count(1)
        expect(graph.locator(dom.role("truncated"))).not_to_contain_text("left out")

        # The loss over every backward(), up to the chart's cap.
        chart = dom.history(graph)
        expect(chart).to_have_count(1)
        expect(chart).to_have_attribute(
            "data-count", str(min(steps, HISTORY_POINTS)), timeout=STEP_TIMEOUT_MS
        )

    # The first cell's widget still shows its own history.
    expect(dom.history(dom.graph_in_cell(page, 1))).to_have_attribute("data-count", str(HISTORY_POINTS))
    centre_on_screen(dom.graph_in_cell(page, 2))
    save_screenshot(page, "readable_loop")


LIVE_STEPS = 60
# True (the count shown) once the running cell's chart shows at least `least` values; throws if
# the cell has finished first, so a chart drawn only at the end fails at once.
GROWING_WHILE_RUNNING = """
([cell, least]) => {
  const running = cell.querySelector('.jp-InputPrompt').textContent.trim() === '[*]:';
  const chart = cell.querySelector('[data-testid="autodiff-graph"] [data-role="history"]');
  const count = chart ? Number(chart.getAttribute('data-count')) : 0;
  if (!running) throw new Error(`the cell finished while its chart showed ${count} values`);
  return count >= least ? count : false;
}
"""


def test_widget_follows_the_loop_while_it_runs(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    # The first cell also shows a widget, so the bundle is loaded before the loop starts: the
    # ~3 s loop then measures live updates, not the first load of the front end.
    cells = [
        f"{SETUP}\n",
        "%%autodiff\na = Variable(np.array(3.0))\nb = F.add(a, a)\nb.backward()",
        training_loop(LIVE_STEPS, "-o w", pause=0.05),
        "print('history total', w.history['total'], 'shown', len(w.history['values']))",
    ]
    jupyter.open_notebook(page, "readable_live.ipynb", cells)
    run_cell(page, 0)
    run_cell(page, 1)
    expect(dom.graph_in_cell(page, 1)).to_have_attribute(
        "data-state", "ready", timeout=FIRST_RENDER_TIMEOUT_MS
    )

    run_cell(page, 2)
    expect(dom.input_prompt(page, 2)).to_have_text(dom.RUNNING_PROMPT, timeout=STEP_TIMEOUT_MS)
    cell = dom.cells(page).nth(2).element_handle()
    first = page.wait_for_function(GROWING_WHILE_RUNNING, arg=[cell, 2], timeout=STEP_TIMEOUT_MS).json_value()
    later = page.wait_for_function(GROWING_WHILE_RUNNING, arg=[cell, first + 1], timeout=STEP_TIMEOUT_MS)
    later = later.json_value()
    assert 2 <= first < later <= LIVE_STEPS

    expect(dom.output_area(page, 2)).to_contain_text(
        f"loss after {LIVE_STEPS} steps", timeout=STEP_TIMEOUT_MS
    )
    graph = dom.graph_in_cell(page, 2)
    expect(dom.history(graph)).to_have_attribute("data-count", str(LIVE_STEPS), timeout=STEP_TIMEOUT_MS)
    expect(graph.locator(dom.function())).to_have_count(len(one_step()["ops"]))
    run_cell(page, 3)
    expect(dom.cell_output(page, 3)).to_have_text(
        f"history total {LIVE_STEPS} shown {LIVE_STEPS}", timeout=STEP_TIMEOUT_MS
    )
    print(f"history counts seen while the loop ran: {first}, then {later}")

    centre_on_screen(graph)
    save_screenshot(page, "readable_live")
