"""The widget in JupyterLab's dark theme: its colours come from the theme's --jp-* variables,
not from DeZero's light palette (checked on the computed styles, in headless Chromium)."""

import json

import pytest
from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.seed import SHOW_SEED_CELL

THEMES = "@jupyterlab/apputils-extension:themes"
CELLS = [SHOW_SEED_CELL]


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
    jupyter.open_notebook(page, "dark_theme.ipynb", CELLS)
    expect(page.locator("body[data-jp-theme-light='false']")).to_have_count(1, timeout=60_000)
    run_cell(page, 0)

    graph = dom.graphs(page)
    x_node = graph.locator(dom.variable("x"))
    expect(x_node.locator(dom.GRAD)).to_have_text("3.0", timeout=60_000)
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
        graph.locator(dom.function()).first.locator("rect").evaluate("rect => getComputedStyle(rect).fill")
    )
    assert function_fill != "rgb(173, 216, 230)"  # not the light theme's light blue
    save_screenshot(page, "dark_theme_lab")
