"""Issue 11 as a learner sees it, in a real JupyterLab in headless Chromium.

* Stepping through the seed's ``y = add(add(x, x), x)`` after a ``%%autodiff`` cell: the outer
  Add is applied first and x.grad is 1.0 after it, 3.0 after the inner Add; ◀, ▶ and the ←/→
  keys move; the inspector shows x's grad as the sum of its three terms.
* A second Backward click without Reset: the note says the grad was added to the earlier one.
* "Check gradient" passes on the engine's graph and fails on a learner's class whose
  ``backward`` forgets a factor 2.
* Predict mode: the grads are hidden, two guesses are typed, Backward marks one right and one
  wrong.
* The grad graph of ``tanh`` after ``backward(create_graph=True)``, set apart from the forward one.

Screenshots go to test-artifacts/stepping_*.png.
"""

from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.seed import SEED_CELL, SEED_IMPORTS

FIRST_RENDER_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000

STEP = dom.role("step")
ACTIVE = '[data-state="active"]'

SETUP = f"%load_ext dezero_widget\n{SEED_IMPORTS}"


def step_position(graph):
    """The step bar's position: (data-step, data-steps)."""
    position = graph.locator(STEP)
    return position.get_attribute("data-step"), position.get_attribute("data-steps")


def x_of(node) -> float:
    """Where a function node's box starts along the drawing's left-to-right axis."""
    return float(node.locator("rect").first.get_attribute("x"))


def test_step_through_the_seed_and_see_a_second_backward_accumulate(
    jupyter, notebook_page, run_cell, save_screenshot
):
    page = notebook_page
    cells = [SETUP, f"%%autodiff\n{SEED_CELL}"]
    jupyter.open_notebook(page, "stepping.ipynb", cells, timeout_ms=STEP_TIMEOUT_MS * 3)
    graph = dom.graphs(page)
    x_grad = dom.grad(graph, "x")
    y_grad = dom.grad(graph, "y")
    position = graph.locator(STEP)
    adds = graph.locator(dom.function("Add"))

    run_cell(page, 0)
    run_cell(page, 1)
    expect(x_grad).to_have_text("3.0", timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(graph).to_have_attribute("data-state", "ready")
    # A fresh replay: its end state, nothing highlighted.
    expect(position).to_have_attribute("data-steps", "2")
    expect(position).to_have_attribute("data-step", "2")
    expect(graph.locator(ACTIVE)).to_have_count(0)
    inner, outer = sorted((adds.nth(0), adds.nth(1)), key=x_of)  # left to right: x -> inner -> outer -> y

    # Step 1: the outer Add (the later generation) is applied first; x got 1.0 from it.
    graph.locator(dom.action("step-back")).click()
    expect(position).to_have_attribute("data-step", "1")
    expect(position).to_contain_text("Step 1 of 2")
    expect(graph.locator(ACTIVE)).to_have_count(1)
    expect(outer).to_have_attribute("data-state", "active")
    expect(x_grad).to_have_text("1.0")
    expect(y_grad).to_have_text("1.0")
    edge_grads = graph.locator(dom.role("edge-grad"))
    expect(edge_grads).to_have_count(3)  # gy from y, gx to the inner Add's output, gx to x
    save_screenshot(page, "stepping_step1")

    # Step 0: before the first function, x has no grad yet; y holds the seed.
    graph.locator(dom.action("step-back")).click()
    expect(position).to_have_attribute("data-step", "0")
    expect(x_grad).to_have_text("None")
    expect(y_grad).to_have_text("1.0")
    expect(graph.locator(ACTIVE)).to_have_count(0)

    # Step 2: the inner Add sends x two more terms: 3.0, the end state.
    graph.locator(dom.action("step-forward")).click()
    graph.locator(dom.action("step-forward")).click()
    expect(position).to_have_attribute("data-step", "2")
    expect(inner).to_have_attribute("data-state", "active")
    expect(outer).not_to_have_attribute("data-state", "active")
    expect(x_grad).to_have_text("3.0")

    # The arrow keys move once the widget has the focus (the last click was inside it).
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_attribute("data-step", "1")
    expect(x_grad).to_have_text("1.0")
    page.keyboard.press("ArrowRight")
    expect(position).to_have_attribute("data-step", "2")
    expect(x_grad).to_have_text("3.0")
    # A click on the drawing's background gives the widget the focus too.
    page.evaluate("document.activeElement?.blur()")
    graph.locator("svg").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("ArrowLeft")
    expect(position).to_have_attribute("data-step", "1")
    page.keyboard.press("ArrowRight")
    expect(position).to_have_attribute("data-step", "2")

    # x's inspector: its grad is the sum of three terms, each from an Add.
    graph.locator(dom.variable("x")).click()
    terms = graph.locator(f"{dom.role('inspector')} {dom.role('contributions')} > *")
    expect(terms).to_have_count(3)
    expect(terms.first).to_contain_text("1.0")
    expect(terms.first).to_contain_text("from Add")
    expect(graph.locator(dom.role("inspector"))).to_contain_text("= 3.0")
    save_screenshot(page, "stepping_contributions")

    # A second Backward without Reset adds onto the earlier grad, and the widget says so.
    graph.locator(dom.action("backward")).click()
    expect(x_grad).to_have_text("6.0", timeout=STEP_TIMEOUT_MS)
    note = graph.locator(dom.role("accumulated"))
    expect(note).to_be_visible()
    expect(note).to_contain_text("x.grad: 3.0 + 3.0 = 6.0")
    expect(note).to_contain_text("Reset clears it")
    expect(terms).to_have_count(4)  # the earlier 3.0, then this backward's three terms
    expect(position).to_have_attribute("data-step", "2")
    expect(graph.locator(ACTIVE)).to_have_count(0)  # a new replay starts at its end again
    save_screenshot(page, "stepping_accumulated")

    # Reset: no grads, nothing to replay, nothing accumulated.
    graph.locator(dom.action("reset")).click()
    expect(graph.locator(f"{dom.variable()} {dom.GRAD}")).to_have_text(["None"] * 3, timeout=STEP_TIMEOUT_MS)
    expect(note).to_be_hidden()
    expect(graph.locator(dom.role("step-bar"))).to_be_hidden()


WRONG_SQUARE_CELL = """\
%%autodiff
from tests.fixtures.learner_classes import Step14VariableWithCleargrad, step14_wrong_square
a = Step14VariableWithCleargrad(np.array(3.0))
b = step14_wrong_square(a)
b.backward()"""


def test_gradient_check_passes_on_the_engine_and_fails_on_a_wrong_backward(
    jupyter, notebook_page, run_cell, save_screenshot
):
    page = notebook_page
    cells = [SETUP, f"%%autodiff\n{SEED_CELL}", WRONG_SQUARE_CELL]
    jupyter.open_notebook(page, "grad_check.ipynb", cells, timeout_ms=STEP_TIMEOUT_MS * 3)
    for index in range(3):
        run_cell(page, index)
    engine = dom.graph_in_cell(page, 1)
    learner = dom.graph_in_cell(page, 2)
    expect(dom.grad(engine, "x")).to_have_text("3.0", timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(dom.grad(learner, "a")).to_have_text("3.0", timeout=STEP_TIMEOUT_MS)  # 2 * 3.0 would be right

    engine.locator(dom.variable("x")).click()
    engine.locator(f"{dom.role('inspector')} {dom.action('grad-check')}").click()
    result = engine.locator(dom.role("grad-check"))
    expect(result).to_have_attribute("data-ok", "true", timeout=STEP_TIMEOUT_MS)
    expect(result).to_contain_text("passed")
    expect(result).to_contain_text("1 of 1")
    expect(engine.locator(dom.variable("x"))).to_have_attribute("data-check", "pass")

    learner.locator(dom.variable("a")).click()
    learner.locator(f"{dom.role('inspector')} {dom.action('grad-check')}").click()
    result = learner.locator(dom.role("grad-check"))
    expect(result).to_have_attribute("data-ok", "false", timeout=STEP_TIMEOUT_MS)
    expect(result).to_contain_text("failed")
    expect(learner.locator(dom.variable("a"))).to_have_attribute("data-check", "fail")
    learner.scroll_into_view_if_needed()
    save_screenshot(page, "stepping_grad_check")


def test_predict_mode_marks_a_right_and_a_wrong_guess(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    cells = [SETUP, "%%autodiff\nx = Variable(np.array(3.0))\ny = add(add(x, x), x)"]
    jupyter.open_notebook(page, "predict.ipynb", cells, timeout_ms=STEP_TIMEOUT_MS * 3)
    graph = dom.graphs(page)
    run_cell(page, 0)
    run_cell(page, 1)
    expect(dom.grad(graph, "x")).to_have_text("None", timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(graph.locator(dom.action("backward"))).to_be_enabled(timeout=STEP_TIMEOUT_MS)

    graph.locator(dom.action("predict")).click()
    expect(graph.locator(dom.action("predict"))).to_have_attribute("aria-pressed", "true")
    expect(graph.locator(f"{dom.variable()} {dom.GRAD}")).to_have_text(["?"] * 3)
    guesses = graph.locator(dom.role("guess"))
    expect(guesses).to_have_count(3)
    # Each input sits over its node's grad row: find x's and y's by their nodes' ids.
    x_id = graph.locator(dom.variable("x")).get_attribute("data-node-id")
    y_id = graph.locator(dom.variable("y")).get_attribute("data-node-id")
    x_guess = graph.locator(f'{dom.role("guess")}[data-node-id="{x_id}"]')
    y_guess = graph.locator(f'{dom.role("guess")}[data-node-id="{y_id}"]')
    x_guess.fill("2")  # x is used three times: its grad is 3
    y_guess.fill("1")
    expect(x_guess).to_have_value("2")
    save_screenshot(page, "stepping_predict_guessing")

    graph.locator(dom.action("backward")).click()
    expect(graph.locator(dom.variable("x"))).to_have_attribute("data-guess", "wrong", timeout=STEP_TIMEOUT_MS)
    expect(graph.locator(dom.variable("y"))).to_have_attribute("data-guess", "right")
    expect(dom.grad(graph, "x")).to_have_text("3.0")
    save_screenshot(page, "stepping_predict_revealed")

    graph.locator(dom.action("predict")).click()
    expect(guesses).to_have_count(0)
    expect(graph.locator("[data-guess]")).to_have_count(0)


def test_the_grad_graph_of_tanh_is_drawn_set_apart(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    cells = [
        "%load_ext dezero_widget\nimport numpy as np\nfrom dezero_widget import Variable\nimport dezero_widget.functions as F",
        "%%autodiff\nx = Variable(np.array(1.0), name='x')\ny = F.tanh(x)\ny.backward(create_graph=True)",
    ]
    jupyter.open_notebook(page, "grad_graph.ipynb", cells, timeout_ms=STEP_TIMEOUT_MS * 3)
    graph = dom.graphs(page)
    run_cell(page, 0)
    run_cell(page, 1)
    expect(graph).to_have_attribute("data-state", "ready", timeout=FIRST_RENDER_TIMEOUT_MS)
    toggle = graph.locator(dom.action("grad-graph"))
    expect(toggle).to_be_enabled(timeout=STEP_TIMEOUT_MS)
    forward_nodes = graph.locator("[data-node-kind]").count()

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    grad_nodes = graph.locator(".dzw-sub-grad[data-node-kind]")
    expect(grad_nodes.first).to_be_visible(timeout=STEP_TIMEOUT_MS)
    expect(graph).to_have_attribute("data-state", "ready")
    assert graph.locator("[data-node-kind]").count() == forward_nodes + grad_nodes.count()
    expect(graph.locator(".dzw-grad-link").first).to_be_attached()
    graph.locator(dom.action("fit")).click()  # the whole of both graphs, for the screenshot
    save_screenshot(page, "stepping_grad_graph")

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(grad_nodes).to_have_count(0, timeout=STEP_TIMEOUT_MS)
