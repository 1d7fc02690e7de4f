"""Layer boxes (issue 12.3): under ``core.watching`` a layer's call tags the functions it applies,
and ``trace`` turns the tags into ``snapshot["layers"]``; outside a watching block nothing is
tagged and ``Function.__call__`` does no extra work."""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pytest

import dezero_widget.functions as F
import dezero_widget.layers as L
from dezero_widget import core
from dezero_widget.layers import Layer, LayerCall
from dezero_widget.models import MLP, Model
from dezero_widget.trace import trace
from tests.fixtures.learner_classes import Step14Variable, step14_add


def spiral_step(model, watched=True):
    """One step of the book's spiral classifier (step 48): 30 points, 3 classes."""
    rng = np.random.default_rng(0)
    x = rng.random((30, 2))
    t = rng.integers(0, 3, 30)
    if not watched:
        return F.softmax_cross_entropy(model(x), t)
    with core.watching():
        return F.softmax_cross_entropy(model(x), t)


def describe(snapshot):
    """{box label: (layer, parent label, sorted member descriptions)}; a member is its op, or its
    label and role."""
    nodes = {node["id"]: node for node in snapshot["nodes"]}
    boxes = {box["id"]: box for box in snapshot.get("layers", [])}

    def member(node_id):
        node = nodes[node_id]
        return node.get("op") or f"{node['label'] or '?'}:{node['role']}"

    return {
        box["label"]: (
            box["layer"],
            boxes[box["parent"]]["label"] if "parent" in box else None,
            sorted(member(m) for m in box["members"]),
        )
        for box in boxes.values()
    }


def test_an_mlp_step_gets_a_box_per_layer_call_with_its_functions_and_parameters():
    model = MLP((10, 3))
    loss = spiral_step(model)
    snapshot = trace(loss, names={"model": model}).snapshot()
    assert describe(snapshot) == {
        "model": ("MLP", None, ["?:intermediate", "?:intermediate", "Sigmoid"]),
        "l0": ("Linear", "model", ["Linear", "W:param", "b:param"]),
        "l1": ("Linear", "model", ["Linear", "W:param", "b:param"]),
    }
    boxes = snapshot["layers"]
    # Outer boxes first; every node in one box at most; the data, labels and loss in none.
    assert boxes[0]["layer"] == "MLP"
    members = [m for box in boxes for m in box["members"]]
    assert len(members) == len(set(members)) == 9
    outside = sorted(
        node.get("op") or node["role"] for node in snapshot["nodes"] if node["id"] not in members
    )
    # x and t, the model's output, the loss and its function
    assert outside == ["SoftmaxCrossEntropy", "input", "input", "intermediate", "output"]
    assert len(snapshot["nodes"]) == 14
    # Each Linear box holds that layer's own parameters.
    nodes = {node["id"]: node for node in snapshot["nodes"]}
    graph = trace(loss)
    for box in boxes[1:]:
        layer = getattr(model, box["label"])
        params = {m for m in box["members"] if nodes[m].get("role") == "param"}
        assert params == {graph.id_of(layer.W), graph.id_of(layer.b)}
    # Without names the model's box is labelled with its class.
    assert describe(graph.snapshot())["MLP"][0] == "MLP"


def test_box_ids_are_stable_and_a_training_loop_keeps_its_structure():
    model = MLP((10, 3))
    first = trace(spiral_step(model))
    second = trace(spiral_step(model), like=first)
    third = trace(spiral_step(model))
    ids = [box["id"] for box in first.snapshot()["layers"]]
    assert all(box_id.startswith("l") for box_id in ids) and len(set(ids)) == 3
    assert [box["id"] for box in second.snapshot()["layers"]] == ids
    assert [box["id"] for box in third.snapshot()["layers"]] == ids  # the layers' own ids
    # Same structure: the node ids are taken over, members included.
    assert second.snapshot()["layers"] == first.snapshot()["layers"]
    # Another model: ids of its own, unless traced like a graph of the same structure.
    another = MLP((10, 3))
    assert {box["id"] for box in trace(spiral_step(another)).snapshot()["layers"]}.isdisjoint(ids)
    assert [box["id"] for box in trace(spiral_step(another), like=first).snapshot()["layers"]] == ids


def test_a_layer_called_again_gets_a_box_per_call_and_nesting_follows_the_calls():
    class TwoStep(Model):
        def __init__(self):
            super().__init__()
            self.rnn = L.RNN(4)
            self.fc = L.Linear(1)

        def forward(self, x):
            return self.fc(self.rnn(x))

    np.random.seed(0)
    model = TwoStep()
    with core.watching():
        y = model(np.ones((1, 1)))
        y = model(np.ones((1, 1)))
    snapshot = trace(y).snapshot()
    boxes = snapshot["layers"]
    by_id = {box["id"]: box for box in boxes}
    # The first call's output was not used: its fc call is not part of the graph of y.
    assert sorted(box["label"] for box in boxes) == sorted(
        ["TwoStep", "TwoStep", "rnn", "rnn", "fc", "x2h", "x2h", "h2h"]
    )
    for box in boxes:  # parents listed first, and the right ones
        if "parent" in box:
            assert list(by_id).index(box["parent"]) < list(by_id).index(box["id"])
        expected_parent = {"rnn": "TwoStep", "fc": "TwoStep", "x2h": "rnn", "h2h": "rnn", "TwoStep": None}
        parent = by_id[box["parent"]]["label"] if "parent" in box else None
        assert parent == expected_parent[box["label"]]
    repeated = [box["id"] for box in boxes if box["label"] == "rnn"]
    assert repeated[1] == f"{repeated[0]}-2"
    # The hidden state handed from the first call to the second is the first RNN call's output:
    # it sits in the model's box of the first call, not in an RNN box.
    members = {m for box in boxes for m in box["members"]}
    assert len(members) == sum(len(box["members"]) for box in boxes)


def test_arrays_a_layer_wraps_stay_outside_unless_made_inside():
    class Scale(Layer):
        def forward(self, x):
            return core.mul(x, 2.0)  # the engine wraps 2.0 into a constant made inside the layer

    x = np.ones((2, 2))
    with core.watching():
        y = Scale()(x)  # x is wrapped too: it is the call's input, so it stays outside
    snapshot = trace(y).snapshot()
    (box,) = snapshot["layers"]
    nodes = {node["id"]: node for node in snapshot["nodes"]}
    inside = sorted(nodes[m].get("op") or nodes[m]["data"]["preview"] for m in box["members"])
    assert inside == ["2.0", "Mul"]
    assert box["label"] == "Scale" and "parent" not in box


def test_a_layer_held_in_a_list_is_named_by_its_place():
    class Blocks(Model):
        def __init__(self):
            super().__init__()
            self.blocks = [L.Linear(2), L.Linear(2)]

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    with core.watching():
        y = Blocks()(np.ones((1, 2)))
    assert sorted(describe(trace(y).snapshot())) == ["Blocks", "blocks[0]", "blocks[1]"]


def test_a_truncated_graph_boxes_only_drawn_nodes():
    model = MLP((5, 5, 5, 5, 3))
    loss = spiral_step(model)
    snapshot = trace(loss, max_nodes=8).snapshot()
    drawn = {node["id"] for node in snapshot["nodes"]}
    assert snapshot["truncated"] and snapshot["layers"]
    for box in snapshot["layers"]:
        assert set(box["members"]) <= drawn


def test_outside_a_watching_block_nothing_is_tagged_and_there_are_no_boxes():
    model = MLP((10, 3))
    loss = spiral_step(model, watched=False)
    snapshot = trace(loss).snapshot()
    assert "layers" not in snapshot
    assert core._layer_call is None
    assert not any(hasattr(f, "_layer_call") for f in trace(loss).functions)
    # Nor for a learner's own classes, watched or not.
    with core.watching():
        x = Step14Variable(np.array(1.0))
        y = step14_add(x, x)
    assert "layers" not in trace(y).snapshot()
    # A failing forward leaves no layer call behind.
    with core.watching(), pytest.raises(ValueError):
        L.Linear(3, in_size=4)(np.ones((2, 5)))
    assert core._layer_call is None


def _lines_run(function, code):
    """The line numbers of ``code`` executed while ``function()`` runs."""
    lines = set()

    def tracer(frame, event, arg):
        if frame.f_code is code:
            if event == "line":
                lines.add(frame.f_lineno)
            return tracer
        return None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        function()
    finally:
        sys.settrace(previous)
    return lines


def test_function_call_does_no_layer_work_outside_a_watching_block():
    """Unwatched, Function.__call__ never reaches the tagging line, and no LayerCall is made: a
    layer's call costs one module-attribute read, its functions nothing."""
    code = core.Function.__call__.__code__
    source, first = inspect.getsourcelines(core.Function.__call__)
    (tag_line,) = [first + k for k, line in enumerate(source) if "self._layer_call = _layer_call" in line]
    (branch_line,) = [first + k for k, line in enumerate(source) if "if _watching_blocks:" in line]
    model = MLP((10, 3))
    spiral_step(model)  # the lazy weights are made

    made = []
    original_init = LayerCall.__init__

    def counting_init(self, *args):
        made.append(args)
        original_init(self, *args)

    LayerCall.__init__ = counting_init
    try:
        unwatched = _lines_run(lambda: spiral_step(model, watched=False), code)
        assert made == []
        watched = _lines_run(lambda: spiral_step(model), code)
        assert len(made) == 3  # the model's call and its two Linear layers'
    finally:
        LayerCall.__init__ = original_init
    assert branch_line in unwatched and tag_line not in unwatched
    assert tag_line in watched
