"""%load_ext and %%autodiff in a real JupyterLab, in headless Chromium: the magic's
widget shows the seed's graph with every grad, a later y.backward() cell updates it,
and Reset clears every grad in the drawing and in the kernel."""

from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.seed import BACKWARD_AGAIN, SEED_CELL, SEED_IMPORTS

FIRST_RENDER_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000

CELLS = [
    f"%load_ext dezero_widget\n{SEED_IMPORTS}",
    f"%%autodiff\n{SEED_CELL}",
    BACKWARD_AGAIN,
    "print('x.grad is', x.grad)",
]


def test_autodiff_magic_in_jupyterlab(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    jupyter.open_notebook(page, "autodiff_magic.ipynb", CELLS, timeout_ms=STEP_TIMEOUT_MS * 3)

    graph = dom.graphs(page)
    variables = graph.locator(dom.variable())
    x_grad = dom.grad(graph, "x")
    y_grad = dom.grad(graph, "y")
    unnamed_grad = graph.locator(f"{dom.variable(other_than=('x', 'y'))} {dom.GRAD}")
    printed = dom.cell_output(page, 3)

    run_cell(page, 0)
    run_cell(page, 1)
    expect(x_grad).to_have_text("3.0", timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(variables).to_have_count(3)
    expect(graph.locator(dom.function("Add"))).to_have_count(2)
    # Once the %%autodiff cell has run, the intermediates show the grads retain_grad would keep.
    expect(unnamed_grad).to_have_text("1.0")
    expect(y_grad).to_have_text("1.0")
    save_screenshot(page, "autodiff_magic_after_cell")

    # A later cell's backward() updates the magic's widget without re-running it.
    run_cell(page, 2)
    expect(x_grad).to_have_text("6.0", timeout=STEP_TIMEOUT_MS)

    graph.locator(dom.action("reset")).click()
    expect(variables.locator(dom.GRAD)).to_have_text(["None"] * 3, timeout=STEP_TIMEOUT_MS)
    run_cell(page, 3)
    expect(printed).to_have_text("x.grad is None", timeout=STEP_TIMEOUT_MS)
    save_screenshot(page, "autodiff_magic_after_reset")
