"""examples/training.ipynb (issue 12.5) runs top to bottom in a real kernel (nbclient): the book's
spiral classifier trains under ``%%autodiff`` to the loss the book reaches, and the widgets it
shows carry the layer boxes, the loss history, Reset and Backward; ``model.plot`` draws the model
with its layers. The committed file carries no outputs."""

import re

import numpy as np
import pytest

from dezero_widget import core
from dezero_widget.models import MLP
from tests.fixtures.notebooks import assert_committed_without_outputs, execute_example
from tests.fixtures.paths import TRAINING

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# The book's run (300 epochs of 10 batches) ends at an average loss of about 0.13; it starts near
# ln 3 = 1.1 and is still 0.69 after 50 epochs.
FINAL_LOSS_BELOW = 0.2
STEPS = 300 * 10


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    return execute_example(TRAINING, tmp_path_factory.mktemp("training"), store_widget_state=True)


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def cell_starting_with(notebook, first_line):
    (found,) = [cell for cell in code_cells(notebook) if cell.source.startswith(first_line)]
    return found


def printed(cell):
    return "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")


def widget_states(notebook, cell):
    """The synced state of each widget the cell displayed."""
    states = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    views = [output["data"][WIDGET_VIEW] for output in cell.outputs if WIDGET_VIEW in output.get("data", {})]
    return [states[view["model_id"]]["state"] for view in views]


def layers_by_label(snapshot):
    nodes = {node["id"]: node for node in snapshot["nodes"]}
    return {
        box["label"]: (box["layer"], [nodes[member] for member in box["members"]])
        for box in snapshot.get("layers", [])
    }


def test_the_committed_notebook_has_no_outputs():
    assert_committed_without_outputs(TRAINING)


def test_the_spiral_classifier_trains_to_the_books_loss(executed):
    assert not any(output.output_type == "error" for cell in code_cells(executed) for output in cell.outputs)
    training = cell_starting_with(executed, "%%autodiff -o training")
    losses = [float(value) for value in re.findall(r"epoch \d+, loss ([0-9.]+)", printed(training))]
    assert len(losses) == 6, printed(training)
    assert losses[-1] < FINAL_LOSS_BELOW < losses[0]


def test_the_training_widget_shows_one_step_with_its_layers_and_the_loss_history(executed):
    training = cell_starting_with(executed, "%%autodiff -o training")
    (state,) = widget_states(executed, training)
    snapshot, history = state["snapshot"], state["history"]
    assert history["total"] == STEPS and len(history["values"]) == 200
    assert history["values"][0] > 1.0 > 0.3 > history["values"][-1]
    # One step: the model's box around its two Linear layers, each with its W and b.
    layers = layers_by_label(snapshot)
    assert sorted(layers) == ["l0", "l1", "model"]
    assert layers["model"][0] == "MLP"
    for name, shape in (("l0", [2, 10]), ("l1", [10, 3])):
        layer, members = layers[name]
        assert layer == "Linear"
        assert [node["op"] for node in members if node["kind"] == "function"] == ["Linear"]
        params = {node["label"]: node for node in members if node.get("role") == "param"}
        assert params["W"]["shape"] == shape
        # The grads of the last step, at the end of the cell (the last update came after them).
        assert params["W"]["grad"]["shape"] == shape and params["b"]["grad"] is not None
    assert len(snapshot["nodes"]) == 14 and not snapshot["truncated"]


def test_reset_and_backward_on_the_step(executed):
    assert printed(cell_starting_with(executed, "training.reset()")) == "None\n"
    assert printed(cell_starting_with(executed, "training.run_backward()")) == "(2, 10)\n"


def test_model_plot_draws_the_model_with_its_layers(executed):
    (state,) = widget_states(executed, cell_starting_with(executed, "model.plot(x)"))
    snapshot = state["snapshot"]
    layers = layers_by_label(snapshot)
    assert sorted(layers) == ["l0", "l1", "model"]  # the model's box is named as the notebook names it
    assert len(snapshot["nodes"]) == 11
    (output,) = snapshot["outputs"]
    assert output not in {node["id"] for _, members in layers.values() for node in members}


def test_model_plot_watches_only_its_own_call(monkeypatch):
    """plot() records the layers' calls inside a watching block of its own, and leaves the
    engine unwatched afterwards; inside a %%autodiff cell it keeps the cell's watchers."""
    import dezero_widget

    shown = []
    monkeypatch.setattr(dezero_widget, "show", lambda y, **options: shown.append(y) or y)
    model = MLP((4, 2))
    y = model.plot(np.ones((3, 2)))
    assert shown == [y] and y.creator._layer_call.layer is model.l1
    assert core._watching_blocks == 0 and core._layer_call is None
    applied = []
    with core.watching(on_apply=lambda function, outputs: applied.append(type(function).__name__)):
        model.plot(np.ones((3, 2)))
    assert applied == ["Linear", "Sigmoid", "Linear"]


def test_a_layer_bound_to_a_name_labels_its_box_and_is_never_a_root():
    from types import SimpleNamespace

    from dezero_widget.names import user_names, user_variables

    model = MLP((2,))
    x = np.ones((1, 2))
    shell = SimpleNamespace(user_ns={"model": model, "x": x, "MLP": MLP, "_": model}, user_ns_hidden={})
    assert user_names(shell) == {"model": model, "x": x}
    assert user_variables(shell) == {}
