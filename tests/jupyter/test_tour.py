"""examples/tour.ipynb runs top to bottom in a real kernel (nbclient) and prints the
gradients the book gives; the committed file carries no outputs."""

import pytest

from tests.fixtures.notebooks import assert_committed_without_outputs, execute_example
from tests.fixtures.paths import TOUR

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def executed_tour(tmp_path_factory):
    notebook = execute_example(TOUR, tmp_path_factory.mktemp("tour"))
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def printed(cell):
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def widgets_shown(cell):
    return sum(WIDGET_VIEW in output.get("data", {}) for output in cell.outputs)


def cell_starting_with(cells, first_line):
    (found,) = [cell for cell in cells if cell.source.startswith(first_line)]
    return found


def test_the_committed_tour_has_no_outputs():
    assert_committed_without_outputs(TOUR)


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
