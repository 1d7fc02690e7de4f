"""The live widget in a real JupyterLab and Notebook 7, in headless Chromium.

One notebook, run cell by cell: the seed graph shows x.grad = 3; a later cell's
y.backward() turns it into 6 without touching the widget's cell; Reset clears every
grad (and the kernel agrees); Backward gives 3 again; a click opens the inspector, the wheel
zooms and Fit restores the view; SVG and PNG export download real files.
Screenshots go to test-artifacts/
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.seed import BACKWARD_AGAIN, SEED_CELL, SEED_IMPORTS_WITH_SHOW

# Generous: the first cell starts a kernel, imports numpy and loads the widget bundle.
FIRST_RENDER_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000

CELLS = [
    f"{SEED_IMPORTS_WITH_SHOW}\n\n{SEED_CELL}\nshow(y, names=globals())",
    BACKWARD_AGAIN,
    "print('x.grad is', x.grad)",
]


def node_position(node):
    """Where the layout put a node: the centre of its ellipse."""
    return node.evaluate(
        "g => [g.firstElementChild.getAttribute('cx'), g.firstElementChild.getAttribute('cy')]"
    )


@pytest.mark.parametrize("ui", ["lab", "notebook"])
def test_live_widget_round_trip(ui, jupyter, notebook_page, run_cell, save_screenshot):
    page = notebook_page
    jupyter.open_notebook(page, f"live_widget_{ui}.ipynb", CELLS, ui=ui, timeout_ms=STEP_TIMEOUT_MS * 3)

    graph = dom.graphs(page)
    variables = graph.locator(dom.variable())
    x_node = graph.locator(dom.variable("x"))
    x_grad = x_node.locator(dom.GRAD)
    all_grads = variables.locator(dom.GRAD)
    status = graph.locator(dom.role("status"))
    printed = dom.cell_output(page, 2)

    # The seed graph: x -> Add -> Add -> y, x.grad = 3.
    run_cell(page, 0)
    expect(x_grad).to_have_text("3.0", timeout=FIRST_RENDER_TIMEOUT_MS)
    expect(graph).to_have_attribute("data-state", "ready")
    expect(variables).to_have_count(3)
    expect(graph.locator(dom.function("Add"))).to_have_count(2)
    expect(graph.locator(dom.variable("y"))).to_have_count(1)
    position = node_position(x_node)

    # A later cell: the widget's cell is not re-run, yet it shows the accumulated grad.
    run_cell(page, 1)
    expect(x_grad).to_have_text("6.0", timeout=STEP_TIMEOUT_MS)
    assert node_position(x_node) == position  # values changed, the layout did not
    run_cell(page, 2)
    expect(printed).to_have_text("x.grad is variable(6.0)", timeout=STEP_TIMEOUT_MS)

    # Reset: every grad None in the drawing, and in the kernel.
    graph.locator(dom.action("reset")).click()
    expect(all_grads).to_have_text(["None"] * 3, timeout=STEP_TIMEOUT_MS)
    expect(status).to_have_text("Cleared the grads of 3 variables.")
    run_cell(page, 2)
    expect(printed).to_have_text("x.grad is None", timeout=STEP_TIMEOUT_MS)

    # Backward from the widget: 3 again, intermediates kept so they show too.
    graph.locator(dom.action("backward")).click()
    expect(x_grad).to_have_text("3.0", timeout=STEP_TIMEOUT_MS)
    expect(dom.grad(graph, "y")).to_have_text("1.0")
    expect(status).to_have_text("Ran backward() from y.")
    assert node_position(x_node) == position

    # Inspect x: its full summary and where it came from.
    x_node.click()
    inspector = graph.locator(dom.role("inspector"))
    expect(inspector).to_be_visible()
    expect(inspector).to_contain_text("Variable x")
    expect(inspector).to_contain_text("float64")
    expect(inspector).to_contain_text("input")
    # Zoom with the wheel, then Fit brings the whole graph back.
    canvas = graph.locator("svg").first
    view = canvas.locator("g").first
    fitted = view.get_attribute("transform")
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    expect(view).not_to_have_attribute("transform", fitted)
    graph.locator(dom.action("fit")).click()
    expect(view).to_have_attribute("transform", fitted)

    # Export: the drawing as a standalone SVG and as a PNG, downloaded by the browser.
    with page.expect_download() as svg_download:
        graph.locator(dom.action("export-svg")).click()
    svg_text = Path(svg_download.value.path()).read_text()
    assert svg_text.lstrip().startswith("<svg") and 'xmlns="http://www.w3.org/2000/svg"' in svg_text
    assert ">x<" in svg_text and ">3.0<" in svg_text  # x's label and its grad, as text
    with page.expect_download() as png_download:
        graph.locator(dom.action("export-png")).click()
    assert Path(png_download.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    save_screenshot(page, f"live_widget_{ui}")
