"""A notebook saved with widget state, reopened after the kernel that drew it is gone.

nbclient runs the seed graph and a later y.backward(), then stops its kernel, so the
saved state holds x.grad = 6 and nobody is left to answer the widget. Reopened in
JupyterLab or Notebook 7, the graph is drawn from that saved state, with the controls
disabled and a note that the kernel is not connected.

Two things the browser needs that nbclient does not give:
* a signature: Lab renders widget outputs only for trusted notebooks, and a notebook
  saved from Lab is signed with the server's secret, so the test signs it the same way;
* a kernel: jupyterlab_widgets 3.0.17 loads saved state only after asking a kernel for
  its live widgets (``restoreWidgets`` throws "Kernel not set" before reading the
  notebook), so with "No Kernel" the output stays at "Loading widget...". The kernel
  that starts on open is a fresh one that never saw the widget; the no-kernel case is
  kept as a strict xfail so an upstream fix shows up here.
"""

import copy
import json

import nbformat
import pytest
from nbformat.sign import NotebookNotary
from playwright.sync_api import expect

from tests.fixtures import dom
from tests.fixtures.notebooks import PYTHON3_KERNELSPEC, execute_saving_widget_state
from tests.fixtures.seed import SEED_NOTEBOOK

OPEN_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000
# Longer than the front end's 4 s wait for the kernel's welcome.
CONNECTION_NOTE_TIMEOUT_MS = 15_000

NOTEBOOK_TRACKER = "@jupyterlab/notebook-extension:tracker"


@pytest.fixture(scope="module")
def executed_notebook(tmp_path_factory):
    """The seed notebook run by nbclient with widget state stored; its kernel is shut down after."""
    return execute_saving_widget_state(SEED_NOTEBOOK, tmp_path_factory.mktemp("ipython"))


def save_as_lab_would(jupyter, notebook, name: str) -> str:
    """Write the notebook into the server's directory, signed with the server's secret
    (JUPYTER_DATA_DIR of the ``jupyter`` fixture), as Lab signs a notebook it saves."""
    NotebookNotary(data_dir=str(jupyter.root_dir.parent / "data")).sign(notebook)
    nbformat.write(notebook, jupyter.root_dir / name)
    return name


@pytest.fixture
def kernel_dialog_on_open(jupyter):
    """Lab asks which kernel to start instead of starting the default one; restored after,
    since the server is shared with the other browser tests."""
    before = jupyter.lab_settings(NOTEBOOK_TRACKER)
    jupyter.lab_settings(NOTEBOOK_TRACKER, json.dumps({"autoStartDefaultKernel": False}))
    yield
    jupyter.lab_settings(NOTEBOOK_TRACKER, before)


def expect_saved_graph(page, timeout_ms: int = OPEN_TIMEOUT_MS):
    """The last saved graph, drawn with the controls off and the kernel note showing."""
    graph = dom.graphs(page)
    x_node = graph.locator(dom.variable("x"))
    expect(x_node.locator(dom.GRAD)).to_have_text("6.0", timeout=timeout_ms)
    expect(x_node.locator(dom.DATA)).to_have_text("3.0")
    expect(graph).to_have_attribute("data-state", "ready")
    expect(graph.locator(dom.variable())).to_have_count(3)
    expect(graph.locator(dom.function("Add"))).to_have_count(2)
    expect(graph.locator(dom.role("connection"))).to_have_text(
        "No kernel is answering (it is gone, or busy): the graph shows the last values it sent; "
        "controls are disabled until it answers.",
        timeout=CONNECTION_NOTE_TIMEOUT_MS,
    )
    expect(graph.locator(dom.action("reset"))).to_be_disabled()
    expect(graph.locator(dom.action("backward"))).to_be_disabled()


@pytest.mark.parametrize("ui", ["lab", "notebook"])
def test_saved_graph_shows_after_its_kernel_is_gone(
    ui, jupyter, executed_notebook, notebook_page, save_screenshot
):
    page = notebook_page
    notebook = copy.deepcopy(executed_notebook)
    notebook.metadata["kernelspec"] = dict(PYTHON3_KERNELSPEC)
    name = save_as_lab_would(jupyter, notebook, f"saved_state_{ui}.ipynb")

    page.goto(jupyter.url(ui, name))
    jupyter.wait_for_idle_kernel(name)  # a new kernel: it has never heard of the widget
    expect_saved_graph(page)
    save_screenshot(page, f"saved_state_{ui}")


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="jupyterlab_widgets 3.0.17 reads saved widget state only when a kernel is running",
)
def test_saved_graph_shows_with_no_kernel(jupyter, executed_notebook, kernel_dialog_on_open, notebook_page):
    page = notebook_page
    notebook = copy.deepcopy(executed_notebook)
    # No kernel name or language to match, so Lab asks instead of starting one.
    notebook.metadata.pop("kernelspec", None)
    notebook.metadata.pop("language_info", None)
    name = save_as_lab_would(jupyter, notebook, "saved_state_no_kernel.ipynb")

    page.goto(jupyter.url("lab", name))
    page.locator(".jp-Dialog").get_by_role("button", name="No Kernel").click(timeout=OPEN_TIMEOUT_MS)
    page.locator(".jp-Notebook .jp-OutputArea-output").first.wait_for(timeout=STEP_TIMEOUT_MS)
    # Set-up checks fail the test outright (not AssertionError, so not the expected failure).
    if any(session.get("kernel") for session in jupyter.api("GET", "sessions")):
        pytest.fail("a kernel started although 'No Kernel' was chosen")
    expect_saved_graph(page, timeout_ms=8_000)  # the graph never comes; no need to wait long
