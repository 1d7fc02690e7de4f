"""Property-based tests of trace on random protocol graphs: this package's engine and a
learner's step-14 and step-18 classes (strong or weak outputs, with or without generations)."""

import json

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dezero_widget import Variable
from dezero_widget.functions import add, mul
from dezero_widget.trace import trace
from tests.fixtures import learner_classes as learner

FAMILIES = {
    "engine": (lambda v: Variable(np.array(v)), add, mul),
    "step 14": (
        lambda v: learner.Step14VariableWithCleargrad(np.array(v)),
        learner.step14_add,
        learner.step14_add,
    ),
    "step 18": (lambda v: learner.Step18Variable(np.array(v)), learner.step18_add, learner.step18_mul),
}


@st.composite
def graphs(draw):
    family = draw(st.sampled_from(sorted(FAMILIES)))
    make, add_op, mul_op = FAMILIES[family]
    values = [make(float(v)) for v in draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3))]
    for _ in range(draw(st.integers(0, 12))):
        a, b = draw(st.sampled_from(values)), draw(st.sampled_from(values))
        values.append((add_op if draw(st.booleans()) else mul_op)(a, b))
    roots = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2))
    return family, values, roots


def reachable(roots):
    """Every variable and function upstream of roots, counted independently of trace.py."""
    seen, stack = set(), list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if hasattr(obj, "data"):
            if obj.creator is not None:
                stack.append(obj.creator)
        else:
            stack.extend(obj.inputs)
            stack.extend(y() if callable(y) and not hasattr(y, "data") else y for y in obj.outputs)
    return len(seen)


@settings(max_examples=150, deadline=None)
@given(graphs(), st.integers(1, 40))
def test_snapshots_are_consistent_bounded_and_stable(graph, max_nodes):
    _, _, roots = graph
    total = reachable(roots)
    snapshot = trace(*roots, max_nodes=max_nodes).snapshot()
    json.dumps(snapshot, allow_nan=False)
    ids = [node["id"] for node in snapshot["nodes"]]
    assert len(ids) == len(set(ids)) == min(total, max_nodes)
    assert snapshot["truncated"] == (total > max_nodes)
    if snapshot.get("omittedAtLeast"):  # counting stopped after 10 x max_nodes nodes
        assert 10 * max_nodes <= snapshot["omitted"] <= total - len(ids)
    else:
        assert snapshot["omitted"] == total - len(ids)
    drawn = set(ids)
    kinds = {node["id"]: node["kind"] for node in snapshot["nodes"]}
    for edge in snapshot["edges"]:
        assert {kinds[edge["source"]], kinds[edge["target"]]} == {"variable", "function"}
    for node in snapshot["nodes"]:
        assert node.get("creator", ids[0]) in drawn
    assert set(snapshot["outputs"]) <= drawn
    # The same graph traced again keeps every id and edge: the front end updates in place.
    again = trace(*roots, max_nodes=max_nodes).snapshot()
    assert [n["id"] for n in again["nodes"]] == ids and again["edges"] == snapshot["edges"]


class Generated(learner.Step14Function):
    """A learner function that keeps its inputs as a generator, or its outputs endless."""

    def forward(self, x):
        return x


def test_one_shot_or_endless_inputs_and_outputs_are_one_clear_error():
    import itertools

    import pytest

    x = learner.Step14Variable(np.array(1.0))
    y = Generated()(x)
    y.creator.inputs = (v for v in [x])
    with pytest.raises(
        TypeError, match=r"Generated\.inputs is a one-shot iterator \(generator\): store a list or tuple"
    ):
        trace(y)

    class Endless:
        def __iter__(self):
            return itertools.repeat(y)

    y.creator.inputs = [x]
    y.creator.outputs = Endless()
    with pytest.raises(ValueError, match=r"Generated\.outputs holds more than 10,000 items: is it endless\?"):
        trace(y)
