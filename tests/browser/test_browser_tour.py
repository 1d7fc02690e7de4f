"""The main job: the tour notebook, run with "Run All" in a real JupyterLab, in headless Chromium.

Every widget the tour displays must draw, with the values the tour's text promises, and no cell
may end in an error. The screenshot (test-artifacts/tour.png) is the tour as a learner sees it.
"""

from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.paths import TOUR

# Widgets the tour displays: six %%autodiff cells, %autodiff loss and show(loss).
WIDGETS = 8
RUN_ALL_TIMEOUT_MS = 120_000


def test_tour_runs_top_to_bottom_in_jupyterlab(jupyter, notebook_page, save_screenshot):
    page = notebook_page
    jupyter.open_example(page, TOUR)
    # Opening the tour and starting its kernel changes nothing in it (issue 10: it used to open
    # marked modified, its kernel's language_info differing from the saved one).
    expect(page.locator(".lm-TabBar-tab.jp-mod-current.jp-mod-dirty")).to_have_count(0)
    jupyter.run_all(page)

    graphs = dom.graphs(page)
    expect(graphs).to_have_count(WIDGETS, timeout=RUN_ALL_TIMEOUT_MS)
    for index in range(WIDGETS):
        expect(graphs.nth(index)).to_have_attribute("data-state", "ready", timeout=RUN_ALL_TIMEOUT_MS)
    # Run All finished: the last cell has its execution count and the kernel is idle again.
    last_prompt = page.locator(".jp-Notebook .jp-CodeCell").last.locator(".jp-InputPrompt")
    expect(last_prompt).not_to_have_text("[*]:", timeout=RUN_ALL_TIMEOUT_MS)
    jupyter.wait_for_idle_kernel(TOUR.name)

    expect(
        page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    ).to_have_count(0)
    expect(
        page.locator(".jp-OutputArea-output .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']")
    ).to_have_count(0)

    # The first widget is the seed graph; the tour then calls y.backward() again and
    # seed_graph.reset(), so after Run All its x shows None and the section-2 print said 6.0.
    seed = graphs.nth(0)
    expect(seed.locator(dom.variable())).to_have_count(3)
    expect(dom.grad(seed, "x")).to_have_text("None")
    outputs = page.locator(".jp-Notebook .jp-CodeCell .jp-OutputArea-output")
    expect(outputs.filter(has_text="variable(6.0)")).to_have_count(1)
    # The learner's own step-14 classes are graphed too: 3.0 for x used three times.
    learner = graphs.nth(3)
    expect(dom.grad(learner, "x")).to_have_text("3.0")
    # The MLP's loss graph names its parameters.
    mlp = graphs.nth(4)
    for name in ("W1", "b1", "W2", "b2", "loss"):
        expect(mlp.locator(dom.variable(name))).to_have_count(1)
    # The training loop shows one step, whole, and the loss of its 300 steps (200 points).
    training = graphs.nth(5)
    expect(training.locator(dom.role("truncated"))).to_be_hidden()
    expect(training.locator(dom.role("history"))).to_have_attribute("data-count", "200")
    for name in ("W1", "b1", "W2", "b2"):
        expect(training.locator(dom.variable(name))).to_have_count(1)

    save_screenshot(page, "tour")
