"""examples/tour.ipynb runs top to bottom in a real kernel (nbclient) and prints the
gradients the book gives; the committed file carries no outputs."""

import os

import nbformat
import pytest
from nbclient import NotebookClient

from tests.fixtures.paths import TOUR, kernel_pythonpath

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed_tour(tmp_path_factory):
    notebook = nbformat.read(TOUR, as_version=4)
    environment = os.environ.copy()
    # The kernel imports this checkout's dezero_widget even where it is not pip-installed.
    os.environ["PYTHONPATH"] = kernel_pythonpath()
    try:
        client = NotebookClient(
            notebook,
            kernel_name="python3",
            timeout=120,
            resources={"metadata": {"path": str(tmp_path_factory.mktemp("tour"))}},
        )
        client.execute()  # raises CellExecutionError on the first failing cell
    finally:
        os.environ.clear()
        os.environ.update(environment)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def printed(cell):
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def widgets_shown(cell):
    return sum(WIDGET_VIEW in output.get("data", {}) for output in cell.outputs)


def cell_starting_with(cells, first_line):
    (found,) = [cell for cell in cells if cell.source.startswith(first_line)]
    return found


def test_the_committed_tour_has_no_outputs():
    notebook = nbformat.read(TOUR, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:40]


def test_the_tour_runs_and_shows_the_seed_gradients(executed_tour):
    cells = executed_tour
    assert not any(output.output_type == "error" for cell in cells for output in cell.outputs)

    seed = cell_starting_with(cells, "%%autodiff -o seed_graph")
    assert printed(seed) == "variable(3.0)\n" and widgets_shown(seed) == 1
    assert printed(cell_starting_with(cells, "y.backward()")) == "variable(6.0)\n"
    assert printed(cell_starting_with(cells, "seed_graph.reset()")) == "None\n"

    reused, cleared = [cell for cell in cells if "\ny = add(x, x)\n" in cell.source]
    assert printed(reused) == "variable(2.0)\nvariable(5.0)\n"
    assert printed(cleared) == "variable(2.0)\nvariable(3.0)\n"

    learners = cell_starting_with(cells, "%%autodiff\nx = Variable(np.array(3.0))\ny = my_add")
    assert printed(learners) == "3.0\n" and widgets_shown(learners) == 1

    assert widgets_shown(cell_starting_with(cells, "%%autodiff -b loss")) == 1
    training = cell_starting_with(cells, "%%autodiff\nlearning_rate")
    # One step drawn, nothing cut away; the loss fell over the 300 steps.
    assert widgets_shown(training) == 1 and "left out" not in printed(training)
    assert float(printed(training).removeprefix("loss after 300 steps: ")) < 0.45  # 0.496 after 5 steps
    assert widgets_shown(cell_starting_with(cells, "%autodiff loss")) == 1
    assert widgets_shown(cell_starting_with(cells, "show(loss")) == 1
