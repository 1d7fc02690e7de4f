"""%load_ext and %%autodiff in a real JupyterLab, in headless Chromium: the magic's
widget shows the seed's graph with every grad, a later y.backward() cell updates it,
and Reset clears every grad in the drawing and in the kernel."""

from playwright.sync_api import expect

pytest_plugins = ["jupyter_server_fixture"]  # also marks this test "browser"

FIRST_RENDER_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000

CELLS = [
    "%load_ext dezero_widget\n"
    "import numpy as np\n"
    "from dezero_widget import Variable\n"
    "from dezero_widget.functions import add",
    "%%autodiff\nx = Variable(np.array(3.0))\ny = add(add(x, x), x)\ny.backward()",
    "y.backward()",
    "print('x.grad is', x.grad)",
]


def test_autodiff_magic_in_jupyterlab(jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    notebook = jupyter.write_notebook("autodiff_magic.ipynb", CELLS)
    page.goto(jupyter.url("lab", notebook))
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(len(CELLS), timeout=STEP_TIMEOUT_MS * 3)
    jupyter.wait_for_idle_kernel(notebook)

    graph = page.get_by_test_id("autodiff-graph")
    variables = graph.locator('[data-node-kind="variable"]')
    x_grad = graph.locator('[data-node-kind="variable"][data-node-name="x"] [data-role="grad"]')
    y_grad = graph.locator('[data-node-kind="variable"][data-node-name="y"] [data-role="grad"]')
    unnamed_grad = graph.locator(
        '[data-node-kind="variable"]:not([data-node-name="x"]):not([data-node-name="y"]) [data-role="grad"]'
    )
    printed = page.locator(".jp-Notebook .jp-Cell").nth(3).locator(".jp-OutputArea-output")

    run_cell(page, 0)
    run_cell(page, 1)
    expect(x_grad).to_have_text("3.0", timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(variables).to_have_count(3)
    expect(graph.locator('[data-node-kind="function"][data-op="Add"]')).to_have_count(2)
    # Inside %%autodiff, backward() keeps intermediate grads, so every variable shows one.
    expect(unnamed_grad).to_have_text("1.0")
    expect(y_grad).to_have_text("1.0")
    save_screenshot(page, "autodiff_magic_after_cell")

    # A later cell's backward() updates the magic's widget without re-running it.
    run_cell(page, 2)
    expect(x_grad).to_have_text("6.0", timeout=STEP_TIMEOUT_MS)

    graph.locator('[data-action="reset"]').click()
    expect(variables.locator('[data-role="grad"]')).to_have_text(["None"] * 3, timeout=STEP_TIMEOUT_MS)
    run_cell(page, 3)
    expect(printed).to_have_text("x.grad is None", timeout=STEP_TIMEOUT_MS)
    save_screenshot(page, "autodiff_magic_after_reset")
