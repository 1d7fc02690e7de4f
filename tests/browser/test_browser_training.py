"""examples/training.ipynb (issue 12.5) in a real JupyterLab, in headless Chromium: "Run All",
then what its text tells a learner to do. The training widget shows the step's layers as boxes,
collapsed; a click opens one with its Linear function and its parameters W and b inside, with
their grads; Reset and Backward change those grads; a click on the box's title closes it.
``model.plot(x)`` shows the small model with its layers open.

Screenshots: test-artifacts/training_*.png.
"""

from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.paths import ARTIFACTS, TRAINING

RUN_ALL_TIMEOUT_MS = 120_000
STEP_TIMEOUT_MS = 30_000
WIDGETS = 2  # the training cell's and model.plot's
MIN_TITLE_PX = 10.0  # the issue-9 floor for text on screen at the default view

LAYER = '[data-node-kind="layer"]'


def layer(kind: str | None = None, collapsed: str | None = None) -> str:
    selector = LAYER
    if kind is not None:
        selector += f'[data-layer="{kind}"]'
    if collapsed is not None:
        selector += f'[data-collapsed="{collapsed}"]'
    return selector


# The on-screen height of a box's title text and whether the title is inside the canvas.
TITLE_GEOMETRY = """
box => {
  const title = box.querySelector('.dzw-layer-title');
  const r = title.getBoundingClientRect();
  const c = box.ownerSVGElement.getBoundingClientRect();
  const inside = r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom;
  return { px: r.height, inside, text: title.textContent };
}
"""


def run_all(page, jupyter) -> None:
    jupyter.open_example(page, TRAINING)
    jupyter.run_all(page)
    graphs = dom.graphs(page)
    expect(graphs).to_have_count(WIDGETS, timeout=RUN_ALL_TIMEOUT_MS)
    for index in range(WIDGETS):
        expect(graphs.nth(index)).to_have_attribute("data-state", "ready", timeout=RUN_ALL_TIMEOUT_MS)
    last_prompt = page.locator(".jp-Notebook .jp-CodeCell").last.locator(dom.INPUT_PROMPT)
    expect(last_prompt).not_to_have_text(dom.RUNNING_PROMPT, timeout=RUN_ALL_TIMEOUT_MS)
    jupyter.wait_for_idle_kernel(TRAINING.name)
    expect(
        page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    ).to_have_count(0)


def shoot(graph, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    graph.evaluate("e => e.scrollIntoView({block: 'center'})")
    graph.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_training_notebook_layers_open_close_and_stay_live(jupyter, notebook_page, save_screenshot):
    page = notebook_page
    run_all(page, jupyter)
    training, plotted = dom.graphs(page).nth(0), dom.graphs(page).nth(1)

    # The loss of all 3,000 steps (200 points); the step drawn with its layers collapsed.
    expect(dom.history(training)).to_have_attribute("data-count", "200")
    expect(training.locator(layer("Linear", "true"))).to_have_count(2)
    expect(training.locator(layer("MLP", "false"))).to_have_count(1)
    expect(training.locator(dom.function("Linear"))).to_have_count(0)
    expect(training.locator(dom.function("Sigmoid"))).to_have_count(1)
    expect(training.locator(dom.function("SoftmaxCrossEntropy"))).to_have_count(1)
    # A collapsed layer lists its parameters with their grads (run_backward's, the last cell's).
    l1 = training.locator(layer("Linear"), has_text="l1 · Linear")
    expect(l1).to_have_count(1)
    expect(l1.locator('[data-role="layer-param"]')).to_have_count(2)
    expect(l1.locator('[data-role="layer-param"]').first).to_contain_text("W (10, 3)  grad ‖g‖")
    shoot(training, "training_collapsed")
    # The default view (legible text around the output, issue 9) shows the last layer, as the
    # notebook says; every layer title on screen is legible.
    titles = [box.evaluate(TITLE_GEOMETRY) for box in training.locator(LAYER).all()]
    assert l1.evaluate(TITLE_GEOMETRY)["inside"], titles
    assert all(title["px"] >= MIN_TITLE_PX for title in titles if title["inside"]), titles

    # A click opens l1: its Linear function and its parameters W and b are inside its box.
    l1_id = l1.get_attribute("data-node-id")
    box = training.locator(f'{LAYER}[data-node-id="{l1_id}"]')
    box.click()
    expect(box).to_have_attribute("data-collapsed", "false", timeout=STEP_TIMEOUT_MS)
    expect(training).to_have_attribute("data-state", "ready", timeout=STEP_TIMEOUT_MS)
    expect(box.locator(dom.function("Linear"))).to_have_count(1)
    expect(box.locator(dom.variable())).to_have_count(2)
    for name in ("W", "b"):
        expect(box.locator(dom.variable(name))).to_have_count(1)
        expect(dom.grad(box, name)).not_to_have_text("None")
    expect(training.locator(layer("Linear", "true"))).to_have_count(1)  # l0 stays collapsed
    geometry = box.evaluate(TITLE_GEOMETRY)
    assert geometry["inside"] and geometry["px"] >= MIN_TITLE_PX, geometry
    assert geometry["text"] == "▾ l1 · Linear"
    # The members are drawn inside the box's frame.
    frame = box.locator(".dzw-layer-frame").bounding_box()
    for member in (box.locator(dom.function("Linear")), box.locator(dom.variable("W"))):
        inner = member.bounding_box()
        assert frame["x"] <= inner["x"] and inner["x"] + inner["width"] <= frame["x"] + frame["width"] + 1
        assert frame["y"] <= inner["y"] and inner["y"] + inner["height"] <= frame["y"] + frame["height"] + 1
    shoot(training, "training_open_layer")

    # Reset clears every grad of the step: inside the open box and in the collapsed l0's rows.
    reset = training.locator(dom.action("reset"))
    expect(reset).to_be_enabled(timeout=STEP_TIMEOUT_MS)
    reset.click()
    for name in ("W", "b"):
        expect(dom.grad(box, name)).to_have_text("None", timeout=STEP_TIMEOUT_MS)
    l0_rows = training.locator(layer("Linear", "true")).locator('[data-role="layer-param"]')
    expect(l0_rows.first).to_contain_text("grad None")
    # Backward on the step brings them back; the box stays open.
    training.locator(dom.action("backward")).click()
    expect(dom.grad(box, "W")).to_contain_text("‖g‖", timeout=STEP_TIMEOUT_MS)
    expect(l0_rows.first).to_contain_text("grad ‖g‖")
    expect(box).to_have_attribute("data-collapsed", "false")

    # A click on the open box's title closes it again.
    box.locator(".dzw-layer-title").click()
    expect(box).to_have_attribute("data-collapsed", "true", timeout=STEP_TIMEOUT_MS)
    expect(training.locator(dom.function("Linear"))).to_have_count(0)

    # model.plot(x): 11 nodes, so the model's box and both layers are open.
    expect(plotted.locator(layer(collapsed="false"))).to_have_count(3)
    expect(plotted.locator(layer(collapsed="true"))).to_have_count(0)
    expect(plotted.locator(dom.function("Linear"))).to_have_count(2)
    model = plotted.locator(layer("MLP"))
    expect(model.locator(layer("Linear"))).to_have_count(2)
    assert model.evaluate(TITLE_GEOMETRY)["text"] == "▾ model · MLP"
    shoot(plotted, "training_model_plot")
    save_screenshot(page, "training")
