"""The widget in JupyterLab's dark theme: its colours come from the theme's --jp-* variables,
not from DeZero's light palette (checked on the computed styles, in headless Chromium)."""

import json

import pytest
from playwright.sync_api import expect

pytest_plugins = ["jupyter_server_fixture"]  # also marks this test "browser"

THEMES = "@jupyterlab/apputils-extension:themes"
CELLS = [
    "import numpy as np\n"
    "from dezero_widget import Variable, show\n"
    "from dezero_widget.functions import add\n"
    "x = Variable(np.array(3.0), name='x')\n"
    "y = add(add(x, x), x)\n"
    "y.backward()\n"
    "show(y)",
]


@pytest.fixture
def dark_theme(jupyter):
    """JupyterLab Dark for this test only: the server is shared with the other browser tests."""
    before = jupyter.lab_settings(THEMES)
    jupyter.lab_settings(THEMES, json.dumps({"theme": "JupyterLab Dark"}))
    yield
    jupyter.lab_settings(THEMES, before)


def test_dark_theme_colours_come_from_jupyterlab(
    dark_theme, jupyter, notebook_page, run_cell, save_screenshot
):
    page = notebook_page
    notebook = jupyter.write_notebook("dark_theme.ipynb", CELLS)
    page.goto(jupyter.url("lab", notebook))
    expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1, timeout=60_000)
    expect(page.locator(".jp-Notebook .jp-Cell")).to_have_count(1, timeout=60_000)
    jupyter.wait_for_idle_kernel(notebook)
    run_cell(page, 0)

    graph = page.get_by_test_id("autodiff-graph")
    x_node = graph.locator('[data-node-kind="variable"][data-node-name="x"]')
    expect(x_node.locator('[data-role="grad"]')).to_have_text("3.0", timeout=60_000)
    colours = x_node.locator("ellipse").evaluate(
        """ellipse => {
            const probe = document.createElement("div");
            probe.style.color = "var(--jp-layout-color2)";
            document.body.appendChild(probe);
            const theme = getComputedStyle(probe).color;
            probe.remove();
            return {fill: getComputedStyle(ellipse).fill, theme};
        }"""
    )
    assert colours["fill"] == colours["theme"]  # the theme's layer colour, not DeZero's orange
    assert colours["fill"] != "rgb(240, 160, 80)"
    function_fill = (
        graph.locator('[data-node-kind="function"]')
        .first.locator("rect")
        .evaluate("rect => getComputedStyle(rect).fill")
    )
    assert function_fill != "rgb(173, 216, 230)"  # not the light theme's light blue
    save_screenshot(page, "dark_theme_lab")
